"""Bulk actions for leads and cases: pure, so what the sink writes is testable without an engine."""

from __future__ import annotations

from typing import Any

from schemas.cases import Case, MergedCase
from schemas.handling_figures import FIELDS as HANDLING_FIGURES
from schemas.index_templates import lead_index
from schemas.leads import Lead
from schemas.status_machine import with_merged

# The parts of a case the route stage owns (cases.state); status and history belong to the events.
MEMBERSHIP_FIELDS = (
    "title", "summary", "category", "department", "place", "priority", "report_count",
    "channels", "sources", "first_seen", "last_seen", "lead_ids", "due_at", "reporter_groups", "activities",
    "entities",  # the hot-issue stage's, on the route stage's snapshots
)  # fmt: skip
HANDLING_FIELDS = (
    "status", "assignee", "department", "resolution", "merged_into", "merged", "history", "feedback", "ratings",
    "category", "category_source", "decided_by", "decided_at",  # a recategorize sets these
    *HANDLING_FIGURES,  # worked out from the history after every event
)  # fmt: skip
# What a recategorized case's leads take from it (leads_decision).
DECISION_FIELDS = ("category", "department", "category_source", "decided_by", "decided_at")
# A merge also changes the target's membership (it takes the merged case's reports), a split the case's.
MERGED_MEMBERSHIP = ("report_count", "channels", "sources", "lead_ids", "reporter_groups", "activities")


def lead_actions(lead: Lead, alias: str, source: bytes | None = None) -> list[dict[str, Any] | bytes]:
    """Index the lead under its id, in its month's index behind ``alias`` (index_templates.lead_index:
    its date never changes, so a rewrite replaces the same document). ``source``: the message's own
    JSON of this lead, sent as is (it was validated into ``lead``), which spares serializing it again."""
    body: dict[str, Any] | bytes = source if source is not None else lead.model_dump(mode="json")
    return [{"index": {"_index": lead_index(alias, lead), "_id": lead.lead_id}}, body]


def apply_case_state(doc: dict[str, Any] | None, case: Case, offset: int | None = None) -> dict[str, Any]:
    """The case document after the route stage's snapshot ``case`` (from Kafka ``offset``, when there
    is one): the one rule both sinks write by. The snapshot owns the membership fields, except that
    a person's decision is kept: an officer's assignment keeps its department, a recategorization
    (category_source "human") its category and department, a replay's routing ("replay") its category, department
    and place (kept_routing); status and handling stay as events made them; what
    merged cases brought is added back; a snapshot not newer than the one applied before changes
    nothing (a replay never wins). Returns a new dict; ``doc`` is not changed."""
    fields = case.model_dump(mode="json", include=set(MEMBERSHIP_FIELDS))
    stamp = {} if offset is None else {"state_offset": offset}
    if doc is None:
        return {"case_id": case.case_id, "status": case.status.value, **stamp, **fields}
    applied = doc.get("state_offset")
    if offset is not None and applied is not None and applied >= offset:
        return dict(doc)
    kept = kept_routing(doc)
    result = {**doc, **{k: v for k, v in fields.items() if k not in kept}}
    # The route stage knows only the case's own leads: add back what merged cases brought.
    result.update(with_merged(fields, [MergedCase.model_validate(m) for m in doc.get("merged") or []]))
    return {**result, **stamp}


def kept_routing(doc: dict[str, Any], *, replaying: bool = False) -> set[str]:
    """The routing fields of a case document that a route-stage snapshot (or, ``replaying``, a replay)
    leaves: a recategorization (category_source "human") keeps category and department from both, an
    assignment the department; a replay's routing (category_source "replay") is kept from snapshots,
    which carry the routing the case got when it was new, but not from the next replay."""
    if doc.get("category_source") == "human":
        return {"category", "department"}
    kept = {"category", "department", "place"} if doc.get("category_source") == "replay" and not replaying else set()
    if any(entry.get("action") == "assign" for entry in doc.get("history") or []):
        kept.add("department")
    return kept


def apply_case_routing(doc: dict[str, Any], routing: dict[str, Any]) -> dict[str, Any]:
    """The case document after a replay routed its primary lead again: ``routing`` (JSON fields such as
    category, department, place) except what a person decided (kept_routing), marked category_source
    "replay" when it changed anything; membership and handling stay. Returns a new dict; ``doc`` is not
    changed."""
    kept = kept_routing(doc, replaying=True)
    changes = {k: v for k, v in routing.items() if k not in kept and doc.get(k) != v}
    return {**doc, **changes, "category_source": "replay"} if changes else dict(doc)


def case_state_actions(
    case: Case, offset: int, index: str, found: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Bulk action for a state snapshot, given the engine's ``found`` document (a get/mget hit with
    _source, _seq_no and _primary_term; None when it had none)."""
    return guarded_case_action(index, case.case_id, apply_case_state(found and found["_source"], case, offset), found)


def guarded_case_action(index: str, case_id: str, doc: dict[str, Any], found: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Write ``doc`` over the ``found`` version only (guarded by its sequence number), or create it
    when there was none: a concurrent change makes the item a 409, and the caller reads it again.
    Optimistic concurrency instead of an update script: Elasticsearch here lacks painless (DESIGN §8)."""
    if found is None:
        return [{"create": {"_index": index, "_id": case_id}}, doc]
    meta = {"_index": index, "_id": case_id, "if_seq_no": found["_seq_no"], "if_primary_term": found["_primary_term"]}
    return [{"index": meta}, doc]


def case_handling_doc(case: Case, *, membership: bool = False) -> dict[str, Any]:
    """``membership``: the case took a merged case's reports, so its counts change too."""
    return case.model_dump(mode="json", include=set(HANDLING_FIELDS) | (set(MERGED_MEMBERSHIP) if membership else set()))


def leads_decision(case: Case) -> dict[str, Any] | None:
    """The fields a recategorized case's leads take from it (a partial lead document), or None when
    no person decided the case's routing. A decided lead no longer waits for triage."""
    if case.category_source != "human":
        return None
    return {**case.model_dump(mode="json", include=set(DECISION_FIELDS)), "needs_triage": False}


def decided_lead_ids(case: Case) -> tuple[list[str], list[str]]:
    """The leads a decision on ``case`` applies to: the ids it lists and those of the cases merged into
    it; and, when its report count passes what it lists (the list is capped), the case ids whose
    leads also apply (a stored lead carries its case id). Both stores use this one rule."""
    ids = list(dict.fromkeys([*case.lead_ids, *(i for m in case.merged for i in m.lead_ids)]))
    # (report_count includes what merged cases brought)
    return ids, ([case.case_id, *(m.case_id for m in case.merged)] if case.report_count > len(ids) else [])
