"""Retention on Kafka: records cannot be edited in place, so the topics that carry reporters' contacts
(a RawLead's or Lead's `contact`, a dead letter's original bytes) keep their records no longer than
retention.contact_days: `retention.ms` is lowered to it where it is longer (never raised: a shorter
spec of schemas/topics.py stays), and the run says what each topic keeps.
"""

from __future__ import annotations

from dataclasses import dataclass

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

DAY_MS = 24 * 3600 * 1000
# Topics whose records hold a contact; every `*.dlq` topic under the prefix is added.
PERSONAL = ("leads.raw", "leads.clean", "leads.routed", "leads.dlq")


@dataclass(frozen=True)
class TopicRetention:
    topic: str
    before_ms: int | None  # None: the topic does not exist
    after_ms: int | None

    @property
    def changed(self) -> bool:
        return self.before_ms != self.after_ms

    def describe(self) -> str:
        if self.before_ms is None:
            return "no such topic"
        days = lambda ms: "forever" if ms is not None and ms < 0 else f"{ms / DAY_MS:g} days"  # noqa: E731
        return f"retention.ms {days(self.before_ms)} -> {days(self.after_ms)}" if self.changed else f"keeps {days(self.after_ms)}"


def wanted_ms(current: int, days: int) -> int:
    """The retention a personal topic should have: at most ``days`` (-1, forever, counts as longer)."""
    limit = days * DAY_MS
    return limit if current < 0 or current > limit else current


def personal_topics(names: list[str], prefix: str) -> list[str]:
    mine = {prefix + name for name in PERSONAL}
    return sorted(mine | {n for n in names if n.startswith(prefix) and n.endswith(".dlq")})


def limit_topics(admin: KafkaAdminClient, prefix: str, days: int, *, apply: bool) -> list[TopicRetention]:
    existing = set(admin.list_topics())
    found: list[TopicRetention] = []
    for topic in personal_topics(sorted(existing), prefix):
        if topic not in existing:
            found.append(TopicRetention(topic, None, None))
            continue
        config = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)], config_filter="all")["topic"][topic]
        if "retention.ms" not in config:  # deleted since it was listed
            found.append(TopicRetention(topic, None, None))
            continue
        current = int(config["retention.ms"]["value"])
        target = wanted_ms(current, days)
        if apply and target != current:
            admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs={"retention.ms": str(target)})])
        found.append(TopicRetention(topic, current, target))
    return found
