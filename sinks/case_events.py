"""Apply case events to case documents through the status machine, with optimistic concurrency.

Events are rare (people act on cases), so each case is read, changed and written back guarded by
its sequence number; a concurrent write (e.g. a cases.state update, or the API reserving an action)
makes the guard fail and the case is read again. Replays change nothing: apply_event skips events
already in the history, so an event the API already wrote into the case (leadhub.case_ledger) is a
no-op here.

A merge changes two cases: the target is checked first (it must exist and be open, else the merge is
refused and the merged case stays as it was), then the merged case is written, then the target.
Each side skips an event it already holds, so a crash between the two writes is completed by the
replay.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from adapters.search_backend import SearchBackend, SearchRequestError
from schemas.cases import Action, Case, CaseEvent
from schemas.errors import RecordError
from schemas.status_machine import apply_event, apply_merge
from sinks.bulk import send_until_acknowledged
from sinks.documents import case_handling_doc, decided_lead_ids, leads_decision

MAX_CONFLICT_RETRIES = 10


@dataclass
class Rejected:
    event: CaseEvent
    error: RecordError  # IllegalTransition, MergeRefused
    token: object  # the caller's handle on the source record


def apply_case_events(
    backend: SearchBackend, index: str, events: Iterable[tuple[CaseEvent, object]], leads_index: str | None = None
) -> list[Rejected]:
    """``leads_index``: where a recategorized case's leads are, to give them its decision."""
    by_case: dict[str, list[tuple[CaseEvent, object]]] = {}
    for event, token in events:
        by_case.setdefault(event.case_id, []).append((event, token))
    rejected: list[Rejected] = []
    for case_id, items in by_case.items():
        rejected += _apply_to_case(backend, index, case_id, items)
        refused = {id(r.event) for r in rejected}
        if leads_index and any(e.action is Action.recategorize and id(e) not in refused for e, _ in items):
            # Also when the event was in the history already (the API wrote it): setting the leads
            # to what the case now says is idempotent, and a replay finds them as they should be.
            found = backend.get(index, case_id)
            if found:
                apply_decision_to_leads(backend, leads_index, Case.model_validate(found["_source"]))
    return rejected


def apply_decision_to_leads(backend: SearchBackend, leads_index: str, case: Case) -> int:
    """Give a recategorized case's leads its category and department (documents.decided_lead_ids,
    the rule the embedded index follows too); returns how many leads changed. A lead not in the
    index yet is skipped: it arrives with its own routing (leads.routed may lag behind an event)."""
    decision = leads_decision(case)
    if decision is None:
        return 0
    ids, case_ids = decided_lead_ids(case)
    # Each lead is updated in its own month's index (an update cannot name an alias of several).
    where: dict[str, str] = {}
    if case_ids:  # past the capped list: the stored leads that carry the case's id (and their index)
        hits = backend.search(leads_index, {"query": {"terms": {"case_id": case_ids}}, "size": 10_000, "_source": False})
        where = {hit["_id"]: hit["_index"] for hit in hits["hits"]["hits"]}
        ids += [lead_id for lead_id in where if lead_id not in ids]
    unplaced = [i for i in ids if i not in where]
    where |= {lead_id: hit["_index"] for lead_id, hit in backend.find(leads_index, unplaced, source=False).items()}
    actions = [[{"update": {"_index": where[i], "_id": i, "retry_on_conflict": 3}}, {"doc": decision}] for i in ids if i in where]
    refused = send_until_acknowledged(backend, actions, wait=time.sleep)
    failed = [r for r in refused if r.status != 404]
    if failed:
        raise SearchRequestError(f"the engine refused a decided lead of case {case.case_id}: {failed[0].error}", status=failed[0].status)
    return len(actions) - len(refused)


def _apply_to_case(backend: SearchBackend, index: str, case_id: str, items: list[tuple[CaseEvent, object]]) -> list[Rejected]:
    """In order; the events between two merges are written together."""
    rejected: list[Rejected] = []
    run: list[tuple[CaseEvent, object]] = []
    for event, token in items:
        if event.action is not Action.merge:
            run.append((event, token))
            continue
        if run:
            rejected += _apply_run(backend, index, case_id, run)
            run = []
        rejected += _apply_merge(backend, index, event, token)
    if run:
        rejected += _apply_run(backend, index, case_id, run)
    return rejected


def _apply_merge(backend: SearchBackend, index: str, event: CaseEvent, token: object) -> list[Rejected]:
    assert event.target_case_id is not None
    for _ in range(MAX_CONFLICT_RETRIES):
        found = backend.get(index, event.case_id)
        into = backend.get(index, event.target_case_id)
        source = Case.model_validate(found["_source"]) if found else Case(case_id=event.case_id)
        target = Case.model_validate(into["_source"]) if into else None
        try:
            merged_source, merged_target = apply_merge(source, target, event)
        except RecordError as exc:
            return [Rejected(event, exc, token)]
        try:
            if found:
                backend.update(index, event.case_id, {"doc": case_handling_doc(merged_source)},
                               if_seq_no=found["_seq_no"], if_primary_term=found["_primary_term"])  # fmt: skip
            else:
                backend.create(index, event.case_id, {"case_id": event.case_id, **case_handling_doc(merged_source)})
            assert into is not None  # apply_merge refuses a missing target
            backend.update(index, event.target_case_id, {"doc": case_handling_doc(merged_target, membership=True)},
                           if_seq_no=into["_seq_no"], if_primary_term=into["_primary_term"])  # fmt: skip
            return []
        except SearchRequestError as exc:
            if exc.status != 409:
                raise
    raise SearchRequestError(f"case {event.case_id} or {event.target_case_id} kept changing under the event writer", status=409)


def _apply_run(backend: SearchBackend, index: str, case_id: str, items: list[tuple[CaseEvent, object]]) -> list[Rejected]:
    splits = any(event.action is Action.split_ for event, _ in items)  # a split changes the membership too
    for _ in range(MAX_CONFLICT_RETRIES):
        found = backend.get(index, case_id)
        case = Case.model_validate(found["_source"]) if found else Case(case_id=case_id)
        rejected = []
        for event, token in items:
            try:
                case = apply_event(case, event)
            except RecordError as exc:
                rejected.append(Rejected(event, exc, token))
        if len(rejected) == len(items):
            return rejected  # nothing applied: nothing to write (as the embedded index writes nothing)
        try:
            if found:
                backend.update(
                    index, case_id, {"doc": case_handling_doc(case, membership=splits)},
                    if_seq_no=found["_seq_no"], if_primary_term=found["_primary_term"],
                )  # fmt: skip
            else:
                backend.create(index, case_id, {"case_id": case_id, **case_handling_doc(case)})
            return rejected
        except SearchRequestError as exc:
            if exc.status != 409:
                raise
    raise SearchRequestError(f"case {case_id} kept changing under the event writer", status=409)
