"""The worker's hotspot detector rebuilt at start: the routed leads of the last hours, read back from
leads.routed (kept 30 days) without joining any consumer group.

The detector counts by the leads' own times; Kafka finds the records by when they were routed. Records
routed since ``since_ms`` are read, and the detector places each lead by its own time, so a lead routed
late (a source's backlog) still lands in its window.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from kafka import KafkaConsumer, TopicPartition

from adapters.kafka_clients import KafkaSettings, kafka_python_options
from schemas.errors import RecordError
from schemas.leads import Lead
from schemas.serialization import decode

log = logging.getLogger("leadhub.streams")


def routed_leads_since(kafka: KafkaSettings, topic: str, since_ms: int, poll_ms: int = 1000) -> Iterator[Lead]:
    """Every lead on ``topic`` routed at or after ``since_ms`` (epoch ms), up to the end offsets as they were
    when it started."""
    return (lead for lead, _ in routed_records_since(kafka, topic, since_ms, poll_ms))


def routed_records_since(
    kafka: KafkaSettings, topic: str, since_ms: int, poll_ms: int = 1000
) -> Iterator[tuple[Lead, list[tuple[str, bytes]]]]:
    """``routed_leads_since`` with each record's headers (the hot-issue stage's work on the lead rides in one)."""
    consumer = KafkaConsumer(**kafka_python_options(kafka), group_id=None, enable_auto_commit=False, max_poll_records=2000)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            return
        consumer.assign(partitions)
        ends = consumer.end_offsets(partitions)
        starts = consumer.offsets_for_times(dict.fromkeys(partitions, since_ms))
        left = set()
        for tp in partitions:
            found = starts.get(tp)
            if found is None or found.offset >= ends[tp]:
                continue
            consumer.seek(tp, found.offset)
            left.add(tp)
        while left:
            for tp, records in consumer.poll(timeout_ms=poll_ms).items():
                for record in records:
                    if record.offset < ends[tp]:
                        try:
                            yield decode(record.value, record.headers, Lead), list(record.headers or ())
                        except RecordError:
                            pass  # not a lead: nothing to count
                if consumer.position(tp) >= ends[tp]:
                    left.discard(tp)
    finally:
        consumer.close()
