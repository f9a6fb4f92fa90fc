"""The Kafka gateway as a class meets it: hostile bytes on the Kafka port close that
connection only, and the server (whose embedded cluster trusts what it reads) stays up."""

import socket
import struct

from kafka import KafkaProducer


def gateway_address(server):
    host, port = server.status()["kafka"]["bootstrap_servers"].split(",")[0].rsplit(":", 1)
    return host, int(port)


def request(api_key: int, version: int, body: bytes, client_id: bytes = b"e2e") -> bytes:
    header = struct.pack(">hhih", api_key, version, 7, len(client_id)) + client_id
    return struct.pack(">i", len(header) + len(body)) + header + body


def closed_after(address, frame: bytes) -> bool:
    with socket.create_connection(address, timeout=5) as connection:
        connection.sendall(frame)
        connection.settimeout(5)
        try:
            return connection.recv(100) == b""
        except ConnectionResetError:
            return True


def string(text: str) -> bytes:
    return struct.pack(">h", len(text)) + text.encode()


def test_forged_counts_close_the_connection_and_the_server_lives_on(server):
    address = gateway_address(server)
    # These two frames each aborted the whole server before the gateway checked layouts:
    # the embedded cluster allocates what a count claims.
    metadata = request(3, 1, struct.pack(">i", 0x7FFFFFFF))
    join = request(11, 1, string("team-1") + struct.pack(">ii", 6000, 30000) + string("") + string("consumer") + struct.pack(">i", -1))
    garbage = b"\x00\x00\x00\x10" + b"\xff" * 16
    for frame in (metadata, join, garbage, struct.pack(">i", -5), struct.pack(">i", 200 * 1024 * 1024)):
        assert closed_after(address, frame)
    assert server.request("GET", "/healthz")[0] == 200
    producer = KafkaProducer(bootstrap_servers=f"{address[0]}:{address[1]}")
    producer.send("new_users", b'{"email":"after@hostile.example"}').get(timeout=10)
    producer.close()


INSTANCE = """
import sys, time
from kafka import KafkaConsumer
consumer = KafkaConsumer("new_users", bootstrap_servers=sys.argv[1], group_id=sys.argv[2], client_id=sys.argv[3],
                         session_timeout_ms=6000, heartbeat_interval_ms=1000, auto_offset_reset="earliest")
print("up", flush=True)
while True:
    consumer.poll(timeout_ms=500)
"""


def board_row(server, team):
    board = server.request("GET", "/api/leaderboard")[1]
    return next(row for row in board["teams"] if row["team"] == team), board


def test_a_team_scaled_to_two_laptops_is_seen_and_a_dead_one_leaves(server, tmp_path):
    """Step 4 of the tutorial with kafka-python: two instances of the team's app. The
    gateway sees the group, so the board shows both with their partitions and awards
    Scaled; an instance killed without leaving is gone once its session (6 s) expired."""
    import subprocess
    import sys
    import time

    bootstrap = server.status()["kafka"]["bootstrap_servers"]
    team = "team-7"
    script = tmp_path / "instance.py"
    script.write_text(INSTANCE)
    instances = [subprocess.Popen([sys.executable, str(script), bootstrap, team, f"laptop-{n}"], stdout=subprocess.PIPE)
                 for n in (1, 2)]
    try:
        deadline = time.time() + 40
        row, board = board_row(server, team)
        while time.time() < deadline:
            row, board = board_row(server, team)
            partitions = sorted(p for member in (row.get("member_partitions") or []) for p in member)
            if row.get("members") == 2 and partitions == [0, 1, 2, 3, 4]:
                break
            time.sleep(0.5)
        assert row.get("members") == 2, row
        # Both apps still run: the embedded coordinator answers a follower's SyncGroup
        # that comes after the leader's with INVALID_REQUEST, which kills a kafka-python
        # consumer; the gateway answers it as Apache Kafka does (docs/GATEWAY.md).
        assert [instance.poll() for instance in instances] == [None, None]
        assert sorted(p for member in row["member_partitions"] for p in member) == [0, 1, 2, 3, 4]
        assert "scaled" in {badge["id"] for badge in row["achievements"]}
        assert board["group_inspection"].startswith("groups observed by the gateway")

        instances[1].kill()  # no LeaveGroup: the member must time out
        killed = time.time()
        while time.time() < killed + 30:
            row, _ = board_row(server, team)
            if row.get("members") == 1:
                break
            time.sleep(0.5)
        assert row.get("members") == 1, row
        assert time.time() - killed >= 5, "gone before its 6 s session timed out"
    finally:
        for instance in instances:
            instance.kill()
            instance.wait()


NAMESPACED_TEAM_APP = """
import json, sys, time
from kafka import KafkaConsumer, KafkaProducer
bootstrap, instance, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
team = "team-15"  # its rule: pack is free
producer = KafkaProducer(bootstrap_servers=bootstrap, value_serializer=lambda v: bytes(json.dumps(v), "utf-8"))
consumer = KafkaConsumer("new_users", bootstrap_servers=bootstrap, group_id=team, client_id=instance,
                         session_timeout_ms=6000, auto_offset_reset="earliest", value_deserializer=json.loads)
processed = flagged = 0
published = 0.0
deadline = time.time() + seconds
while time.time() < deadline:
    for records in consumer.poll(timeout_ms=500).values():
        for record in records:
            processed += 1
            if record.value.get("pack") == "free":
                producer.send("actions", {"customer": record.value["email"], "type": "CONTACT_CUSTOMER",
                                          "reason": "UPGRADE_FREE", "team": team})
                flagged += 1
    if consumer.assignment() and time.time() - published > 2:
        producer.send("team_stats", key=team.encode(), value={"team": team, "processed": processed, "flagged": flagged})
        published = time.time()
        print("assigned", sorted(tp.partition for tp in consumer.assignment()), flush=True)
consumer.close()
producer.flush()
"""


def test_a_laptop_that_cannot_reach_this_machines_loopback_plays_the_tutorial_through_the_gateway(tmp_path):
    """A network namespace of its own stands in for a student's laptop on the class
    network: it reaches the server only over a virtual link (10.213.x), never 127.0.0.1,
    where the embedded brokers listen. Through the gateway the team's app (kafka-python
    2.0.2, written as the tutorial shows) plays steps 1 to 5 with two instances in step 4,
    and the board shows Connected, First Load, Scaled and Stats for it. Skipped where the
    machine does not allow network namespaces."""
    import os
    import subprocess
    import sys
    import time

    import pytest

    from test_process_lifecycle import start

    tag = str(os.getpid() % 100000)
    namespace, host_link, inner_link = f"ss{tag}", f"sh{tag}", f"sn{tag}"
    setup = [
        ["ip", "netns", "add", namespace],
        ["ip", "link", "add", host_link, "type", "veth", "peer", "name", inner_link],
        ["ip", "link", "set", inner_link, "netns", namespace],
        ["ip", "addr", "add", "10.213.0.1/24", "dev", host_link],
        ["ip", "link", "set", host_link, "up"],
        ["ip", "netns", "exec", namespace, "ip", "addr", "add", "10.213.0.2/24", "dev", inner_link],
        ["ip", "netns", "exec", namespace, "ip", "link", "set", inner_link, "up"],
        ["ip", "netns", "exec", namespace, "ip", "link", "set", "lo", "up"],
    ]
    try:
        for command in setup:
            if subprocess.run(command, capture_output=True).returncode != 0:
                pytest.skip(f"network namespaces are not allowed here ({' '.join(command)} failed)")
        server = start(tmp_path, "lan", "--kafka-listen", "10.213.0.1:0", "--kafka-advertised-host", "10.213.0.1",
                       "--generator-rate", "20")
        try:
            bootstrap = server.status()["kafka"]["bootstrap_servers"]
            assert bootstrap.startswith("10.213.0.1:")
            script = tmp_path / "team_app.py"
            script.write_text(NAMESPACED_TEAM_APP)
            # Steps 1-3 with one instance; step 4 starts the second.
            first = subprocess.Popen(["ip", "netns", "exec", namespace, sys.executable, str(script), bootstrap, "laptop-1", "45"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            laptops = [first]
            try:
                # Its first look may come before its group settled: wait for all five.
                lines = [first.stdout.readline()]
                while not lines[-1].startswith("assigned [0, 1, 2, 3, 4]") and lines[-1] and len(lines) < 15:
                    lines.append(first.stdout.readline())
                assert lines[-1].startswith("assigned [0, 1, 2, 3, 4]"), (lines, first.stderr.read() if first.poll() is not None else "")
                laptops.append(subprocess.Popen(["ip", "netns", "exec", namespace, sys.executable, str(script), bootstrap, "laptop-2", "40"],
                                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
                deadline = time.time() + 35
                row = {}
                while time.time() < deadline:
                    board = server.request("GET", "/api/leaderboard")[1]
                    row = next(r for r in board["teams"] if r["team"] == "team-15")
                    ids = {badge["id"] for badge in row["achievements"]}
                    if {"connected", "first_load", "scaled", "stats"} <= ids and row.get("members") == 2:
                        break
                    time.sleep(0.5)
                ids = {badge["id"] for badge in row["achievements"]}
                assert {"connected", "first_load", "scaled", "stats"} <= ids, row
                assert [laptop.poll() for laptop in laptops] == [None, None]
                # The careful team's records re-sent around the second instance's join
                # are redeliveries, not mistakes (held actions are judged within 3 s).
                time.sleep(5)
                board = server.request("GET", "/api/leaderboard")[1]
                row = next(r for r in board["teams"] if r["team"] == "team-15")
                print("team-15 after step 4:", {k: row[k] for k in ("valid", "mistakes", "redeliveries", "streak")})
                assert row["mistakes"] == 0, row
                assert "duplicate" not in {badge["id"] for badge in row["achievements"]}, row
                kinds = {signal["kind"] for signal in row["signals"]}
                assert ("redelivery" in kinds) == (row["redeliveries"] > 0), row
                # Both instances publish their own counters under the team's key, as the
                # tutorial's code does: the board says what that does to a compacted topic.
                deadline = time.time() + 20
                while "writer_conflict" not in kinds and time.time() < deadline:
                    time.sleep(0.5)
                    row = next(r for r in server.request("GET", "/api/leaderboard")[1]["teams"] if r["team"] == "team-15")
                    kinds = {signal["kind"] for signal in row["signals"]}
                assert "writer_conflict" in kinds, row
                detail = server.request("GET", "/api/teams/team-15")[1]
                assert {member["host"] for member in detail["members"]} == {"/10.213.0.2"}, detail
                assert {client["address"] for client in detail["clients"]} == {"10.213.0.2"}, detail
                assert {client["client_id"] for client in detail["clients"]} >= {"laptop-1", "laptop-2"}, detail
            finally:
                for laptop in laptops:
                    laptop.kill()
                    laptop.wait()
        finally:
            server.process.terminate()
            server.process.wait(timeout=20)
    finally:
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        subprocess.run(["ip", "link", "del", host_link], capture_output=True)
