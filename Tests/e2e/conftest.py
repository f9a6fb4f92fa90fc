"""Starts the real `streamsocial` binary (embedded Kafka) for end-to-end checks made
with independent clients: kafka-python, a plain HTTP client, a real browser."""

import json
import os
import random
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "e2e-instructor"


def free_port() -> int:
    """A free port below the kernel's ephemeral range. A port-0 bind would hand back a
    number the kernel may give again at once: the server binds its embedded brokers and
    its gateway on port 0 before its HTTP port, and one of them could take it (about 2 in
    10,000 starts, measured; CI once saw a server that never answered)."""
    try:
        ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 32768
    for _ in range(200):
        port = random.randint(20000, max(20001, ephemeral_low - 1))
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")


class Server:
    def __init__(self, port: int, process: subprocess.Popen, log_path: Path):
        self.port = port
        self.process = process
        self.log_path = log_path
        self.base = f"http://127.0.0.1:{port}"

    def request(self, method: str, path: str, body=None, content_type="application/json", headers=None):
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        try:
            with urllib.request.urlopen(req, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def post(self, user_id: str, content: str):
        return self.request("POST", "/api/send-message", {"user_id": user_id, "content": content})

    def status(self) -> dict:
        return self.request("GET", "/api/status")[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    binary = os.environ.get("STREAMSOCIAL_BIN", str(ROOT / ".build/debug/streamsocial"))
    port = free_port()
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    log = open(log_path, "w")
    process = subprocess.Popen(
        # Kafka clients go through the gateway on 127.0.0.2, the stand-in for the
        # instructor's LAN address: bootstrap_servers in /api/status names it.
        [binary, "serve", "--host", "127.0.0.1", "--port", str(port), "--public-dir", str(ROOT / "Public"),
         "--admin-token", ADMIN_TOKEN, "--kafka-listen", "127.0.0.2:0", "--kafka-advertised-host", "127.0.0.2"],
        stdout=log, stderr=subprocess.STDOUT, env={k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"},
    )
    instance = Server(port, process, log_path)
    deadline = time.time() + 30
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log_path.read_text()}")
        try:
            # Ready as an orchestrator sees it: posts taken and the board loaded.
            if instance.request("GET", "/readyz")[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError(f"server did not become ready: {log_path.read_text()}")
    yield instance
    process.terminate()
    try:
        assert process.wait(timeout=15) == 0, log_path.read_text()
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
