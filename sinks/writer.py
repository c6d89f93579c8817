"""The sink's consumer loop: Kafka in, bulk out, offsets committed only after the engine answered.

    leadhub sink run

Reads leads.routed (lead documents), cases.state (case membership) and cases.events (case
handling). A batch is closed by count, bytes or age and written by a sender thread while the next
one is read; one batch is in flight at a time. While it is (e.g. the engine is unavailable and the
sender retries with backoff), a full next batch pauses the consumer, which keeps polling so it stays
in its group. Dead letters are sent and checked, and only then are the batch's offsets committed. A crash anywhere before the commit replays
the batch, and every write is idempotent, so nothing is lost and nothing is counted twice.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError, RebalanceInProgressError
from kafka.structs import OffsetAndMetadata

from adapters.kafka_clients import KafkaSettings, kafka_python_options
from adapters.producer import CheckedProducer
from adapters.search_backend import SearchBackend, SearchSettings
from schemas.cases import Case, CaseEvent
from schemas.dead_letters import DeadLetter
from schemas.errors import StartupError
from schemas.index_templates import alias_name
from schemas.leads import Lead
from schemas.serialization import DecodeError, decode, encode
from sinks.batch import BatchClock, BatchLimits
from sinks.bulk import send_until_acknowledged
from sinks.case_events import apply_case_events
from sinks.documents import case_state_actions, lead_actions

log = logging.getLogger("leadhub.sink")
STAGE = "sink"
TOPICS = ("leads.routed", "cases.state", "cases.events")
COMMIT_RETRY_S = 1.0
STUCK_REBALANCE_S = 10.0  # a rebalance of a few sinks that poll every 100 ms takes well under this


class StoppedWhileRetrying(Exception):
    """A stop was asked for while a batch waited for the engine; the batch stays uncommitted."""


class SinkSettings(Protocol):
    """What the sink reads of the settings root (leadhub.settings.Settings is one)."""

    @property
    def kafka(self) -> KafkaSettings: ...

    @property
    def search(self) -> SearchSettings: ...


@dataclass
class SinkMetrics:
    started: float = field(default_factory=time.monotonic)
    documents: int = 0
    case_events: int = 0
    dead_letters: int = 0
    retries: int = 0
    batches: int = 0
    lag: int | None = None
    first_record_at: float | None = None  # monotonic; throughput is measured from here, not from start-up

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        return (
            f"documents {self.documents} ({self.documents / elapsed:.0f}/s), case events {self.case_events}, "
            f"dead letters {self.dead_letters}, retries {self.retries}, batches {self.batches}, lag {self.lag}"
        )


@dataclass
class _Pending:
    actions: list[list[dict[str, Any]]] = field(default_factory=list)
    sources: list[Any] = field(default_factory=list)  # the record behind each action
    events: list[tuple[CaseEvent, Any]] = field(default_factory=list)
    letters: list[DeadLetter] = field(default_factory=list)
    offsets: dict[TopicPartition, int] = field(default_factory=dict)


def _wait_for_metadata(consumer: KafkaConsumer, topics: list[str], timeout_s: float = 60.0) -> None:
    """Join the group only once the topics' partitions are known: joining earlier gets an empty
    assignment that lasts until the next metadata refresh (a topic created a moment ago)."""
    deadline = time.monotonic() + timeout_s
    missing = list(topics)
    while missing:
        missing = [t for t in missing if not consumer.partitions_for_topic(t)]
        if missing and time.monotonic() > deadline:
            raise StartupError(
                f"Kafka topics {', '.join(missing)} do not exist", hint="create them with `leadhub topics create`"
            )
        if missing:
            time.sleep(0.5)


class SearchSink:
    def __init__(self, settings: SinkSettings, *, limits: BatchLimits | None = None, group_id: str = "leadhub-sink") -> None:
        self.settings = settings
        kafka = settings.kafka
        self.prefix = kafka.topic_prefix
        self.backend = SearchBackend.from_settings(settings.search)
        self.leads_index = alias_name(settings.search.index_prefix, "leads")
        self.cases_index = alias_name(settings.search.index_prefix, "cases")
        self.consumer = KafkaConsumer(
            **kafka_python_options(kafka),
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=2000,
            metadata_max_age_ms=30_000,
        )
        topics = [self.prefix + t for t in TOPICS]
        _wait_for_metadata(self.consumer, topics)
        self.consumer.subscribe(topics)
        self.producer = CheckedProducer(kafka)
        self.clock = BatchClock(limits or BatchLimits())
        self.metrics = SinkMetrics()
        self.stopping = threading.Event()
        self._pending = _Pending()
        self._last_report = time.monotonic()
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sink-writer")
        self._inflight: Future | None = None
        self._paused = False
        self._written: dict[TopicPartition, int] = {}  # written to the engine, not yet committed
        self._commit_tried = 0.0
        self._commit_failing_since: float | None = None

    # the loop
    def run(self, report_every_s: float = 10.0) -> None:
        try:
            while not self.stopping.is_set():
                self._commit_finished()
                if self._written and time.monotonic() - self._commit_tried >= COMMIT_RETRY_S:
                    self._commit_written()
                records = self.consumer.poll(timeout_ms=self._poll_timeout_ms())
                for batch in records.values():
                    for record in batch:
                        self._add(record)
                if self.clock.due(time.monotonic()):
                    if self._inflight is None:
                        self._start_write()
                    elif not self._paused:
                        self.consumer.pause(*self.consumer.assignment())  # hold reading, stay in the group
                        self._paused = True
                if time.monotonic() - self._last_report >= report_every_s:
                    self._report()
            try:
                self.flush()  # graceful stop: what was read is written and committed
            except StoppedWhileRetrying:
                log.warning("stopped while the search engine was unavailable; the uncommitted batch will be replayed")
        finally:
            self.close()

    def _poll_timeout_ms(self) -> int:
        if self._paused:
            return 50
        # Not past the open batch's age limit: a lone lead would otherwise wait for the poll as well.
        left = self.clock.seconds_left(time.monotonic())
        return 100 if left is None else min(100, int(left * 1000))

    def _start_write(self) -> None:
        pending, self._pending = self._pending, _Pending()
        self.clock.reset()
        if pending.offsets:
            self._inflight = self._sender.submit(self._write, pending)

    def _commit_finished(self, wait: bool = False) -> None:
        if self._inflight is None or not (wait or self._inflight.done()):
            return
        pending = self._inflight.result()  # a failed write raises here: nothing of it is committed
        self._inflight = None
        self._written.update(pending.offsets)
        self._commit_written()
        if self._paused:
            self.consumer.resume(*self.consumer.assignment())
            self._paused = False

    def _commit_written(self) -> None:
        """Commit the offsets of the batches written so far. A commit that fails (a rebalance, Kafka
        unreachable) is tried again from the loop; until then those batches would be replayed, which
        changes nothing. Only the partitions still assigned to us are committed."""
        if not self._written:
            return
        self._commit_tried = time.monotonic()
        owned = self.consumer.assignment()
        offsets = {tp: OffsetAndMetadata(offset + 1, None, -1) for tp, offset in self._written.items() if tp in owned}
        try:
            if offsets:
                self.consumer.commit(offsets)
        except KafkaError as exc:
            now = time.monotonic()
            if self._commit_failing_since is None:
                self._commit_failing_since = now
                log.warning("offset commit failed (%s); retrying, the written batches stay uncommitted meanwhile", exc)
            if isinstance(exc, RebalanceInProgressError) and now - self._commit_failing_since > STUCK_REBALANCE_S:
                self._rejoin()
            return
        if self._commit_failing_since is not None:
            log.info("offset commit succeeded again")
        self._written.clear()
        self._commit_failing_since = None

    def _rejoin(self) -> None:
        """Leave and join the group again. kafka-python 3.0.12 can stay in a rebalance for good: when a
        metadata change triggers it and the leader's JoinGroup/SyncGroup outlasts poll()'s timeout, the
        finished join is never applied, and every commit fails with RebalanceInProgressError."""
        log.warning("the consumer has been rebalancing for over %.0f s: joining the group again", STUCK_REBALANCE_S)
        topics = list(self.consumer.subscription() or [])
        self.consumer.unsubscribe()
        self.consumer.subscribe(topics)
        self._written.clear()  # replayed from the committed offsets once the group is joined again
        self._commit_failing_since = None
        self._paused = False

    def stop(self) -> None:
        self.stopping.set()

    def close(self) -> None:
        try:
            self._sender.shutdown(wait=True)
            self.producer.close()
        finally:
            self.consumer.close(autocommit=False)
            self.backend.close()

    # reading
    def _add(self, record: Any) -> None:
        if self.metrics.first_record_at is None:
            self.metrics.first_record_at = time.monotonic()
        topic = record.topic[len(self.prefix) :]
        pending = self._pending
        pending.offsets[TopicPartition(record.topic, record.partition)] = record.offset
        try:
            if topic == "leads.routed":
                lead = decode(record.value, record.headers, Lead)
                pending.actions.append(lead_actions(lead, self.leads_index, bytes(record.value)))
                pending.sources.append(record)
            elif topic == "cases.state":
                case = decode(record.value, record.headers, Case)
                pending.actions.append(case_state_actions(case, record.offset, self.cases_index))
                pending.sources.append(record)
            else:
                pending.events.append((decode(record.value, record.headers, CaseEvent), record))
        except DecodeError as exc:
            pending.letters.append(self._letter(exc, record))
        self.clock.add(len(record.value or b""), time.monotonic())

    def _letter(self, error: BaseException, record: Any, **details: Any) -> DeadLetter:
        return DeadLetter.of(
            STAGE, error, record.value or b"", key=record.key, topic=record.topic,
            partition=record.partition, offset=record.offset, details=details,
        )  # fmt: skip

    # writing
    def flush(self) -> None:
        """Write and commit everything read so far (used at stop, and by tests)."""
        self._commit_finished(wait=True)
        self._start_write()
        self._commit_finished(wait=True)

    def _write(self, pending: _Pending) -> _Pending:
        """In the sender thread: bulk, case events, dead letters. Returns the batch for its commit."""
        refused = send_until_acknowledged(self.backend, pending.actions, wait=self._backoff, on_retry=self._retrying)
        for item in refused:
            error = RuntimeError(f"the search engine refused the document ({item.status})")
            pending.letters.append(self._letter(error, pending.sources[item.position], status=item.status, response=item.error))
        for rejected in apply_case_events(self.backend, self.cases_index, pending.events):
            pending.letters.append(self._letter(rejected.error, rejected.token))
        for letter in pending.letters:
            value, headers = encode(letter)
            self.producer.send("leads.dlq", value, letter.key, headers)
        self.producer.flush()
        self.metrics.documents += len(pending.actions) - len(refused)
        self.metrics.case_events += len(pending.events)
        self.metrics.dead_letters += len(pending.letters)
        self.metrics.batches += 1
        return pending

    def _backoff(self, seconds: float) -> None:
        if self.stopping.wait(seconds):
            raise StoppedWhileRetrying()

    def _retrying(self, reason: str) -> None:
        self.metrics.retries += 1
        log.warning("search engine not taking writes (%s); consumer paused, retrying", reason)

    def _report(self) -> None:
        self._last_report = time.monotonic()
        try:
            assigned = list(self.consumer.assignment())
            ends = self.consumer.end_offsets(assigned) if assigned else {}
            self.metrics.lag = sum(max(0, ends[tp] - self.consumer.position(tp)) for tp in assigned)
        except Exception:  # noqa: BLE001 - a metric must never stop the sink
            self.metrics.lag = None
        log.info(self.metrics.line())
