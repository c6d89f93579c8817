"""Acting on a case: check the action against the case as the reader sees it, publish the CaseEvent,
and wait (briefly) until the index shows it.

The check is advisory: the sink applies events through the same status machine, so an event that
raced another one past this check ends as a dead letter there, never as a wrong status.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

from leadhub.errors import LeadhubError
from leadhub.producer import CheckedProducer
from leadhub.read_store import ReadStore
from leadhub.settings import KafkaSettings
from schemas.cases import Case, CaseEvent
from schemas.leads import RawLead
from schemas.serialization import encode
from schemas.status_machine import apply_event


class CaseNotFound(LeadhubError):
    pass


class Publisher(Protocol):
    """Where the API hands what people do: each call returns once the record is durably accepted."""

    def publish_event(self, event: CaseEvent) -> None: ...
    def publish_lead(self, lead: RawLead) -> None: ...
    def close(self) -> None: ...


class KafkaPublisher:
    """Case events to ``cases.events`` keyed by case id (one case's events stay in order), field
    reports to ``leads.raw`` keyed like every ingested lead."""

    def __init__(self, kafka: KafkaSettings) -> None:
        self._kafka = kafka
        self._producer: CheckedProducer | None = None  # made on first use: reading works while Kafka is down
        self._lock = threading.Lock()  # one flush checks only its own sends

    def _send(self, topic: str, model: CaseEvent | RawLead, key: str) -> None:
        value, headers = encode(model)
        with self._lock:
            if self._producer is None:
                self._producer = CheckedProducer(self._kafka)
            self._producer.send(topic, value, key=key.encode(), headers=headers)
            self._producer.flush()

    def publish_event(self, event: CaseEvent) -> None:
        self._send("cases.events", event, event.case_id)

    def publish_lead(self, lead: RawLead) -> None:
        self._send("leads.raw", lead, lead.key)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close()


@dataclass
class ActionResult:
    event: CaseEvent
    case: Case  # as the status machine expects it after the event
    visible: bool  # the index already shows the event


def act(
    store: ReadStore, publisher: Publisher, event: CaseEvent, *, document: dict[str, Any] | None = None, wait_s: float = 0.0
) -> ActionResult:
    """``document``: the case as the caller already read it (read here otherwise).
    Raises CaseNotFound, IllegalTransition (the action is not allowed in the case's status)."""
    document = document if document is not None else store.get("cases", event.case_id)
    if document is None:
        raise CaseNotFound(f"no case {event.case_id}", hint="check the case id; new cases appear after routing")
    expected = apply_event(Case.model_validate(document), event)
    publisher.publish_event(event)
    return ActionResult(event, expected, wait_until_visible(store, event, wait_s))


def wait_until_visible(store: ReadStore, event: CaseEvent, wait_s: float, poll_s: float = 0.1) -> bool:
    deadline = time.monotonic() + wait_s
    while True:
        document = store.get("cases", event.case_id) or {}
        if any(entry.get("event_id") == event.event_id for entry in document.get("history", [])):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_s)
