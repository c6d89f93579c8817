"""Embedded mode: the notifier inside the API process.

The API's publisher is wrapped: after an event is applied to the embedded index (an API action:
``event_recorded``, called by case_actions.act; any other event: ``publish_event``), its id goes into
the ledger's outbox (one SQLite insert) and a background thread is woken, which notifies and then
clears it. Requests never wait for a send; an outbox entry left by a stop or crash is sent after
the restart (the dedup record keeps it from being sent twice).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from leadhub.notify.messages import actions_reaching
from leadhub.notify.service import NotifyStopped, notify_case_event, open_notifier, summary
from schemas.cases import CaseEvent
from schemas.leads import RawLead

if TYPE_CHECKING:
    from leadhub.case_actions import Publisher
    from leadhub.readers.contract import ReadStore
    from leadhub.settings import Settings

log = logging.getLogger("leadhub.notify")
RETRY_AFTER_S = 5.0


class OutboxWorker:
    def __init__(self, settings: Settings, store: ReadStore) -> None:
        self.settings = settings
        self.store = store
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self.notifier = open_notifier(settings, stopping=self._stopping)
        self.ledger = self.notifier.ledger
        self.actions = actions_reaching(settings.notify.statuses)
        self.idle = threading.Event()  # set while nothing is pending (tests wait on it)
        self._thread = threading.Thread(target=self._run, name="notify-outbox", daemon=True)
        self._thread.start()

    def event_applied(self, event: CaseEvent) -> None:
        if event.action in self.actions:
            self.idle.clear()
            self.ledger.enqueue(event.case_id, event.event_id)
            self._wake.set()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                pending = self.ledger.pending()
                for case_id, event_id in pending:
                    deliveries = notify_case_event(self.settings, self.store, self.notifier, case_id, event_id)
                    if deliveries:
                        log.info("case %s event %s: %s", case_id, event_id, summary(deliveries))
                    self.ledger.done(event_id)
            except NotifyStopped:
                return
            except Exception:  # noqa: BLE001 - the outbox keeps the event; the worker must outlive a bad moment
                log.exception("notifying failed; trying the outbox again in %.0f s", RETRY_AFTER_S)
                self._wake.wait(RETRY_AFTER_S)
                continue
            if not pending:
                if not self._wake.is_set():  # else an event came in meanwhile
                    self.idle.set()
                self._wake.wait(30.0)  # new events wake it at once

    def close(self) -> None:
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout=30)
        self.notifier.close()
        self.ledger.close()


class NotifyingPublisher:
    """The embedded publisher, telling the outbox about each event it applied."""

    def __init__(self, inner: Publisher, settings: Settings, store: ReadStore) -> None:
        self.inner = inner
        self.worker = OutboxWorker(settings, store)

    def publish_event(self, event: CaseEvent) -> None:
        self.inner.publish_event(event)
        self.worker.event_applied(event)

    def event_recorded(self, event: CaseEvent) -> None:
        """An API action, recorded by the embedded ledger (which publishes nothing): see case_actions.act."""
        self.worker.event_applied(event)

    def publish_lead(self, lead: RawLead) -> None:
        self.inner.publish_lead(lead)

    def close(self) -> None:
        self.worker.close()
        self.inner.close()
