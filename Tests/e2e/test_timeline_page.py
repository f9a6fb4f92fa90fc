"""The timeline dashboard as a student uses it, in a real browser against the real
server: the post form, a user's timeline, the ordering lesson in words, honest numbers."""

import threading
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from test_dashboard_browser import assert_no_console_errors, browser  # noqa: F401 (the fixture)
from test_process_lifecycle import start


def open_dashboard(server, browser):
    browser.get(server.base + "/")
    WebDriverWait(browser, 15).until(EC.text_to_be_present_in_element((By.ID, "connection"), "live"))


def test_send_then_send_50_stores_51_posts(server, browser):
    """Send cleared the message and the burst then refused to go (the message field is
    required): the burst needs only a user."""
    open_dashboard(server, browser)
    user = f"burst{int(time.time() * 1000) % 1000000}"
    browser.find_element(By.ID, "user-id").send_keys(user)
    browser.find_element(By.ID, "content").send_keys("first")
    browser.find_element(By.CSS_SELECTOR, "#post-form button[type=submit]").click()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "post-result"), "Stored by Kafka"))
    assert browser.find_element(By.ID, "content").get_attribute("value") == ""
    browser.find_element(By.ID, "burst").click()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "post-result"), "50 stored"))
    deadline = time.time() + 10
    count = 0
    while time.time() < deadline and count != 51:
        code, body = server.request("GET", f"/api/timeline/{user}")
        count = body.get("post_count", 0) if code == 200 else 0
        time.sleep(0.2)
    assert count == 51


def test_a_post_with_html_shows_literally(server, browser):
    open_dashboard(server, browser)
    content = '<img src=x onerror="document.title=1"><b>bold</b>'
    assert server.post("htmlposter", content)[0] == 201
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "feed"), "<b>bold</b>"))
    assert browser.find_elements(By.CSS_SELECTOR, "#feed b, #feed img") == []
    assert browser.title != "1"


def test_a_users_timeline_opens_from_the_feed_and_marks_where_order_broke(server, browser):
    open_dashboard(server, browser)
    user = f"scatter{int(time.time() * 1000) % 1000000}"
    status, body = server.request("POST", "/api/send-messages", [
        {"user_id": user, "content": f"unkeyed {i}", "key_strategy": "none"} for i in range(40)])
    assert status == 200 and body["accepted"] == 40
    # The page shows a timeline as it is when the name is clicked, and the name shows
    # in the feed with the first post applied: wait until the server has read all 40
    # from their six partitions (on a loaded CI machine the click came first, and the
    # page showed fewer).
    deadline = time.monotonic() + 10
    while server.request("GET", f"/api/timeline/{user}")[1].get("post_count") != 40:
        assert time.monotonic() < deadline, "the server did not read the 40 posts back"
        time.sleep(0.05)
    # The feed changes as posts arrive: find and click the name in one step.
    click = "const b = [...document.querySelectorAll('#feed .user')].find(b => b.textContent === arguments[0]); if (b) b.click(); return !!b"
    WebDriverWait(browser, 10).until(lambda d: d.execute_script(click, user))
    WebDriverWait(browser, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#timeline li")) == 40)
    seqs = [int(s.text[1:]) for s in browser.find_elements(By.CSS_SELECTOR, "#timeline .seq")]
    assert len(seqs) == 40
    assert "40 posts" in browser.find_element(By.ID, "timeline-summary").text
    assert seqs == sorted(seqs)
    # Where a post sits on another partition than the one before it, the timeline marks
    # the break: their order is not guaranteed.
    rows = browser.execute_script(
        "return [...document.querySelectorAll('#timeline li')].map(li => [li.className, li.querySelector('.meta').textContent])")
    partitions = [int(meta.split(" ")[1]) for _, meta in rows]
    expected = [index for index in range(1, len(rows)) if partitions[index] != partitions[index - 1]]
    assert [index for index, (name, _) in enumerate(rows) if name == "break"] == expected, rows
    for index in expected:
        assert f"order break: partition {partitions[index - 1]} before" in rows[index][1], rows[index]
    assert_no_console_errors(browser)


def test_a_post_without_key_says_where_the_key_would_have_put_it(server, browser):
    open_dashboard(server, browser)
    browser.find_element(By.ID, "user-id").send_keys("keyless-lesson")
    browser.find_element(By.ID, "content").send_keys("where do I go?")
    Select(browser.find_element(By.ID, "key-strategy")).select_by_value("none")
    browser.find_element(By.CSS_SELECTOR, "#post-form button[type=submit]").click()
    WebDriverWait(browser, 10).until(EC.text_to_be_present_in_element((By.ID, "post-result"), "Keyed by user it would have gone to partition"))


def test_the_ordering_panels_checked_count_follows_the_api_under_steady_load(server, browser):
    """'checked' froze between violations (the panel was pushed only when one happened)."""
    open_dashboard(server, browser)
    stop = threading.Event()

    def load():
        index = 0
        while not stop.is_set():
            server.post(f"steady{index % 5}", f"steady {index}")
            index += 1
            time.sleep(0.05)

    worker = threading.Thread(target=load)
    worker.start()
    try:
        seen = []
        for _ in range(3):
            time.sleep(1)
            seen.append(int(browser.find_element(By.ID, "checked").text))
        assert seen[0] < seen[1] < seen[2], seen
    finally:
        stop.set()
        worker.join()
    checked = server.request("GET", "/api/ordering")[1]["counters"]["checked"]
    WebDriverWait(browser, 1, poll_frequency=0.05).until(lambda d: int(d.find_element(By.ID, "checked").text) == checked)


def test_the_dashboard_says_kafka_is_unreachable_in_words(tmp_path, browser):
    own = start(tmp_path, "dash-no-kafka", "--bootstrap-servers", "127.0.0.1:1", "--stop-timeout", "5")
    try:
        browser.get(own.base + "/")
        WebDriverWait(browser, 20).until(EC.text_to_be_present_in_element((By.ID, "connection"), "Kafka unreachable: "))
        assert "pill-off" in browser.find_element(By.ID, "connection").get_attribute("class")
        assert browser.find_element(By.ID, "kafka-raw").is_displayed()
        # Numbers not measured say so: no messages, no balance.
        assert browser.find_element(By.ID, "balance").text == "–"
    finally:
        own.process.terminate()
        own.process.wait(timeout=20)


def test_the_compaction_lesson_counts_records_per_key_against_the_one_kept(server, browser):
    """Step 5's question, answered live: what would a new consumer see?"""
    from kafka import KafkaProducer
    open_dashboard(server, browser)
    producer = KafkaProducer(bootstrap_servers=server.status()["kafka"]["bootstrap_servers"])
    for processed in range(1, 6):
        producer.send("team_stats", key=b"team-8", value=bytes(f'{{"team": "team-8", "processed": {processed * 10}, "flagged": {processed}}}', "utf-8")).get(timeout=10)
    producer.close()

    def row():
        return browser.execute_script(
            "const r = [...document.querySelectorAll('#compaction-rows tr')].find(r => r.cells[0].textContent === 'team-8');"
            "return r ? [...r.cells].map(c => c.textContent) : null")

    WebDriverWait(browser, 10).until(lambda d: (row() or [None, None])[1] == "5")
    assert row() == ["team-8", "5", "team-8: processed 50, flagged 5"], row()
    answer = browser.find_element(By.ID, "compaction-answer").text
    assert answer.startswith("What would a new consumer see"), answer
    assert "the latest per key" in answer
