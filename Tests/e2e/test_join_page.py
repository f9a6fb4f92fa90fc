"""The join page as a student uses it: pick the team, copy the program, run it as-is.
Each snippet must connect through the Kafka gateway and read new_users."""

import subprocess
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from test_dashboard_browser import assert_no_console_errors, browser  # noqa: F401 (the fixture)


def test_the_join_pages_snippets_run_as_they_are_and_read_new_users(server, browser, tmp_path):
    browser.get(server.base + "/join.html")
    bootstrap = server.status()["kafka"]["bootstrap_servers"]
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "bootstrap").text == bootstrap)
    Select(browser.find_element(By.ID, "team")).select_by_visible_text("team-11")
    WebDriverWait(browser, 10).until(lambda d: "team-11 flags users where" in d.find_element(By.ID, "team-rule").text)
    programs = {}
    for client in ("kafka-python", "confluent-kafka"):
        browser.find_element(By.CSS_SELECTOR, f".tabs button[data-client='{client}']").click()
        text = browser.find_element(By.ID, "snippet").text
        assert f'TEAM_NAME = "team-11"' in text and f'BOOTSTRAP_SERVERS = "{bootstrap}"' in text, text
        path = tmp_path / f"{client}.py"
        path.write_text(text + "\n")
        programs[client] = subprocess.Popen([sys.executable, str(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    browser.find_element(By.CSS_SELECTOR, ".tabs button[data-client='java']").click()
    assert 'settings.put("group.id", "team-11");' in browser.find_element(By.ID, "snippet").text
    assert "No password needed" in browser.find_element(By.ID, "security").text
    for client, process in programs.items():
        try:
            output, _ = process.communicate(timeout=14)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        lines = output.splitlines()
        assert any(line.startswith(f"team-11 connected to {bootstrap}") for line in lines), (client, output[-2000:])
        # Users read from new_users (the generator makes ten a second): an e-mail each.
        assert sum("@" in line for line in lines) >= 3, (client, output[-2000:])
    assert_no_console_errors(browser)


def test_the_instructors_token_puts_each_teams_password_into_its_program(browser, tmp_path):
    """A secured class as Compose's secure profile sets it up: docker/scram-users.sh writes
    the passwords and the server's --config file; the join page shows a placeholder until
    the instructor's token fetches the teams' passwords, then each team's own."""
    import json
    import os
    import urllib.error
    import urllib.request

    from test_docker_files import dry_run, workshop_teams
    from test_process_lifecycle import start

    teams = workshop_teams()
    dry_run("scram-users.sh", "kafka-secure:9095", "streamsocial", *teams, SECRETS_DIR=str(tmp_path), CONFIG_DIR=str(tmp_path))
    config = json.loads((tmp_path / "streamsocial.json").read_text())
    assert config["team-credentials"] == str(tmp_path / "teams.csv")
    passwords = dict(row.split(",")[0::2] for row in (tmp_path / "teams.csv").read_text().splitlines()[1:])
    # The cluster itself is not needed for the page: nothing listens at 127.0.0.1:1.
    token = "instructor-secret"
    server = start(tmp_path, "secure", "--config", str(tmp_path / "streamsocial.json"), "--bootstrap-servers", "127.0.0.1:1",
                   "--admin-token", token)
    try:
        def credentials(headers):
            request = urllib.request.Request(server.base + "/api/admin/credentials", headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.status, response.headers, json.loads(response.read())
            except urllib.error.HTTPError as error:
                return error.code, error.headers, json.loads(error.read())

        assert credentials({})[0] == 401
        assert credentials({"Authorization": "Bearer wrong"})[0] == 401
        code, headers, body = credentials({"Authorization": f"Bearer {token}"})
        assert code == 200 and headers["Cache-Control"] == "no-store"
        assert body["configured"] is True and {entry["team"]: entry["password"] for entry in body["teams"]} == passwords

        browser.get(server.base + "/join.html?team=team-3")
        snippet = lambda: browser.find_element(By.ID, "snippet").text  # noqa: E731
        WebDriverWait(browser, 10).until(lambda d: 'TEAM_NAME = "team-3"' in snippet())
        assert 'sasl_mechanism="SCRAM-SHA-256"' in snippet() and "<your team's password, from the instructor>" in snippet()
        assert passwords["team-3"] not in browser.page_source
        assert "your instructor has its password" in browser.find_element(By.ID, "security").text
        assert_no_console_errors(browser)
        browser.find_element(By.CSS_SELECTOR, "#instructor summary").click()
        status = lambda: browser.find_element(By.ID, "token-status").text  # noqa: E731
        browser.find_element(By.ID, "token").send_keys("wrong")
        browser.find_element(By.CSS_SELECTOR, "#token-form button").click()
        WebDriverWait(browser, 10).until(lambda d: "not the instructor's token" in status())
        assert passwords["team-3"] not in browser.page_source
        # The refused request is the one error the browser logs.
        logged = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert len(logged) == 1 and "/api/admin/credentials" in logged[0] and "401" in logged[0], logged

        browser.find_element(By.ID, "token").clear()
        browser.find_element(By.ID, "token").send_keys(token)
        browser.find_element(By.CSS_SELECTOR, "#token-form button").click()
        WebDriverWait(browser, 10).until(lambda d: "Passwords filled in for 15 teams" in status())
        assert f'sasl_plain_password="{passwords["team-3"]}"' in snippet()
        assert "the program has team-3's password" in browser.find_element(By.ID, "security").text
        browser.find_element(By.CSS_SELECTOR, ".tabs button[data-client='java']").click()
        assert f'username=\\"team-3\\" password=\\"{passwords["team-3"]}\\";' in snippet(), snippet()
        Select(browser.find_element(By.ID, "team")).select_by_visible_text("team-4")
        WebDriverWait(browser, 10).until(lambda d: f'password=\\"{passwords["team-4"]}\\"' in snippet())
        assert passwords["team-3"] not in snippet()
        assert_no_console_errors(browser)
    finally:
        server.process.terminate()
        server.process.wait(timeout=20)


def test_a_credentials_file_naming_a_team_the_workshop_lacks_is_refused_at_start(tmp_path):
    from test_process_lifecycle import BINARY, ENV

    path = tmp_path / "teams.csv"
    path.write_text("team,username,password\nteam-1,team-1,abc\nteam-99,team-99,def\n")
    result = subprocess.run([BINARY, "serve", "--team-credentials", str(path), "--port", "0"], capture_output=True, text=True,
                            timeout=20, env=ENV)
    assert result.returncode != 0
    assert "line 3: team-99 is not a team of the workshop" in result.stdout + result.stderr
