"""A team's app as students write it (kafka-python 2.0.2, group id = team name) against the
server's embedded cluster: it consumes new_users, flags what its rule matches, publishes
team_stats keyed by team; the board validates it and awards achievements within 2 s."""

import json
import time

from kafka import KafkaConsumer, KafkaProducer


def board_row(server, team):
    code, board = server.request("GET", "/api/leaderboard")
    assert code == 200
    return next(row for row in board["teams"] if row["team"] == team)


def test_a_student_team_scores_within_two_seconds(server):
    bootstrap = server.status()["kafka"]["bootstrap_servers"].split(",")
    team = "team-15"  # pack is free
    consumer = KafkaConsumer("new_users", bootstrap_servers=bootstrap, group_id=team,
                             auto_offset_reset="earliest", enable_auto_commit=True,
                             value_deserializer=json.loads, consumer_timeout_ms=20000)
    producer = KafkaProducer(bootstrap_servers=bootstrap, value_serializer=lambda v: json.dumps(v).encode())
    flagged = []
    try:
        for record in consumer:  # the server's generator feeds new_users
            user = record.value
            if user.get("pack") == "free":
                producer.send("actions", {"customer": user["email"], "type": "CONTACT_CUSTOMER",
                                          "reason": "UPGRADE_FREE", "team": team})
                flagged.append(user["email"])
            if len(flagged) >= 3:
                break
        producer.send("team_stats", key=team.encode(), value={"team": team, "processed": 10, "flagged": len(flagged)})
        producer.flush()
        sent = time.time()
        consumer.commit()
    finally:
        consumer.close()
        producer.close()
    assert len(flagged) == 3, "the generator produced no user for team-15 within 20 s"

    deadline = sent + 2.0
    while time.time() < deadline:
        row = board_row(server, team)
        ids = {badge["id"] for badge in row["achievements"]}
        if row["valid"] >= 3 and {"first_load", "stats"} <= ids:
            break
        time.sleep(0.1)
    row = board_row(server, team)
    ids = {badge["id"] for badge in row["achievements"]}
    assert row["valid"] >= 3, row
    assert {"first_load", "stats"} <= ids, row
    # The team's group committed offsets: the board calls it connected (the embedded
    # cluster cannot describe groups; the gateway in front of it saw the group pass).
    deadline = time.time() + 5
    while time.time() < deadline and not board_row(server, team)["connected"]:
        time.sleep(0.2)
    assert board_row(server, team)["connected"]
    code, board = server.request("GET", "/api/leaderboard")
    assert board["group_inspection"].startswith("groups observed by the gateway")
