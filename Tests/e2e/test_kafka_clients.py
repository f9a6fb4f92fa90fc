"""The server's Kafka placement and records, checked with kafka-python 2.0.2: an
independent murmur2 implementation and a student-style client."""

import json

from kafka import KafkaConsumer, TopicPartition
from kafka.partitioner.default import murmur2

PARTITIONS = 6


def java_partition(key: str) -> int:
    # kafka-python's DefaultPartitioner, which matches the Java client.
    return (murmur2(key.encode()) & 0x7FFFFFFF) % PARTITIONS


def test_every_key_lands_where_murmur2_says(server):
    users = [f"user-{i}" for i in range(60)] + ["alice", "bob", "carol", "x@y.org", "A.B_c-d"]
    mismatches = []
    for user in users:
        status, body = server.post(user, f"hello from {user}")
        assert status == 201, body
        if body["partition"] != java_partition(user):
            mismatches.append((user, body["partition"], java_partition(user)))
    assert mismatches == []


def test_a_student_client_reads_the_posts_from_the_embedded_cluster(server):
    status, body = server.post("student-check", "read me with kafka-python")
    assert status == 201
    bootstrap = server.status()["kafka"]["bootstrap_servers"].split(",")
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=10000)
    try:
        partition = TopicPartition("user-timeline", body["partition"])
        consumer.assign([partition])
        consumer.seek(partition, body["offset"])
        record = next(iter(consumer))
    finally:
        consumer.close()
    assert record.key == b"student-check"
    assert record.offset == body["offset"]
    value = json.loads(record.value)
    assert value["user_id"] == "student-check"
    assert value["content"] == "read me with kafka-python"
    assert value["ts"] == body["timestamp"]


def test_each_users_timeline_lives_in_the_partition_a_java_client_would_pick(server):
    users = [f"tl-{i}" for i in range(12)]
    for round_ in range(3):
        for user in users:
            status, body = server.post(user, f"round {round_}")
            assert status == 201, body
    import time
    deadline = time.time() + 15
    while time.time() < deadline:
        code, listing = server.request("GET", "/api/users?limit=1000&sort=user")
        rows = {row["user_id"]: row for row in listing["users"] if row["user_id"] in users}
        if len(rows) == len(users) and all(row["post_count"] == 3 for row in rows.values()):
            break
        time.sleep(0.2)
    assert {user: rows[user]["partitions"] for user in users} == {user: [java_partition(user)] for user in users}
    code, timeline = server.request("GET", f"/api/timeline/{users[0]}")
    assert code == 200
    assert timeline["key_partition"] == java_partition(users[0])
    assert [post["seq"] for post in timeline["posts"]] == [3, 2, 1]
