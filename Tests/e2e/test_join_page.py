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
