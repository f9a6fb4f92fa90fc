"""The dashboard in a real browser (Chromium, driven by Selenium): it connects to the
WebSocket, shows posts made elsewhere live, and posts through its own form."""

import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

CHROMEDRIVER = shutil.which("chromedriver")


def assert_no_console_errors(browser):
    """No console errors (CSP violations, failed loads, exceptions) so far."""
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


@pytest.fixture
def browser():
    if CHROMEDRIVER is None:
        pytest.fail("chromedriver is missing: scripts/test.sh installs chromium-driver")
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def test_page_goes_live_and_shows_a_post_made_through_the_api(server, browser):
    browser.get(server.base + "/")
    wait = WebDriverWait(browser, 10)
    wait.until(EC.text_to_be_present_in_element((By.ID, "connection"), "live"))
    assert "embedded" in browser.find_element(By.ID, "kafka-mode").text
    assert server.status()["kafka"]["bootstrap_servers"] in browser.find_element(By.ID, "bootstrap").text

    status, body = server.post("browser-api", "seen live in the page")
    assert status == 201
    wait.until(EC.text_to_be_present_in_element((By.ID, "feed"), "seen live in the page"))
    item = browser.find_element(By.CSS_SELECTOR, "#feed li")
    assert "browser-api" in item.text
    assert f"partition {body['partition']}" in item.text
    # Chart.js came from /vendor and drew the partition chart.
    assert browser.execute_script("return typeof Chart") == "function"
    # No console errors (CSP violations, failed loads).
    assert_no_console_errors(browser)


def test_the_form_posts_and_reports_where_kafka_stored_it(server, browser):
    browser.get(server.base + "/")
    wait = WebDriverWait(browser, 10)
    wait.until(EC.text_to_be_present_in_element((By.ID, "connection"), "live"))
    browser.find_element(By.ID, "user-id").send_keys("form-user")
    browser.find_element(By.ID, "content").send_keys("typed in the form")
    browser.find_element(By.CSS_SELECTOR, "#post-form button").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "post-result"), "Stored by Kafka in partition"))
    wait.until(EC.text_to_be_present_in_element((By.ID, "feed"), "typed in the form"))

    # A rejected post shows the server's error message.
    browser.find_element(By.ID, "user-id").clear()
    browser.execute_script("document.getElementById('user-id').removeAttribute('pattern')")
    browser.find_element(By.ID, "user-id").send_keys("bad user")
    browser.find_element(By.ID, "content").send_keys("x")
    browser.find_element(By.CSS_SELECTOR, "#post-form button").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "post-result"), "user_id may contain only"))


def test_unkeyed_posts_show_up_as_ordering_violations_and_panels_fill_in(server, browser):
    browser.get(server.base + "/")
    wait = WebDriverWait(browser, 15)
    wait.until(EC.text_to_be_present_in_element((By.ID, "connection"), "live"))
    status, body = server.request("POST", "/api/send-messages", [
        {"user_id": "scatter", "content": f"unkeyed {i}", "key_strategy": "none"} for i in range(120)
    ])
    assert status == 200 and body["accepted"] == 120
    # The ordering panel reports violations with their kind, the partitions panel fills.
    wait.until(lambda d: d.execute_script("return document.querySelectorAll('#violations li').length") > 0)
    # The panel re-renders as snapshots arrive: read its items in one go. Each is a kind
    # and a sentence saying what arrived after what, and why.
    items = browser.execute_script(
        "return Array.from(document.querySelectorAll('#violations li')).map(li => [li.querySelector('strong').textContent, li.textContent])")
    kinds = {kind for kind, _ in items}
    assert kinds <= {"gap", "out of order", "duplicate"} and kinds
    import re
    for kind, text in items:
        if kind == "out of order":
            assert re.search(r"#\d+ from \S+ arrived after #\d+: ", text), text
            assert "read independently" in text or "one partition" in text, text
    # The feed marks posts that came in below a number already seen (one at least in the
    # fifty it shows, as violations happened).
    wait.until(lambda d: d.execute_script("return document.querySelectorAll('#feed li.late .late-note').length") > 0)
    assert "violations" in browser.find_element(By.ID, "ordering-status").text
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#partition-rows tr")) == 6)
    assert browser.find_element(By.ID, "balance").text != "–"
    wait.until(lambda d: d.find_element(By.ID, "total-lag").text != "–")
    assert_no_console_errors(browser)


def test_leaderboard_page_ranks_a_team_and_celebrates_its_unlock(server, browser):
    import json as _json
    from kafka import KafkaProducer
    browser.get(server.base + "/leaderboard.html")
    wait = WebDriverWait(browser, 15)
    wait.until(EC.text_to_be_present_in_element((By.ID, "connection"), "LIVE"))
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#rows tr")) == 15)
    bootstrap = server.status()["kafka"]["bootstrap_servers"].split(",")
    producer = KafkaProducer(bootstrap_servers=bootstrap, value_serializer=lambda v: _json.dumps(v).encode())
    producer.send("new_users", {"email": "browser@example.com", "name": "John Doe", "pack": "premium",
                                "avatar": "https://x.org/a.png", "time_zone": "America/Lima", "industry": "Retail",
                                "profession": "teacher", "field": "Arts", "user_agent": "Firefox",
                                "credit_card_number": "4111", "credit": 0, "premium": False})
    producer.send("actions", {"customer": "browser@example.com", "type": "BAN_CUSTOMER",
                              "reason": "SUSPICIOUS_NAME", "team": "team-14"})
    producer.flush()
    producer.close()
    wait.until(lambda d: "team-14" in d.find_element(By.ID, "unlocks").text)
    # The board re-renders as it changes: read the row's cells in one go.
    cells = browser.execute_script(
        "return Array.from(document.querySelectorAll('#rows tr[data-team=\"team-14\"] td'))"
        ".map(td => [td.className, td.textContent, td.getAttribute('aria-label')])")
    assert int(cells[2][1]) >= 20, cells
    # The First Load column (the second step) shows the step done.
    assert cells[4][0] == "step earned" and cells[4][2] == "First Load: done", cells
    assert "First Load" in browser.find_element(By.ID, "unlocks").text
    assert "groups observed by the gateway" in browser.find_element(By.ID, "inspection").text
    # The instructor starts a new session: the open page's unlock feed and scores clear.
    from conftest import ADMIN_TOKEN
    code, body = server.request("POST", "/api/admin/reset", b"", content_type="application/octet-stream",
                                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert code == 200 and body["session_started_at"] > 0, body
    wait.until(lambda d: "team-14" not in d.find_element(By.ID, "unlocks").text)
    wait.until(lambda d: d.execute_script(
        "return document.querySelector('#rows tr[data-team=\"team-14\"] td:nth-child(3)').textContent") == "0")
    assert_no_console_errors(browser)


def test_the_page_says_the_embedded_cluster_is_in_memory_and_the_instructor_injects_faults(server, browser):
    from conftest import ADMIN_TOKEN

    browser.get(server.base + "/")
    wait = WebDriverWait(browser, 10)
    wait.until(EC.text_to_be_present_in_element((By.ID, "kafka-note"), "in memory, lost on restart"))
    assert browser.find_element(By.ID, "kafka-note").is_displayed()

    browser.find_element(By.CSS_SELECTOR, "#faults-card summary").click()
    browser.find_element(By.ID, "faults-token").send_keys(ADMIN_TOKEN)
    browser.find_element(By.CSS_SELECTOR, "#faults-form button").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "faults-brokers"), "Broker 3: up"))
    try:
        browser.find_element(By.CSS_SELECTOR, "[data-broker='3'] button").click()
        wait.until(EC.text_to_be_present_in_element((By.ID, "faults-brokers"), "Broker 3: down"))
        code, status = server.request("GET", "/api/admin/faults", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert code == 200 and [b["up"] for b in status["brokers"]] == [True, True, False]
        browser.find_element(By.CSS_SELECTOR, "[data-broker='3'] button").click()
        wait.until(EC.text_to_be_present_in_element((By.ID, "faults-brokers"), "Broker 3: up"))
    finally:
        server.request("POST", "/api/admin/faults", {"action": "clear"}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert_no_console_errors(browser)

    browser.get(server.base + "/leaderboard.html")
    wait.until(EC.text_to_be_present_in_element((By.ID, "kafka-note"), "in memory, lost on restart"))
