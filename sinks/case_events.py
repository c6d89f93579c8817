"""Apply case events to case documents through the status machine, with optimistic concurrency.

Events are rare (people act on cases), so each case is read, changed and written back guarded by
its sequence number; a concurrent write (e.g. a cases.state update) makes the guard fail and the
case is read again. Replays change nothing: apply_event skips events already in the history.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from leadhub.search_backend import SearchBackend, SearchRequestError
from schemas.cases import Case, CaseEvent
from schemas.status_machine import IllegalTransition, apply_event
from sinks.documents import case_handling_doc

MAX_CONFLICT_RETRIES = 10


@dataclass
class Rejected:
    event: CaseEvent
    error: IllegalTransition
    token: object  # the caller's handle on the source record


def apply_case_events(backend: SearchBackend, index: str, events: Iterable[tuple[CaseEvent, object]]) -> list[Rejected]:
    by_case: dict[str, list[tuple[CaseEvent, object]]] = {}
    for event, token in events:
        by_case.setdefault(event.case_id, []).append((event, token))
    rejected: list[Rejected] = []
    for case_id, items in by_case.items():
        rejected += _apply_to_case(backend, index, case_id, items)
    return rejected


def _apply_to_case(backend: SearchBackend, index: str, case_id: str, items: list[tuple[CaseEvent, object]]) -> list[Rejected]:
    for _ in range(MAX_CONFLICT_RETRIES):
        found = backend.get(index, case_id)
        case = Case.model_validate(found["_source"]) if found else Case(case_id=case_id)
        rejected = []
        for event, token in items:
            try:
                case = apply_event(case, event)
            except IllegalTransition as exc:
                rejected.append(Rejected(event, exc, token))
        try:
            if found:
                backend.update(
                    index, case_id, {"doc": case_handling_doc(case)},
                    if_seq_no=found["_seq_no"], if_primary_term=found["_primary_term"],
                )  # fmt: skip
            else:
                backend.create(index, case_id, {"case_id": case_id, **case_handling_doc(case)})
            return rejected
        except SearchRequestError as exc:
            if exc.status != 409:
                raise
    raise SearchRequestError(f"case {case_id} kept changing under the event writer", status=409)
