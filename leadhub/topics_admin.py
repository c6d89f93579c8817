"""Make the topics in schemas/topics.py exist, and say when an existing one disagrees with its spec."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from schemas.errors import RetryableError, StartupError
from schemas.topics import TopicSpec

_UNKNOWN_TOPIC = 3


class TopicMismatch(StartupError):
    """An existing topic differs from its spec; the pipeline would misbehave on it."""


@dataclass
class TopicReport:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    mismatches: dict[str, list[str]] = field(default_factory=dict)


def differences(spec: TopicSpec, partitions: int, config: dict[str, str]) -> list[str]:
    """How an existing topic (partition count, effective config) differs from its spec."""
    found = []
    if partitions != spec.partitions:
        found.append(f"{partitions} partitions, spec says {spec.partitions}")
    for key, wanted in spec.config.items():
        actual = config.get(key)
        if key == "retention.ms" and _shorter_retention(actual, wanted):
            continue  # `leadhub retention run` lowers it to retention.contact_days: keeping less is allowed
        if actual != wanted:
            found.append(f"{key}={actual}, spec says {wanted}")
    return found


def _shorter_retention(actual: str | None, wanted: str) -> bool:
    try:
        have, spec = int(actual or ""), int(wanted)
    except ValueError:
        return False
    return 0 < have < spec or (spec < 0 and have > 0)


def _partition_count(admin: KafkaAdminClient, name: str, described: dict, wait_s: float = 10.0) -> int:
    # A topic created a moment ago can be described before its partitions reach the metadata.
    deadline = time.monotonic() + wait_s
    while not described["partitions"] and time.monotonic() < deadline:
        time.sleep(0.2)
        described = admin.describe_topics([name])[0]
    return len(described["partitions"])


def ensure_topics(admin: KafkaAdminClient, specs: list[TopicSpec], replication_factor: int) -> TopicReport:
    report = TopicReport()
    try:
        described = {t["name"]: t for t in admin.describe_topics([s.name for s in specs])}
        missing = [s for s in specs if described.get(s.name, {}).get("error_code") == _UNKNOWN_TOPIC]
        for spec in missing:
            try:
                admin.create_topics(
                    [NewTopic(spec.name, spec.partitions, replication_factor, topic_configs=spec.config)],
                    wait_for_metadata=True,
                )
                report.created.append(spec.name)
            except TopicAlreadyExistsError:  # another process made it meanwhile: check it like the rest
                described[spec.name] = admin.describe_topics([spec.name])[0]
        for spec in specs:
            if spec.name in report.created:
                continue
            report.existing.append(spec.name)
            configs = admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, spec.name)], config_filter="all"
            )["topic"][spec.name]
            config = {key: entry["value"] for key, entry in configs.items()}
            diff = differences(spec, _partition_count(admin, spec.name, described[spec.name]), config)
            if diff:
                report.mismatches[spec.name] = diff
    except KafkaError as exc:
        raise RetryableError(f"Kafka did not answer the topic admin request: {exc}",
                             hint="check kafka.bootstrap_servers and that Kafka runs") from exc  # fmt: skip
    return report


def delete_topics(admin: KafkaAdminClient, names: list[str], chunk: int = 100) -> None:
    """Deletes these topics, a bounded number per request (a test session or a benchmark leaves
    hundreds)."""
    for start in range(0, len(names), chunk):
        admin.delete_topics(names[start : start + chunk])
