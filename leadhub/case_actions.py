"""Acting on a case: check the action against the case's current status and reserve the transition
atomically (the ledger), then publish the CaseEvent.

A refused action is never reported as accepted. Of several actions racing on one case, the ledger
lets exactly one through per status: the others see the winner's status and are refused
(IllegalTransition → 409).

- Cluster (``EngineLedger``): the API writes the event into the case document itself, guarded by the
  document's ``_seq_no``/``_primary_term`` (a concurrent write makes the guard fail; the case is read
  again and the action checked against its new status), under a per-case lock so that one API
  process publishes one case's events in the order it reserved them. Then the event goes to
  ``cases.events``; the sink finds it already in the case's history and changes nothing (replays are
  no-ops). If publishing fails the reservation is undone.
- Embedded (``EmbeddedLedger``): the check and the write are one SQLite transaction.
"""

from __future__ import annotations

import logging
import threading
import weakref
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from adapters.producer import CheckedProducer
from adapters.search_backend import SearchBackend, SearchRequestError
from leadhub.readers.contract import ReadStore
from leadhub.settings import KafkaSettings
from schemas.cases import Action, Case, CaseEvent
from schemas.errors import LeadhubError
from schemas.leads import RawLead
from schemas.serialization import encode
from schemas.status_machine import apply_event, apply_merge
from sinks.case_events import apply_decision_to_leads
from sinks.documents import case_handling_doc

log = logging.getLogger("leadhub.case_actions")
MAX_CONFLICT_RETRIES = 20  # 16 racing actions each lose at most once per winner


class CaseNotFound(LeadhubError):
    pass


class UnknownDepartment(LeadhubError):
    def __init__(self, department: str, allowed: Iterable[str]) -> None:
        allowed = list(allowed)
        super().__init__(
            f"unknown department {department!r}; allowed: {', '.join(allowed)}",
            hint="pick one of the taxonomy's departments or add it to routing.extra_departments",
        )
        self.allowed = allowed


def allowed_departments(taxonomy: Any, extra: Iterable[str] = ()) -> list[str]:
    """The departments a case may be assigned to: the taxonomy's (level 1 and level 2) and the
    configured extra ones, in that order, each once."""
    found = [*taxonomy.departments.values(), *(sub.department for sub in taxonomy.subcategories), *extra]
    return list(dict.fromkeys(d.strip() for d in found if d and d.strip()))


def check_department(event: CaseEvent, allowed: list[str]) -> None:
    named = event.action is Action.assign or (event.action is Action.recategorize and event.department)
    if named and allowed and event.department not in allowed:
        raise UnknownDepartment(event.department or "", allowed)


class UnknownCategory(LeadhubError):
    def __init__(self, message: str, allowed: Iterable[str]) -> None:
        allowed = list(allowed)
        super().__init__(f"{message}; allowed: {', '.join(allowed)}", hint="pick a class of the taxonomy (enrichers/data/taxonomy.yaml)")
        self.allowed = allowed


def check_category(event: CaseEvent, taxonomy: Any) -> None:
    """A recategorize names a level-1 class of the taxonomy and, if any, one of that class's level-2 classes."""
    if event.action is not Action.recategorize or taxonomy is None or not event.level1:
        return
    if event.level1 not in taxonomy.departments:
        raise UnknownCategory(f"unknown level-1 class {event.level1!r}", taxonomy.level1_names)
    subs = [sub.name for sub in taxonomy.subcategories if sub.level1 == event.level1]
    if event.level2 and event.level2 not in subs:
        raise UnknownCategory(f"unknown level-2 class {event.level2!r} of {event.level1}", subs)


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
    case: Case  # the case after the event
    visible: bool  # the case document already shows the event


class CaseLedger(Protocol):
    """Checks an action against the case's current status and records it atomically, then hands it
    to ``publish``. Raises CaseNotFound, IllegalTransition, MergeRefused; nothing is recorded then."""

    def record(self, event: CaseEvent, publish: Callable[[CaseEvent], None]) -> Case: ...


class _Stripes:
    """Per-case locks without a lock per case ever seen: a fixed set, chosen by the case id's hash."""

    def __init__(self, count: int = 64) -> None:
        self._locks = [threading.Lock() for _ in range(count)]

    def holding(self, *case_ids: str) -> list[threading.Lock]:
        # Taken in one global order, so a merge (two cases) never deadlocks with another merge.
        picked = sorted({zlib.crc32(c.encode()) % len(self._locks) for c in case_ids})
        return [self._locks[i] for i in picked]


class EngineLedger:
    """The search engine's case document is the ledger: compare-and-set on its sequence number."""

    def __init__(self, backend: SearchBackend, index: str, leads_index: str | None = None) -> None:
        self.backend = backend
        self.index = index
        self.leads_index = leads_index  # a recategorization reaches the case's leads at once, too
        self._stripes = _Stripes()

    def record(self, event: CaseEvent, publish: Callable[[CaseEvent], None]) -> Case:
        ids = [event.case_id, *([event.target_case_id] if event.target_case_id and event.action is Action.merge else [])]
        locks = self._stripes.holding(*ids)
        for lock in locks:
            lock.acquire()
        try:
            case, undo = self._reserve(event)
            try:
                publish(event)
            except BaseException:
                self._undo(undo)
                raise
            if event.action is Action.recategorize and self.leads_index:
                # The sink does the same when the event reaches it; done here so the API's answer
                # holds for the leads too (setting them to the case's decision twice changes nothing).
                apply_decision_to_leads(self.backend, self.leads_index, case)
            return case
        finally:
            for lock in reversed(locks):
                lock.release()

    def _get(self, case_id: str) -> tuple[dict[str, Any], Case] | None:
        found = self.backend.get(self.index, case_id)
        return (found, Case.model_validate(found["_source"])) if found else None

    def _put(self, found: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
        """Write ``doc`` over the version read as ``found``; SearchRequestError 409 when it changed."""
        return self.backend.update(
            self.index, found["_id"], {"doc": doc}, if_seq_no=found["_seq_no"], if_primary_term=found["_primary_term"]
        )

    def _reserve(self, event: CaseEvent) -> tuple[Case, list[tuple[str, dict[str, Any], dict[str, Any]]]]:
        for _ in range(MAX_CONFLICT_RETRIES):
            current = self._get(event.case_id)
            if current is None:
                raise CaseNotFound(f"no case {event.case_id}", hint="check the case id; new cases appear after routing")
            found, case = current
            undo: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
            try:
                if event.action is Action.merge:
                    assert event.target_case_id is not None
                    into = self._get(event.target_case_id)
                    after, target_after = apply_merge(case, into[1] if into else None, event)
                    if after is case and into is not None and target_after is into[1]:
                        return after, []  # the same event again: already recorded
                    written = self._put(found, case_handling_doc(after))
                    undo.append((event.case_id, case_handling_doc(case), written))
                    assert into is not None
                    written = self._put(into[0], case_handling_doc(target_after, membership=True))
                    undo.append((event.target_case_id, case_handling_doc(into[1], membership=True), written))
                    return after, undo
                after = apply_event(case, event)
                if after is case:
                    return after, []  # the same event again: already recorded
                split = event.action is Action.split_  # a split changes the membership too
                written = self._put(found, case_handling_doc(after, membership=split))
                return after, [(event.case_id, case_handling_doc(case, membership=split), written)]
            except SearchRequestError as exc:
                if exc.status != 409:
                    self._undo(undo)
                    raise
                self._undo(undo)  # the merge's second write lost: take back the first, then read both again
        raise SearchRequestError(f"case {event.case_id} kept changing while the action was recorded", status=409)

    def _undo(self, undo: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> None:
        for case_id, before, written in reversed(undo):
            try:
                self.backend.update(self.index, case_id, {"doc": before},
                                    if_seq_no=written["_seq_no"], if_primary_term=written["_primary_term"])  # fmt: skip
            except SearchRequestError as exc:
                # Someone wrote after us: the case keeps an action that did not reach Kafka. Rare (a
                # publish failing while another process acted); logged so an operator can look.
                log.error("could not take back a recorded action on case %s: %s", case_id, exc)


class EmbeddedLedger:
    """Embedded mode: the embedded index applies the event in one transaction (check + write)."""

    def __init__(self, index: Any) -> None:
        self.index = index

    def record(self, event: CaseEvent, publish: Callable[[CaseEvent], None]) -> Case:
        if self.index.case_document(event.case_id) is None:
            raise CaseNotFound(f"no case {event.case_id}", hint="check the case id; new cases appear after routing")
        return self.index.apply_event(event)  # the index is where embedded events go: nothing else to publish


_LEDGERS: weakref.WeakKeyDictionary[Any, CaseLedger] = weakref.WeakKeyDictionary()
_LEDGERS_LOCK = threading.Lock()


def ledger_for(store: ReadStore) -> CaseLedger:
    """The ledger that matches the store the API reads; one per store, so its per-case locks are
    shared by every request."""
    with _LEDGERS_LOCK:
        ledger = _LEDGERS.get(store)
        if ledger is None:
            ledger = _LEDGERS[store] = _new_ledger(store)
        return ledger


def _new_ledger(store: ReadStore) -> CaseLedger:
    index = getattr(store, "index", None)
    if index is not None and hasattr(index, "apply_event"):
        return EmbeddedLedger(index)
    backend, indices = getattr(store, "backend", None), getattr(store, "indices", None)
    if backend is None or indices is None:
        raise TypeError(f"no case ledger for {type(store).__name__}")
    return EngineLedger(backend, indices["cases"], indices.get("leads"))


def act(
    ledger: CaseLedger, publisher: Publisher, event: CaseEvent, *, allowed_departments: list[str] | None = None,
    taxonomy: Any = None,
) -> ActionResult:  # fmt: skip
    """Raises UnknownDepartment, UnknownCategory, CaseNotFound, IllegalTransition (the action is not
    allowed in the case's current status), MergeRefused. Returns only once the event is recorded and published."""
    check_department(event, allowed_departments or [])
    check_category(event, taxonomy)
    case = ledger.record(event, publisher.publish_event)
    # Embedded mode's ledger writes the index itself and publishes nothing: a publisher that listens
    # (the notifier's, leadhub/notify/embedded.py) hears of the recorded event here instead.
    recorded = getattr(publisher, "event_recorded", None)
    if recorded is not None:
        recorded(event)
    return ActionResult(event, case, True)
