import asyncio
import json

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from adapters.kafka_clients import aiokafka_options, kafka_python_options

pytestmark = pytest.mark.integration

MESSAGES = [{"n": i, "text": f"电梯又坏了，第{i}次反映 🚧"} for i in range(20)]


def _create_topic(kafka_settings, name):
    admin = KafkaAdminClient(**kafka_python_options(kafka_settings))
    try:
        admin.create_topics([NewTopic(name, num_partitions=2, replication_factor=1)])
    finally:
        admin.close()


def test_kafka_python_produce_and_consume(kafka_settings, unique):
    topic = f"test.kp.{unique}"
    _create_topic(kafka_settings, topic)
    producer = KafkaProducer(**kafka_python_options(kafka_settings), acks="all", enable_idempotence=True)
    futures = [
        producer.send(topic, key=str(m["n"]).encode(), value=json.dumps(m, ensure_ascii=False).encode())
        for m in MESSAGES
    ]
    producer.flush()
    assert all(f.get(timeout=10).offset >= 0 for f in futures)
    producer.close()

    consumer = KafkaConsumer(
        topic,
        **kafka_python_options(kafka_settings),
        group_id=f"g-{unique}",
        auto_offset_reset="earliest",
        consumer_timeout_ms=10_000,
    )
    got = [json.loads(record.value) for record in consumer]
    consumer.close()
    assert sorted(got, key=lambda m: m["n"]) == MESSAGES


def test_aiokafka_produce_and_consume(kafka_settings, unique):
    topic = f"test.aio.{unique}"
    _create_topic(kafka_settings, topic)

    async def roundtrip():
        producer = AIOKafkaProducer(**aiokafka_options(kafka_settings), acks="all", enable_idempotence=True)
        await producer.start()
        try:
            for m in MESSAGES:
                await producer.send_and_wait(topic, json.dumps(m, ensure_ascii=False).encode(), key=str(m["n"]).encode())
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(
            topic, **aiokafka_options(kafka_settings), group_id=f"g-{unique}", auto_offset_reset="earliest"
        )
        await consumer.start()
        got = []
        try:
            while len(got) < len(MESSAGES):
                batch = await asyncio.wait_for(consumer.getmany(timeout_ms=1000), timeout=20)
                for records in batch.values():
                    got.extend(json.loads(r.value) for r in records)
        finally:
            await consumer.stop()
        return got

    got = asyncio.run(asyncio.wait_for(roundtrip(), timeout=60))
    assert sorted(got, key=lambda m: m["n"]) == MESSAGES
