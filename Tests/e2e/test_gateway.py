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
