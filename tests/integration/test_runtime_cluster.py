"""open_runtime in cluster mode on the real Kafka and OpenSearch: the outlet and the publisher write to
the prefixed topics, the store reads the prefixed indices, and close() lets go of what was opened."""

from __future__ import annotations

import uuid

import pytest
from kafka import KafkaConsumer

from adapters.kafka_clients import kafka_python_options
from leadhub.cli import main
from leadhub.queries import SearchRequest
from leadhub.runtime import open_runtime
from leadhub.settings import build_settings, parse_overrides
from schemas.cases import CaseEvent
from schemas.leads import RawLead
from schemas.serialization import decode, encode

pytestmark = pytest.mark.integration


def read_all(settings, topic: str) -> list:
    consumer = KafkaConsumer(
        f"{settings.kafka.topic_prefix}{topic}", **kafka_python_options(settings.kafka),
        group_id=f"t-{uuid.uuid4().hex[:6]}", auto_offset_reset="earliest", consumer_timeout_ms=5000,
    )  # fmt: skip
    try:
        return list(consumer)
    finally:
        consumer.close()


def test_cluster_runtime_sends_to_kafka_and_reads_the_engine(kafka_settings, search, unique):
    overrides = [f"kafka.topic_prefix=r{unique}.", f"search.index_prefix=r{unique}"]
    args = [a for o in overrides for a in ("--set", o)]
    assert main([*args, "topics", "create"]) == 0
    assert main([*args, "index", "init"]) == 0
    settings = build_settings(overrides=parse_overrides(overrides))

    runtime = open_runtime(settings)
    assert runtime.mode == "cluster" and not runtime.serves_schedule  # `ingest schedule` runs the sources
    lead = RawLead(source="forum-yiwu", channel="forum", external_id=unique, body="江东街道路灯不亮半个月")
    outlet = runtime.open_outlet()
    value, headers = encode(lead)
    outlet.send("leads.raw", value, key=lead.key.encode(), headers=headers)
    assert outlet.flush() == 1
    outlet.close()
    runtime.publisher.publish_event(CaseEvent(case_id=f"case-{unique}", action="accept", actor="t"))
    assert runtime.store.search(SearchRequest(kind="cases")).total == 0  # fresh indices, read through the alias
    runtime.close()

    (record,) = read_all(settings, "leads.raw")
    assert record.key == lead.key.encode() and decode(record.value, record.headers, RawLead).lead_id == lead.lead_id
    (event,) = read_all(settings, "cases.events")
    assert event.key == f"case-{unique}".encode() and decode(event.value, event.headers, CaseEvent).action == "accept"

