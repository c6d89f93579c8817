"""The faust app: one thin agent per stage around the handlers in stages.py.

    leadhub streams worker
"""

from __future__ import annotations

import asyncio
import gc
import logging
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

from adapters.kafka_clients import KafkaSettings, ssl_context
from enrichers.dedup import DedupConfig
from enrichers.hot_issues import Prepared
from enrichers.hot_issues_settings import HotIssueSettings
from schemas.topics import DLQ_MAX_BYTES, RAW_MAX_BYTES, TOPICS
from streams.hot_issue_history import stored_hot_issues
from streams.hot_issue_stage import HotIssueHints, HotIssueStage, routed_hints
from streams.hotspot_history import routed_leads_since, routed_records_since
from streams.hotspot_stage import HotspotStage, NewHotspot
from streams.offsets import GaplessCommits
from streams.partitioner import RememberingPartitioner
from streams.pipeline import ModelWatch, build_router
from streams.records import Output, Record
from streams.recovery import FlowHoldingTableManager
from streams.settings import HotspotSettings, RoutingSettings, StreamsSettings
from streams.stages import CaseStatusTracker, NormalizeStage, RouteStage
from streams.tables import TableCaseBook, TableDedupState, TableStatuses

_SPECS = {spec.name: spec for spec in TOPICS}
GC_FREEZE_EVERY_S = 30.0
# The collector's first threshold (700 container allocations by default): a batch of 500 leads makes
# hundreds of thousands of short-lived objects, freed by their reference counts, and the default ran a
# young collection every 700 of them (~5 % of the handlers' time). Cycles are rare here; the timer
# below collects the young generations every GC_FREEZE_EVERY_S anyway.
GC_THRESHOLDS = (20_000, 20, 100)


class WorkerSettings(Protocol):
    """What the worker reads of the settings root (leadhub.settings.Settings is one)."""

    @property
    def kafka(self) -> KafkaSettings: ...

    @property
    def streams(self) -> StreamsSettings: ...

    @property
    def routing(self) -> RoutingSettings: ...

    @property
    def hotspots(self) -> HotspotSettings: ...

    @property
    def hot_issues(self) -> HotIssueSettings: ...


def _credentials(kafka: KafkaSettings):
    if kafka.security_protocol.startswith("SASL_"):
        return faust.SASLCredentials(
            username=kafka.sasl_username,
            password=kafka.sasl_password.get_secret_value() if kafka.sasl_password else None,
            mechanism=kafka.sasl_mechanism,
            ssl_context=ssl_context(kafka) if kafka.security_protocol == "SASL_SSL" else None,
        )
    if kafka.security_protocol == "SSL":
        return faust.SSLCredentials(ssl_context(kafka))
    return None


class OnePartitionTable(faust.Table):
    """A table whose changelog has one partition. The route stage writes its tables a batch at a
    time, outside faust's per-event context, where faust cannot take the partition from the event;
    its other way, the producer's partitioner, is a pure-Python murmur2 of every key (about 1.5 % of
    the worker at a steady 200 leads/s) to arrive at partition 0 each time."""

    def partition_for_key(self, key: object) -> int:
        return 0


def fetch_tuned_transport(app: faust.App, streams: StreamsSettings) -> faust_aiokafka.Transport:
    """The app's consumer transport (aiokafka), its consumer fetching per the streams settings.

    faust builds its consumer with aiokafka's fetch_min_bytes (1) and a 1.5 s wait, so the broker answers
    as soon as a record is there: at a steady rate each lead was a fetch of its own, and the thread hop
    and loop wake-ups behind it. aiokafka hands these two to its fetcher when the consumer starts.
    The consumer also never commits past a record it did not hand to a stage (streams/offsets.py)."""

    class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
        def _create_worker_consumer(self, transport: Any) -> Any:
            consumer = super()._create_worker_consumer(transport)
            consumer._fetch_min_bytes = streams.fetch_min_bytes
            consumer._fetch_max_wait_ms = streams.fetch_wait_ms
            return consumer

    class Consumer(GaplessCommits, faust_aiokafka.Consumer):
        def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
            return ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    class Transport(faust_aiokafka.Transport):
        pass

    Transport.Consumer = Consumer
    return Transport(app.conf.broker_consumer, app)


def create_app(settings: WorkerSettings, on_new_hotspot: NewHotspot | None = None) -> faust.App:
    kafka = settings.kafka
    app = faust.App(
        settings.streams.app_id,
        broker=";".join(f"kafka://{server}" for server in kafka.servers),
        broker_credentials=_credentials(kafka),
        broker_client_id=kafka.client_id,
        store="memory://",
        # The tables live in memory and their changelog topics, so faust's data directory holds nothing
        # worth keeping; its default, "<app id>-data" in the working directory, littered checkouts.
        datadir=str(Path(tempfile.gettempdir()) / "leadhub-streams-{conf.name}"),  # faust makes one level only
        producer_acks=-1,
        topic_replication_factor=kafka.replication_factor,
        consumer_auto_offset_reset="earliest",
        # Records up to leads.raw's limit come in; dead letters (the record base64-encoded) go out.
        consumer_max_fetch_size=RAW_MAX_BYTES,
        producer_max_request_size=DLQ_MAX_BYTES,
        producer_linger=settings.streams.producer_linger_ms / 1000,
        producer_max_batch_size=settings.streams.producer_batch_bytes,
        producer_partitioner=RememberingPartitioner(),  # Kafka's partitions, each key hashed once
        web_port=settings.streams.web_port,
        web_host="127.0.0.1",
        TableManager=FlowHoldingTableManager,
    )
    app.transport = fetch_tuned_transport(app, settings.streams)  # before anything makes faust's own

    names = {name: kafka.topic_prefix + name for name in _SPECS}

    def topic(name: str) -> faust.TopicT:
        spec = _SPECS[name]
        return app.topic(
            names[name], partitions=spec.partitions, key_type=bytes, value_type=bytes,
            key_serializer="raw", value_serializer="raw",
        )  # fmt: skip

    topics = {name: topic(name) for name in _SPECS}

    async def send_all(outputs: list[Output], changelog: Sequence[tuple[Any, Any]] = ()) -> None:
        # Straight to faust's producer. Inside an agent, Topic.send only attaches the message to the
        # current event, and faust publishes attachments when it commits that offset, every 2.8 s:
        # leads.clean went quiet for 0.3-1.4 s at a time, then came in bursts, and freshness p99 at
        # 200 leads/s was 29-48 s. (It also skips Topic.send's codec and sensor layers.) Each send's
        # future ends when the broker has the record or the client gave up; faust's commit flushes the
        # producer but does not look at them, so they are awaited here, before the agent's
        # batch is acknowledged. A record the broker never took fails the batch, which is then never
        # acknowledged: the worker stops on the gap and its restart handles the batch again.
        sent = [
            await app.producer.send(names[out.topic], out.key, out.value, partition=None, timestamp=None, headers=out.headers)
            for out in outputs
        ]
        for key, value in changelog:  # the case book's changelog, like faust's own records of the table
            sent.append(await app.producer.send(case_book_changelog, key, value, partition=0, timestamp=None, headers=None))
        await asyncio.gather(*sent)

    def record(event: faust.EventT) -> Record:
        message = event.message
        # faust types headers as pairs or a mapping; aiokafka hands over pairs.
        headers = message.headers or []
        return Record(
            value=message.value, key=message.key, headers=list(headers.items() if isinstance(headers, Mapping) else headers),
            topic=message.topic, partition=message.partition, offset=message.offset,
        )  # fmt: skip

    # Dedup is the one global stage: leads.clean has one partition, and so do its tables (DESIGN §9).
    def one_partition_table(name: str) -> OnePartitionTable:
        table = OnePartitionTable(app, name=name, default=None, beacon=app.tables.beacon, partitions=1, key_type=str)
        app.tables.add(table)
        return table

    statuses = TableStatuses(app.GlobalTable("case-status", default=None, partitions=_SPECS["cases.events"].partitions, key_type=str))
    case_book = TableCaseBook(one_partition_table("case-book"))
    case_book_changelog = case_book.table.changelog_topic.get_topic_name()
    dedup_state = TableDedupState(one_partition_table("dedup-sketches"), DedupConfig().max_postings)
    router = build_router(settings.routing, dedup_state, case_book, statuses)
    models = ModelWatch(settings.routing, router)
    # The hot-issue stage's per-lead work is done in normalize, which runs per partition (HotIssueHints).
    hints = HotIssueHints(settings.hot_issues) if settings.hot_issues.enabled else None
    normalize = NormalizeStage(settings.routing.source_timezone, annotate=hints)
    route = RouteStage(router)
    tracker = CaseStatusTracker(statuses.load, statuses.store)
    hotspots = warmed_hotspot_stage(settings, names["leads.routed"], on_new_hotspot)
    hot_issues = warmed_hot_issue_stage(settings, names["leads.routed"], names["hot_issues"])
    # Batches: per-record costs (a model's predict call, a case's state and changelog write) are paid
    # once per batch. A batch is acknowledged only once its outputs are sent: faust's take_events
    # acknowledges it when its generator closes, also when the body failed or was cancelled (a
    # rebalance restarts agents), and faust then committed records whose outputs never went out. An
    # unacknowledged batch is a gap the consumer stops the worker on (streams/offsets.py), and the
    # restart reads it again.
    batch, wait = settings.streams.batch_size, settings.streams.batch_wait_ms / 1000

    async def acknowledge(stream: Any, events: Sequence[Any]) -> None:
        for event in events:
            await stream.ack(event)

    @app.agent(topics["leads.raw"], name="normalize")
    async def normalize_agent(stream):
        async for events in stream.noack_take(batch, within=wait):
            await send_all(normalize.handle_many([record(event) for event in events]))
            await acknowledge(stream, events)

    @app.agent(topics["leads.clean"], name="route")
    async def route_agent(stream):
        async for events in stream.noack_take(batch, within=wait):
            records = [record(event) for event in events]
            outputs, routed, cases = route.route_batch(records)
            if hot_issues is not None:  # the routed leads get their entities, the hot issues they change follow
                outputs = hot_issues.process(outputs, records, leads=routed, cases=cases)
            if hotspots is not None:  # the routed leads of the batch, as the one detector that sees them all
                # (the entities the hot-issue stage adds play no part in hotspots: the leads as routed do)
                outputs += hotspots.observe(routed)
            dedup_state.flush()  # the batch's state, before its outputs (and so its offsets) can be committed
            await send_all(outputs, case_book.flush())
            await acknowledge(stream, events)

    @app.agent(topics["cases.events"], name="case-status")
    async def status_agent(stream):
        async for event in stream.events():
            tracker.handle(record(event))

    @app.timer(interval=GC_FREEZE_EVERY_S)
    async def freeze_long_lived_objects() -> None:
        # A full collection walks every object the collector tracks, and it comes whenever they have
        # grown by a quarter: with the imported code, the tables and the case book that was a 0.2-0.4 s
        # halt of every stream every 5-35 s at 500k objects (16k leads), and it grows with the state.
        # Objects that have lived this long are the app and its state; frozen, no collection walks
        # them again. The young generations go first, so only cyclic garbage that was already old
        # (a few dozen objects a collection, as measured) is kept for good.
        gc.collect(1)
        gc.freeze()

    @app.timer(interval=settings.routing.model_check_seconds)
    async def follow_promoted_model() -> None:
        # `leadhub model promote` replaces the pointer file; the new version is loaded in a thread (a
        # model takes a second to read, the streams go on meanwhile), then swapped in on the loop
        # between two batches, so every batch is routed by one version.
        if models.pointer is not None and models.changed():
            models.swap(await asyncio.to_thread(models.load))

    @app.task
    async def roomier_producer_buffer() -> None:
        # Table writes wait in faust's producer buffer, and past its 100 messages faust halts every
        # stream until it drains, waiting up to 0.1 s a message. A batch of 500 leads writes about a
        # thousand table entries, so a worker that fell behind stalled after every batch and never
        # caught up (freshness at 200/s went from 0.1 s to 3-7 s within seconds). Offsets are only
        # committed after a full flush, so a larger buffer costs memory, not safety.
        app.producer.buffer.max_messages = max(app.producer.buffer.max_messages, 4 * settings.streams.batch_size)

    return app


def warmed_hotspot_stage(settings: WorkerSettings, routed_topic: str, on_new: NewHotspot | None) -> HotspotStage | None:
    """The hotspot detector with its state rebuilt from the last history_hours of leads.routed (what a
    restart lost: the detector's state is memory only). Before the app starts, so the first batch is
    judged against the same history the stopped worker had."""
    if not settings.hotspots.enabled:
        return None
    config = settings.hotspots.config()
    stage = HotspotStage(config, on_new, announce_within_hours=settings.hotspots.notify_max_age_hours)
    since_ms = int((time.time() - config.history_hours * 3600) * 1000)
    started = time.monotonic()
    read = stage.warm(routed_leads_since(settings.kafka, routed_topic, since_ms))
    logging.getLogger("leadhub.streams").info("hotspots: state rebuilt from %d routed leads in %.1f s", read, time.monotonic() - started)
    return stage


def warmed_hot_issue_stage(settings: WorkerSettings, routed_topic: str, issues_topic: str) -> HotIssueStage | None:
    """The hot-issue clusterer with its state rebuilt from the leads routed in the last history_days
    (leads.routed keeps 30), going on under the ids of the hot issues it sent before; before the app
    starts, as the hotspot detector's."""
    if not settings.hot_issues.enabled:
        return None
    stage = HotIssueStage(settings.hot_issues)
    since_ms = int((time.time() - settings.hot_issues.history_days * 86400) * 1000)
    started = time.monotonic()
    # The routed leads carry the per-lead work done when they were first routed (HINT_HEADER): not done again.
    hints: dict[str, Prepared] = {}
    read = stage.warm(routed_hints(routed_records_since(settings.kafka, routed_topic, since_ms), hints), hints)
    adopted = stage.adopt(stored_hot_issues(settings.kafka, issues_topic))
    logging.getLogger("leadhub.streams").info(
        "hot issues: state rebuilt from %d routed leads (%d hot issues go on) in %.1f s", read, adopted, time.monotonic() - started
    )
    return stage


def run_worker(settings: WorkerSettings, loglevel: str = "info", on_new_hotspot: NewHotspot | None = None) -> None:
    app = create_app(settings, on_new_hotspot)
    gc.set_threshold(*GC_THRESHOLDS)  # the worker's process only: it is process-wide
    level = logging.getLevelName({"warn": "WARNING", "crit": "CRITICAL"}.get(loglevel, loglevel.upper()))

    @app.task
    async def keep_log_level() -> None:
        # faust's start-up spinner leaves the root logger at DEBUG: the Kafka client then builds a log
        # record for every message it sends, only for the handlers to drop it (~7 % of the worker's CPU).
        logging.getLogger().setLevel(level)

    worker = faust.Worker(app, loglevel=loglevel)
    worker.execute_from_commandline()
