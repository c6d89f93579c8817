"""The Kafka side of the sink: poll, hand each record to a Sink, flush it in a sender thread, and
commit the offsets a flush covered only after it returned (at-least-once; sinks/contract.py).

A batch is closed by count, bytes or age and flushed while the next one is read; one flush is in
flight at a time. While it is (e.g. the engine is unavailable and the writer retries with backoff), a
full next batch pauses the consumer, which keeps polling so it stays in its group. Knows nothing of
the search engine: any Sink can be fed this way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError, RebalanceInProgressError
from kafka.structs import OffsetAndMetadata

from adapters.kafka_clients import KafkaSettings, kafka_python_options
from schemas.errors import StartupError
from sinks.batch import BatchClock
from sinks.contract import Origin, Sink, StoppedWhileRetrying, deliver
from sinks.metrics import SinkMetrics

log = logging.getLogger("leadhub.sink")
COMMIT_RETRY_S = 1.0
STUCK_REBALANCE_S = 10.0  # a rebalance of a few sinks that poll every 100 ms takes well under this

Offsets = dict[TopicPartition, int]


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


def open_consumer(kafka: KafkaSettings, group_id: str, topics: list[str]) -> KafkaConsumer:
    consumer = KafkaConsumer(
        **kafka_python_options(kafka),
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=2000,
        metadata_max_age_ms=30_000,
    )
    _wait_for_metadata(consumer, topics)
    consumer.subscribe(topics)
    return consumer


class ConsumerLoop:
    def __init__(
        self, consumer: KafkaConsumer, sink: Sink, *, prefix: str, clock: BatchClock,
        metrics: SinkMetrics | None = None, stopping: threading.Event | None = None,
    ) -> None:  # fmt: skip
        self.consumer = consumer
        self.sink = sink
        self.prefix = prefix
        self.clock = clock
        self.metrics = metrics or SinkMetrics()
        self.stopping = stopping or threading.Event()
        self._read: Offsets = {}  # added to the sink, not yet covered by a flush
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sink-writer")
        self._inflight: Future[Offsets] | None = None
        self._paused = False
        self._written: Offsets = {}  # flushed, not yet committed
        self._commit_tried = 0.0
        self._commit_failing_since: float | None = None
        self._last_report = time.monotonic()

    def run(self, report_every_s: float = 10.0) -> None:
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
                    self._start_flush()
                elif not self._paused:
                    self.consumer.pause(*self.consumer.assignment())  # hold reading, stay in the group
                    self._paused = True
            if time.monotonic() - self._last_report >= report_every_s:
                self._report()
        try:
            self.flush()  # graceful stop: what was read is written and committed
        except StoppedWhileRetrying:
            log.warning("stopped while the search engine was unavailable; the uncommitted batch will be replayed")

    def flush(self) -> None:
        """Flush and commit everything read so far (used at stop, and by tests)."""
        self._commit_finished(wait=True)
        self._start_flush()
        self._commit_finished(wait=True)

    def close(self, then: Callable[[], None] = lambda: None) -> None:
        """Wait for a flush in flight, run ``then`` (close the sink), and leave the group uncommitted."""
        try:
            self._sender.shutdown(wait=True)
            then()
        finally:
            self.consumer.close(autocommit=False)

    def _add(self, record: Any) -> None:
        if self.metrics.first_record_at is None:
            self.metrics.first_record_at = time.monotonic()
        origin = Origin(record.topic, bytes(record.value or b""), record.key, record.partition, record.offset)
        deliver(self.sink, record.topic[len(self.prefix) :], origin, record.headers)
        self._read[TopicPartition(record.topic, record.partition)] = record.offset
        self.clock.add(len(origin.value), time.monotonic())

    def _poll_timeout_ms(self) -> int:
        if self._paused:
            return 50
        # Not past the open batch's age limit: a lone lead would otherwise wait for the poll as well.
        left = self.clock.seconds_left(time.monotonic())
        return 100 if left is None else min(100, int(left * 1000))

    def _start_flush(self) -> None:
        # The flush covers at least what was added up to now (it takes the sink's whole batch when it
        # starts); a record added meanwhile is flushed early and committed with the next flush.
        covered, self._read = self._read, {}
        self.clock.reset()
        if covered:
            self._inflight = self._sender.submit(self._flush, covered)

    def _flush(self, covered: Offsets) -> Offsets:
        self.sink.flush()
        return covered

    def _commit_finished(self, wait: bool = False) -> None:
        if self._inflight is None or not (wait or self._inflight.done()):
            return
        covered = self._inflight.result()  # a failed flush raises here: nothing of it is committed
        self._inflight = None
        self._written.update(covered)
        self._commit_written()
        if self._paused:
            self.consumer.resume(*self.consumer.assignment())
            self._paused = False

    def _commit_written(self) -> None:
        """Commit the offsets of the batches flushed so far. A commit that fails (a rebalance, Kafka
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

    def _report(self) -> None:
        self._last_report = time.monotonic()
        try:
            assigned = list(self.consumer.assignment())
            ends = self.consumer.end_offsets(assigned) if assigned else {}
            self.metrics.lag = sum(max(0, ends[tp] - self.consumer.position(tp)) for tp in assigned)
        except Exception:  # noqa: BLE001 - a metric must never stop the sink
            self.metrics.lag = None
        log.info(self.metrics.line())
