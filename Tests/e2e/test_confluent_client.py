"""A second student client, librdkafka-based (confluent-kafka 2.16, its own librdkafka
2.16 bundled), through the Kafka gateway: produce, then a group of three consumers whose
assignments the board reports exactly as each consumer holds them."""

import time
import uuid

from confluent_kafka import Consumer, Producer


def board_row(server, team):
    board = server.request("GET", "/api/leaderboard")[1]
    return next(row for row in board["teams"] if row["team"] == team)


def test_confluent_kafka_produces_and_a_group_of_three_is_seen_as_it_is(server):
    bootstrap = server.status()["kafka"]["bootstrap_servers"]
    marker = uuid.uuid4().hex
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    delivered = []
    for index in range(20):
        producer.produce("actions", key=f"k{index}", value=f'{{"marker":"{marker}"}}',
                         on_delivery=lambda error, message: delivered.append(error))
    producer.flush(15)
    assert delivered == [None] * 20

    team = "team-11"
    consumers = [Consumer({"bootstrap.servers": bootstrap, "group.id": team, "client.id": f"confluent-{n}",
                           "session.timeout.ms": 6000, "auto.offset.reset": "earliest"}) for n in range(3)]
    for consumer in consumers:
        consumer.subscribe(["new_users"])
    try:
        deadline = time.time() + 45
        held, row = [], {}
        while time.time() < deadline:
            for consumer in consumers:
                consumer.poll(0.1)
            held = sorted(sorted(tp.partition for tp in consumer.assignment()) for consumer in consumers)
            row = board_row(server, team)
            settled = sum(len(h) for h in held) == 5 and all(held)
            if settled and sorted(row.get("member_partitions") or []) == held:
                break
        assert row.get("members") == 3, row
        assert sorted(row["member_partitions"]) == held, (row, held)
        ids = {badge["id"] for badge in row["achievements"]}
        assert {"scaled", "partition_explorer"} <= ids, ids
    finally:
        for consumer in consumers:
            consumer.close()
