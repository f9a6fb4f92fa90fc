"""The binary as an operator runs it: refuses an empty admin token at start, and stops
within a bounded time on SIGTERM whatever Kafka does (away from the start, or dying
under it), where it used to ignore SIGTERM for minutes once its cluster was gone."""

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT, Server, free_port

BINARY = os.environ.get("STREAMSOCIAL_BIN", str(ROOT / ".build/debug/streamsocial"))
ENV = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "STREAMSOCIAL_ADMIN_TOKEN")}


def start(tmp_path: Path, name: str, *args: str, port: int | None = None, prefix: tuple[str, ...] = (),
          ready_path: str = "/api/status") -> Server:
    """Starts `streamsocial serve` (on `port`, else a free one; run through `prefix`, a
    command that execs the rest) and waits until `ready_path` answers 200."""
    port = port or free_port()
    log_path = tmp_path / f"{name}.log"
    process = subprocess.Popen(
        [*prefix, BINARY, "serve", "--host", "127.0.0.1", "--port", str(port), "--public-dir", str(ROOT / "Public"),
         "--generator-rate", "0", "--kafka-listen", "127.0.0.1:0", *args],
        stdout=open(log_path, "w"), stderr=subprocess.STDOUT, env=ENV,
    )
    server = Server(port, process, log_path)
    deadline = time.time() + 30
    while time.time() < deadline:
        assert process.poll() is None, log_path.read_text()
        try:
            if server.request("GET", ready_path)[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    process.kill()
    raise AssertionError(f"{name} did not start: {log_path.read_text()}")


def stop_time(server: Server, limit: float) -> float:
    began = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        server.process.kill()
        raise AssertionError(f"SIGTERM ignored for {limit} s: {server.log_path.read_text()[-2000:]}")
    return time.monotonic() - began


def test_an_empty_admin_token_is_refused_at_start():
    for token in ("", "   "):
        result = subprocess.run([BINARY, "serve", "--admin-token", token], capture_output=True, text=True, timeout=20, env=ENV)
        assert result.returncode != 0
        assert "--admin-token must not be empty" in result.stderr


def test_sigterm_stops_the_server_when_kafka_was_never_there(tmp_path):
    server = start(tmp_path, "unreachable", "--bootstrap-servers", "127.0.0.1:1", "--stop-timeout", "5")
    code, _ = server.request("GET", "/healthz")
    assert code == 503
    code, body = server.request("GET", "/readyz")
    assert (code, body["error"]["code"]) == (503, "kafka_unavailable"), body
    assert stop_time(server, 12) < 12


def test_sigterm_stops_the_server_after_its_cluster_died(tmp_path):
    # One server's embedded cluster is the other's external cluster; then it is killed.
    cluster = start(tmp_path, "cluster")
    bootstrap = cluster.status()["kafka"]["bootstrap_servers"]
    server = start(tmp_path, "client", "--bootstrap-servers", bootstrap, "--stop-timeout", "5", "--send-timeout-ms", "2000")
    deadline = time.time() + 30
    while server.status()["timelines"]["state"] != "ready" and time.time() < deadline:
        time.sleep(0.2)
    assert server.post("survivor", "before the cluster dies")[0] == 201
    cluster.process.kill()
    cluster.process.wait(timeout=10)
    # Posts now fail honestly (503 or 504), and health says Kafka is away.
    code, body = server.post("survivor", "after")
    assert code in (503, 504), body
    assert "error" in body
    elapsed = stop_time(server, 15)
    assert elapsed < 15
    log = server.log_path.read_text()
    assert re.search(r"stopp(ed|ing)|exiting", log)


def test_readyz_says_503_until_posts_are_taken_and_the_board_is_loaded_then_200(tmp_path):
    """The README's curl right after the log line met 503 recovering: /healthz said alive
    while posts were refused. /readyz answers 200 only once a POST is taken."""
    port = free_port()
    log_path = tmp_path / "ready.log"
    process = subprocess.Popen(
        [BINARY, "serve", "--host", "127.0.0.1", "--port", str(port), "--public-dir", str(ROOT / "Public"),
         "--generator-rate", "0", "--kafka-listen", "127.0.0.1:0"],
        stdout=open(log_path, "w"), stderr=subprocess.STDOUT, env=ENV,
    )
    server = Server(port, process, log_path)
    seen = []
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                code, body = server.request("GET", "/readyz")
            except OSError:
                time.sleep(0.05)
                continue
            seen.append((code, body["error"]["code"] if code != 200 else body["status"]))
            if code == 200:
                break
            time.sleep(0.05)
        assert seen and seen[-1] == (200, "ready"), seen
        assert {status for status, _ in seen[:-1]} <= {503}, seen
        assert any(code == 503 for code, _ in seen), f"never saw the server not ready: {seen[:3]}"
        # Ready means a post is taken at once.
        assert server.post("ready-reader", "first post after ready")[0] == 201
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_settings_come_from_the_config_file_the_environment_and_flags_in_that_order_secrets_redacted(tmp_path):
    """A flag wins over an environment variable, which wins over the --config file; a
    password given by the environment shows nowhere, in logs or in /api/status."""
    import json as _json
    config = tmp_path / "streamsocial.json"
    config.write_text(_json.dumps({"bootstrap-servers": "127.0.0.1:3", "stop-timeout": 5,
                                   "kafka-config": {"client.rack": "room-101"}}))
    secrets = {"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": "PLAIN",
               "KAFKA_SASL_USERNAME": "team-1", "KAFKA_SASL_PASSWORD": "hunter2-secret"}
    cases = [
        ({}, [], "127.0.0.1:3"),
        ({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:2"}, [], "127.0.0.1:2"),
        ({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:2"}, ["--bootstrap-servers", "127.0.0.1:1"], "127.0.0.1:1"),
    ]
    for index, (environment, flags, expected) in enumerate(cases):
        env = {**ENV, **secrets, **environment}
        port = free_port()
        log_path = tmp_path / f"config-{index}.log"
        process = subprocess.Popen(
            [BINARY, "serve", "--config", str(config), "--host", "127.0.0.1", "--port", str(port), "--public-dir", str(ROOT / "Public"),
             "--log-format", "json", *flags],
            stdout=open(log_path, "w"), stderr=subprocess.STDOUT, env=env,
        )
        server = Server(port, process, log_path)
        try:
            deadline = time.time() + 30
            status = None
            while time.time() < deadline and status is None:
                try:
                    status = server.status()
                except OSError:
                    time.sleep(0.2)
            assert status is not None, log_path.read_text()
            assert status["kafka"]["bootstrap_servers"] == expected, (index, status["kafka"])
            properties = status["kafka"]["properties"]
            assert properties["sasl.password"] == "(redacted)" and properties["sasl.username"] == "team-1", properties
            assert properties["client.rack"] == "room-101", properties
            assert "hunter2" not in _json.dumps(status)
        finally:
            process.terminate()
            process.wait(timeout=20)
        log = log_path.read_text()
        assert "hunter2" not in log
        # --log-format json: every line one JSON object.
        entries = [_json.loads(line) for line in log.splitlines() if line.strip()]
        assert entries and all({"ts", "level", "label", "message"} <= set(entry) for entry in entries), log[:500]
        assert any(entry["message"] == "Kafka client properties" and entry["metadata"]["sasl.password"] == "(redacted)" for entry in entries)


def test_sigterm_under_load_answers_posts_in_flight_commits_writes_the_board_and_exits_0(tmp_path):
    """SIGTERM while posts wait for slow brokers: each in flight gets its 201, later ones
    503 stopping, none is cut; every 201 is in Kafka afterwards; the timeline group has
    committed what was read; the board wrote a last snapshot; the exit status is 0."""
    import http.client
    import json as _json
    import threading

    from kafka import KafkaConsumer, TopicPartition

    token = "graceful-test"
    cluster = start(tmp_path, "cluster", "--admin-token", token)
    bootstrap = cluster.status()["kafka"]["bootstrap_servers"]
    server = start(tmp_path, "graceful", "--bootstrap-servers", bootstrap, "--instance-id", "graceful", "--stop-timeout", "15")
    try:
        deadline = time.time() + 40
        while server.request("GET", "/readyz")[0] != 200:
            assert time.time() < deadline, server.log_path.read_text()[-2000:]
            time.sleep(0.2)
        reader = KafkaConsumer(bootstrap_servers=bootstrap, group_id="timeline-consumer-group-graceful", enable_auto_commit=False)
        snapshots = TopicPartition("leaderboard_state", 0)
        snapshots_before = reader.end_offsets([snapshots])[snapshots]
        for broker in (1, 2, 3):
            code, _ = cluster.request("POST", "/api/admin/faults", {"action": "set_rtt", "broker": broker, "rtt_ms": 250},
                                      headers={"Authorization": f"Bearer {token}"})
            assert code == 200

        answers, endings, lock = [], [], threading.Lock()

        def post_until_refused(worker: int):
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
            index = 0
            try:
                while True:
                    user, content = f"g{worker}", f"post {index}"
                    connection.request("POST", "/api/send-message", _json.dumps({"user_id": user, "content": content}),
                                       {"Content-Type": "application/json"})
                    response = connection.getresponse()
                    body = _json.loads(response.read())
                    with lock:
                        answers.append((user, content, response.status, body, time.monotonic()))
                    if response.status != 201:
                        with lock:
                            endings.append(f"{response.status} {body['error']['code']}")
                        return
                    index += 1
            except ConnectionRefusedError:
                # Told the connection closes (Connection: close while stopping), http.client
                # opened a new one and found the server gone: nothing was sent.
                with lock:
                    endings.append("refused")
            except OSError as error:  # a request sent and never answered
                with lock:
                    endings.append(f"cut: {error!r}")

        workers = [threading.Thread(target=post_until_refused, args=(n,)) for n in range(6)]
        for worker in workers:
            worker.start()
        time.sleep(2)
        began = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        code = server.process.wait(timeout=20)
        took = time.monotonic() - began
        for worker in workers:
            worker.join(timeout=20)
        log = server.log_path.read_text()
        assert code == 0, log[-3000:]
        assert took < 10, took
        assert len(endings) == 6 and set(endings) <= {"503 stopping", "refused"} and "503 stopping" in endings, endings
        acknowledged = [a for a in answers if a[2] == 201]
        assert any(at > began for *_, at in acknowledged), "no post was waiting for Kafka at the SIGTERM"

        for broker in (1, 2, 3):
            cluster.request("POST", "/api/admin/faults", {"action": "set_rtt", "broker": broker, "rtt_ms": 0},
                            headers={"Authorization": f"Bearer {token}"})
        partitions = [TopicPartition("user-timeline", p) for p in range(6)]
        ends = reader.end_offsets(partitions)
        # The timeline consumer committed everything it read: all of it, as nothing else
        # was posting (a partition nobody posted to has nothing to commit).
        committed = {tp.partition: reader.committed(tp) or 0 for tp in partitions}
        assert sum(committed.values()) > 0
        assert committed == {tp.partition: ends[tp] for tp in partitions}, (committed, ends)
        # A last snapshot of the board went out at the stop.
        assert reader.end_offsets([snapshots])[snapshots] > snapshots_before
        reader.close()

        stored = {}
        everything = KafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False,
                                   consumer_timeout_ms=3000)
        everything.assign(partitions)
        everything.seek_to_beginning()
        for record in everything:
            stored[(record.partition, record.offset)] = _json.loads(record.value)
        everything.close()
        for user, content, _, body, _ in acknowledged:
            record = stored.get((body["partition"], body["offset"]))
            assert record and record["user_id"] == user and record["content"] == content, (user, content, body, record)
    finally:
        for process in (server.process, cluster.process):
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


def test_a_post_record_stamped_at_the_end_of_time_is_read_without_bringing_the_server_down(tmp_path):
    """A student's producer may stamp a record with any 64-bit timestamp. The server's
    post-path measure subtracted it from the clock: Int64.min overflowed and aborted the
    process, and the replay after a restart aborted again on the same record."""
    import json as _json

    from kafka import KafkaProducer

    server = start(tmp_path, "stamped")
    try:
        deadline = time.time() + 30
        while server.request("GET", "/readyz")[0] != 200:
            assert time.time() < deadline
            time.sleep(0.2)
        bootstrap = server.status()["kafka"]["bootstrap_servers"]
        producer = KafkaProducer(bootstrap_servers=bootstrap)
        for stamp in (-(2 ** 63), 2 ** 63 - 1, -1):
            post = {"user_id": f"stamp{stamp}", "content": "when?", "seq": 1, "ts": 1}
            producer.send("user-timeline", key=post["user_id"].encode(), value=_json.dumps(post).encode(), timestamp_ms=stamp).get(timeout=10)
        producer.close()
        assert server.post("after-stamps", "still here?")[0] == 201
        # The three were read as posts (not refused as malformed): the measure met them.
        deadline = time.time() + 10
        while server.request("GET", f"/api/timeline/stamp{-(2 ** 63)}")[0] != 200 and time.time() < deadline:
            assert server.process.poll() is None, server.log_path.read_text()[-3000:]
            time.sleep(0.2)
        assert server.process.poll() is None, server.log_path.read_text()[-3000:]
        assert server.request("GET", "/healthz")[0] == 200
    finally:
        server.process.terminate()
        server.process.wait(timeout=20)


def evlib_plugin() -> Path | None:
    """libwebsockets' libev plugin (Debian: libwebsockets-evlib-ev), which the epoll loop loads."""
    found = sorted(Path("/usr/lib").glob("*/libwebsockets-evlib_ev.so")) + sorted(Path("/usr/lib").glob("libwebsockets-evlib_ev.so"))
    return found[0] if found else None


def test_without_the_libev_plugin_the_server_falls_back_to_poll_and_serves_http_and_websockets(tmp_path):
    """A machine without libwebsockets-evlib-ev: the server says so and serves on lws's own
    poll() loop. The plugin is hidden in a private mount namespace (a bind mount of
    /dev/null over it, seen by this process only), so the machine's copy is untouched."""
    plugin = evlib_plugin()
    if plugin is None:
        pytest.skip("no libev plugin on this machine: the fallback is what every start does")
    if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
        pytest.skip("unshare -m is not allowed here (needs root or CAP_SYS_ADMIN)")
    # The shell hides the plugin in the new mount namespace, then execs the server.
    hide = ("unshare", "-m", "sh", "-c", 'mount --bind /dev/null "$1" && shift && exec "$@"', "sh", str(plugin))
    server = start(tmp_path, "poll", prefix=hide, ready_path="/readyz")
    process, log_path, port = server.process, server.log_path, server.port
    try:
        assert "could not start on libev" in log_path.read_text()
        maps = Path(f"/proc/{process.pid}/maps").read_text()
        assert "libwebsockets-evlib_ev" not in maps, "the libev plugin is loaded after all"

        status, body = server.post("ann", "on poll()")
        assert status == 201, body
        def contents():
            status, timeline = server.request("GET", "/api/timeline/ann")
            return [post["content"] for post in timeline["posts"]] if status == 200 else (status, timeline)

        deadline = time.time() + 10
        while contents() != ["on poll()"] and time.time() < deadline:
            time.sleep(0.1)
        assert contents() == ["on poll()"]

        # A WebSocket upgrade, and the snapshots every new client gets, on the same loop.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as ws:
            ws.sendall(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            received = b""
            while b"\r\n\r\n" not in received:
                chunk = ws.recv(65536)
                assert chunk, f"closed during the handshake: {received!r}"
                received += chunk
            head, _, rest = received.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 101"), head
            while len(rest) < 2:
                rest += ws.recv(65536)
            assert rest[0] == 0x81, f"not a final text frame: {rest[:2]!r}"
    finally:
        stop_time(server, 15)
    assert process.returncode == 0, log_path.read_text()[-2000:]
