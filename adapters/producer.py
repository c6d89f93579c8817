"""One Kafka producer setup for everything leadhub writes: acks=all, idempotence, checked sends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from adapters.kafka_clients import KafkaSettings, kafka_python_options
from schemas.errors import RetryableError
from schemas.topics import DLQ_MAX_BYTES


class CheckedProducer:
    """Sends are collected and checked together: ``flush()`` raises if any of them failed."""

    def __init__(self, kafka: KafkaSettings, **overrides: Any) -> None:
        # The client's own size check allows the largest record any topic takes (a dead letter); the broker
        # enforces each topic's max.message.bytes (schemas/topics.py).
        defaults = {"acks": "all", "enable_idempotence": True, "linger_ms": 5, "max_request_size": DLQ_MAX_BYTES}
        options = kafka_python_options(kafka) | defaults | overrides
        try:
            self._producer = KafkaProducer(**options)
        except KafkaError as exc:
            raise RetryableError(f"cannot reach Kafka at {kafka.bootstrap_servers}: {exc}") from exc
        self.prefix = kafka.topic_prefix
        self._pending: list[Any] = []

    def send(self, topic: str, value: bytes, key: bytes | None = None, headers: Sequence[tuple[str, bytes]] = ()) -> None:
        """``topic`` is the logical name; the configured prefix is added here."""
        self._pending.append(self._producer.send(self.prefix + topic, value=value, key=key, headers=list(headers)))

    def flush(self, timeout_s: float = 30.0) -> int:
        """Wait for every send since the last flush; the number sent. RetryableError if any failed."""
        self._producer.flush(timeout=timeout_s)
        pending, self._pending = self._pending, []
        failures = []
        for future in pending:
            try:
                future.get(timeout=0)
            except KafkaError as exc:
                failures.append(exc)
        if failures:
            raise RetryableError(f"{len(failures)} of {len(pending)} Kafka sends failed: {failures[0]}")
        return len(pending)

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._producer.close()
