"""The sink: Kafka in, the search engine out, offsets committed only after the engine answered.

    leadhub sink run

Reads leads.routed (lead documents), cases.state (case membership) and cases.events (case
handling). Two parts with the Sink contract (sinks/contract.py) between them: the Kafka consumer loop
(sinks/consumer.py: polling, batches by count/bytes/age, a sender thread, pause/resume, commits, the
rebalance workaround) and the search writer (sinks/search_writer.py: bulk, case documents, retries
with backoff, dead letters). Dead letters are sent and checked, and only then are the batch's offsets
committed. A crash anywhere before the commit replays the batch, and every write is idempotent, so
nothing is lost and nothing is counted twice.
"""

from __future__ import annotations

import threading
from typing import Protocol

from adapters.kafka_clients import KafkaSettings
from adapters.producer import CheckedProducer
from adapters.search_backend import SearchBackend, SearchSettings
from schemas.index_templates import alias_name
from sinks.batch import BatchClock, BatchLimits
from sinks.consumer import ConsumerLoop, open_consumer
from sinks.contract import STAGE, StoppedWhileRetrying
from sinks.metrics import SinkMetrics
from sinks.search_writer import SearchWriter

__all__ = ["STAGE", "TOPICS", "SearchSink", "SinkMetrics", "SinkSettings", "StoppedWhileRetrying"]

TOPICS = ("leads.routed", "cases.state", "cases.events", "hotspots", "hot_issues")


class SinkSettings(Protocol):
    """What the sink reads of the settings root (leadhub.settings.Settings is one)."""

    @property
    def kafka(self) -> KafkaSettings: ...

    @property
    def search(self) -> SearchSettings: ...


class SearchSink:
    """The consumer loop feeding the search writer, wired from settings."""

    def __init__(self, settings: SinkSettings, *, limits: BatchLimits | None = None, group_id: str = "leadhub-sink") -> None:
        self.settings = settings
        kafka = settings.kafka
        self.prefix = kafka.topic_prefix
        self.leads_index = alias_name(settings.search.index_prefix, "leads")
        self.cases_index = alias_name(settings.search.index_prefix, "cases")
        self.hotspots_index = alias_name(settings.search.index_prefix, "hotspots")
        self.hot_issues_index = alias_name(settings.search.index_prefix, "hot_issues")
        self.metrics = SinkMetrics()
        self.stopping = threading.Event()
        backend = SearchBackend.from_settings(settings.search)
        consumer = open_consumer(kafka, group_id, [self.prefix + t for t in TOPICS])
        self.writer = SearchWriter(
            backend, self.leads_index, self.cases_index, CheckedProducer(kafka), metrics=self.metrics, stopping=self.stopping,
            hotspots_index=self.hotspots_index, hot_issues_index=self.hot_issues_index,
        )
        self.loop = ConsumerLoop(
            consumer, self.writer, prefix=self.prefix, clock=BatchClock(limits or BatchLimits()),
            metrics=self.metrics, stopping=self.stopping,
        )  # fmt: skip

    def run(self, report_every_s: float = 10.0) -> None:
        try:
            self.loop.run(report_every_s)
        finally:
            self.close()

    def flush(self) -> None:
        """Write and commit everything read so far (used at stop, and by tests)."""
        self.loop.flush()

    def stop(self) -> None:
        self.stopping.set()

    def close(self) -> None:
        self.loop.close(then=self.writer.close)
