"""What a team's mistakes teach, as the board shows them to a class: students written
the way the tutorial's step 5 pages show (kafka-python 2.0.2, `bytes(json.dumps(...),
"utf-8")` values), through the gateway, against the real server."""

import json
import time

import pytest
from kafka import KafkaProducer
from kafka.errors import KafkaError


def row_of(server, team):
    board = server.request("GET", "/api/leaderboard")[1]
    return next(row for row in board["teams"] if row["team"] == team)


def wait_for_signal(server, team, kind, seconds=15, saying=""):
    """The team's first `kind` signal whose sentence contains `saying`. The board applies
    what the gateway refused every 250 ms, so a signal can show before the last refusal
    is counted: wait for the state asserted, not only for the signal."""
    deadline = time.time() + seconds
    row = row_of(server, team)
    while time.time() < deadline:
        row = row_of(server, team)
        signal = next((s for s in row.get("signals", []) if s["kind"] == kind and saying in s["sentence"]), None)
        if signal:
            return signal, row
        time.sleep(0.3)
    raise AssertionError(f"no {kind} signal saying {saying!r} for {team}: {row}")


def stats(team, processed, flagged):
    return bytes(json.dumps({"team": team, "processed": processed, "flagged": flagged}), "utf-8")


def test_a_team_that_forgets_the_key_gets_the_brokers_error_and_sees_it_on_its_row(server):
    """Step 5 without `key=`: Apache Kafka refuses a record without a key on a compacted
    topic, and so does the gateway, so the student's `send(...).get()` fails; the record
    never reaches `team_stats`, and the board shows the team its missing key."""
    team = "team-12"
    bootstrap = server.status()["kafka"]["bootstrap_servers"]
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    try:
        with pytest.raises(KafkaError):
            producer.send("team_stats", value=stats(team, 10, 2)).get(timeout=15)
        # The same record with the key is taken.
        producer.send("team_stats", key=team.encode("utf-8"), value=stats(team, 11, 2)).get(timeout=15)
        # And forgotten again: the row shows it while the latest attempt has no key.
        with pytest.raises(KafkaError):
            producer.send("team_stats", value=stats(team, 12, 2)).get(timeout=15)
    finally:
        producer.close()
    signal, row = wait_for_signal(server, team, "missing_key", saying="The gateway refused 2")
    assert signal["topic"] == "team_stats"
    assert signal["question"] == "What happens if you send a stats message without a key?"
    assert signal["sentence"].startswith("2 team_stats records had no key"), signal
    # Only the keyed record reached the topic (the board reads it a moment later; the
    # refusals came straight from the gateway). The latest attempt, by timestamp, had no
    # key, whichever arrived first.
    deadline = time.time() + 15
    detail = server.request("GET", "/api/teams/" + team)[1]
    while detail["team_stats"]["records"] < 1 and time.time() < deadline:
        time.sleep(0.3)
        detail = server.request("GET", "/api/teams/" + team)[1]
    assert detail["team_stats"]["records"] == 1, detail["team_stats"]
    assert detail["team_stats"]["refused"] == 2, detail["team_stats"]
    assert detail["team_stats"]["last_key"] == "missing", detail["team_stats"]
    assert "missing_key" in {s["kind"] for s in detail["standing"]["signals"]}


def test_two_instances_sharing_a_key_get_the_writer_conflict_signal(server):
    """Two laptops run the same step-5 code with the same team name: each publishes its
    own counters under the team's key, so `processed` under that key jumps between them,
    and the compacted topic keeps whichever wrote last (the tutorial's question 1)."""
    team = "team-13"
    bootstrap = server.status()["kafka"]["bootstrap_servers"]
    laptops = [KafkaProducer(bootstrap_servers=bootstrap, client_id=f"laptop-{n}") for n in (1, 2)]
    try:
        for step in range(6):
            laptops[0].send("team_stats", key=team.encode("utf-8"), value=stats(team, 200 + step, 20 + step)).get(timeout=15)
            laptops[1].send("team_stats", key=team.encode("utf-8"), value=stats(team, 30 + step, 3 + step)).get(timeout=15)
    finally:
        for laptop in laptops:
            laptop.close()
    signal, row = wait_for_signal(server, team, "writer_conflict")
    assert signal["topic"] == "team_stats"
    assert signal["question"] == "What happens if two team members run the same code with the same team name?"
    assert "two instances share the key" in signal["sentence"]
    # The keys were right: no key signal beside it.
    assert not {s["kind"] for s in row["signals"]} & {"missing_key", "wrong_key"}, row["signals"]
