"""The Kafka topics leadhub uses, as specs in code; `leadhub topics create` makes them so."""

from __future__ import annotations

from dataclasses import dataclass, field

DAY_MS = 24 * 3600 * 1000
MiB = 1024 * 1024

# Record sizes. Kafka's default limit (message.max.bytes, ~1 MB) holds every topic but two:
RAW_MAX_BYTES = 8 * MiB  # leads.raw: a post as a source published it, HTML and all (5 MB ones exist)
DLQ_MAX_BYTES = 12 * MiB  # leads.dlq: a dead letter carries its record base64-encoded (x 4/3) plus why
# A normalized lead (leads.clean, then leads.routed with its routing added) stays under the 1 MB default;
# normalize dead-letters a bigger one (its text is capped in enrichers/normalize.py).
LEAD_MAX_BYTES = 900_000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    key: str
    value: str
    config: dict[str, str] = field(default_factory=dict)

    def named(self, prefix: str) -> TopicSpec:
        return TopicSpec(prefix + self.name, self.partitions, self.key, self.value, dict(self.config))


def _retention(days: int, max_message_bytes: int | None = None) -> dict[str, str]:
    config = {"cleanup.policy": "delete", "retention.ms": str(days * DAY_MS)}
    if max_message_bytes is not None:
        config["max.message.bytes"] = str(max_message_bytes)
    return config


TOPICS: tuple[TopicSpec, ...] = (
    # Normalize scales out over leads.raw's partitions.
    TopicSpec("leads.raw", 6, "source:external_id", "RawLead", _retention(14, RAW_MAX_BYTES)),
    # Route groups duplicates, the one global stage: one partition until dedup is band-partitioned (DESIGN §9).
    TopicSpec("leads.clean", 1, "lead_id", "Lead", _retention(14)),
    TopicSpec("leads.routed", 6, "lead_id", "Lead", _retention(30)),
    # Case events are the cases' history: kept for good, never compacted (many events per key).
    TopicSpec("cases.events", 3, "case_id", "CaseEvent", {"cleanup.policy": "delete", "retention.ms": "-1"}),
    # Each case's membership (count, channels, sources, first/last seen) as the route stage knows it:
    # the whole state per message, so the latest one per case is all that matters.
    TopicSpec("cases.state", 3, "case_id", "Case", {"cleanup.policy": "compact"}),
    TopicSpec("leads.dlq", 1, "original key", "DeadLetter", _retention(90, DLQ_MAX_BYTES)),
    # Hotspots as the route stage's detector sees them: the whole record per message (count grows), so the
    # latest per hotspot is all that matters. People's handling (acknowledged, closed) is in the index only.
    TopicSpec("hotspots", 1, "hotspot_id", "Hotspot", {"cleanup.policy": "compact"}),
    # Hot issues as the route stage's clusterer sees them: the whole record per message (it grows), so
    # the latest per issue is all that matters.
    TopicSpec("hot_issues", 1, "issue_id", "HotIssue", {"cleanup.policy": "compact"}),
)


def topic_specs(prefix: str = "") -> list[TopicSpec]:
    return [spec.named(prefix) for spec in TOPICS]


def topic_name(name: str, prefix: str = "") -> str:
    if name not in {spec.name for spec in TOPICS}:
        raise KeyError(f"no topic {name!r} in the specs")
    return prefix + name
