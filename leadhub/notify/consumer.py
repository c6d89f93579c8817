"""`leadhub notify run`: the notifier as a Kafka consumer of ``cases.events`` (cluster mode).

``cases.events`` is where every status change is: the API writes each event into the case document
and then publishes it there (leadhub/case_actions.py). For each event that can move a case into a
notified status, the consumer reads the case, takes the change from its history, and notifies the
officers who reported it. Its own consumer group: the search sink never waits for it.

At-least-once: a record's offset is committed only after its notices were sent (or recorded as
failed). No duplicates: each sent message's dedup key (case id, event id, channel) is recorded in
the ledger before the commit, so a restart that reads an event again skips what was sent.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata

from leadhub.notify.messages import actions_reaching
from leadhub.notify.service import Notifier, NotifyStopped, notify_case_event, summary
from schemas.cases import CaseEvent
from schemas.errors import RetryableError
from schemas.serialization import DecodeError, decode
from sinks.consumer import open_consumer

if TYPE_CHECKING:
    from leadhub.readers.contract import ReadStore
    from leadhub.settings import Settings

log = logging.getLogger("leadhub.notify")
RETRY_AFTER_S = 2.0


class NotifyConsumer:
    def __init__(self, settings: Settings, store: ReadStore, notifier: Notifier, stopping: threading.Event | None = None) -> None:
        self.settings = settings
        self.store = store
        self.notifier = notifier
        self.stopping = stopping or threading.Event()
        self.topic = settings.kafka.topic_prefix + "cases.events"
        self.actions = actions_reaching(settings.notify.statuses)
        self.consumer = open_consumer(settings.kafka, settings.notify.group_id, [self.topic])
        self.handled = 0

    def run(self) -> None:
        while not self.stopping.is_set():
            self.step()

    def step(self, *, commit: bool = True, timeout_ms: int = 500) -> int:
        """Poll once and handle what came, committing after each record (``commit=False``: tests
        stopping between a send and its commit). Returns the records handled."""
        handled = 0
        for tp, batch in self.consumer.poll(timeout_ms=timeout_ms).items():
            for record in batch:
                try:
                    self.handle(record)
                except (RetryableError, NotifyStopped, OSError) as exc:
                    # The store is unreachable (or we are stopping): read this record again later.
                    log.warning("event at %s[%d]@%d not handled yet: %s", tp.topic, tp.partition, record.offset, exc)
                    self.consumer.seek(tp, record.offset)
                    self.stopping.wait(RETRY_AFTER_S)
                    break
                except Exception as exc:  # noqa: BLE001 - one event that cannot be handled must not stop the others'
                    log.exception("event at %s[%d]@%d cannot be handled; recorded, going on", tp.topic, tp.partition, record.offset)
                    where = f"{tp.topic}[{tp.partition}]@{record.offset}"
                    self.notifier.ledger.record_failure(where, "event", "-", f"{type(exc).__name__}: {exc}"[:2000], 1)
                handled += 1
                if commit:
                    self._commit(tp, record.offset)
        self.handled += handled
        return handled

    def handle(self, record: Any) -> None:
        try:
            event = decode(bytes(record.value or b""), record.headers, CaseEvent)
        except DecodeError as exc:  # the sink dead-letters it; nothing here to notify about
            log.warning("skipping an undecodable record at %s@%d: %s", record.topic, record.offset, exc)
            return
        if event.action not in self.actions:
            return
        deliveries = notify_case_event(
            self.settings, self.store, self.notifier, event.case_id, event.event_id,
            wait_s=self.settings.notify.case_wait_s, stopping=self.stopping,
        )  # fmt: skip
        if deliveries:
            log.info("case %s event %s: %s", event.case_id, event.event_id, summary(deliveries))

    def _commit(self, tp: TopicPartition, offset: int) -> None:
        try:
            self.consumer.commit({tp: OffsetAndMetadata(offset + 1, None, -1)})
        except Exception as exc:  # noqa: BLE001 - a failed commit replays the record; the ledger skips what was sent
            log.warning("offset commit failed (%s); the event may be read again, nothing is sent twice", exc)

    def close(self) -> None:
        self.consumer.close(autocommit=False)


def run_forever(settings: Settings, store: ReadStore, notifier: Notifier, stopping: threading.Event) -> NotifyConsumer:
    consumer = NotifyConsumer(settings, store, notifier, stopping)
    started = time.monotonic()
    try:
        consumer.run()
    finally:
        consumer.close()
        log.info("notify stopped after %.0f s, %d events read", time.monotonic() - started, consumer.handled)
    return consumer
