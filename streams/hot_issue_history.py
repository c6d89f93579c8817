"""The hot issues the worker sent before it stopped: the compacted hot_issues topic read to its end
(without joining any consumer group), the latest record per issue. The restarted clusterer goes on
under their ids (HotIssueStage.adopt)."""

from __future__ import annotations

from kafka import KafkaConsumer, TopicPartition

from adapters.kafka_clients import KafkaSettings, kafka_python_options
from schemas.errors import RecordError
from schemas.hot_issues import HotIssue
from schemas.serialization import decode


def stored_hot_issues(kafka: KafkaSettings, topic: str, poll_ms: int = 1000) -> list[HotIssue]:
    """Every issue on ``topic`` as its latest record (up to the end offsets as they were at the start)."""
    consumer = KafkaConsumer(**kafka_python_options(kafka), group_id=None, enable_auto_commit=False, max_poll_records=2000)
    latest: dict[str, HotIssue] = {}
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            return []
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        ends = consumer.end_offsets(partitions)
        left = {tp for tp in partitions if ends[tp] > consumer.position(tp)}
        while left:
            for tp, records in consumer.poll(timeout_ms=poll_ms).items():
                for record in records:
                    if record.offset < ends[tp]:
                        try:
                            issue = decode(record.value, record.headers, HotIssue)
                        except RecordError:
                            continue  # not a hot issue: nothing to go on from
                        if issue.leads >= latest.get(issue.issue_id, issue).leads:
                            latest[issue.issue_id] = issue
                if consumer.position(tp) >= ends[tp]:
                    left.discard(tp)
    finally:
        consumer.close()
    return list(latest.values())
