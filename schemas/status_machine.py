"""The case status machine: one table of allowed transitions, one function that applies an event."""

from __future__ import annotations

from typing import Any

from schemas.cases import (
    LEAD_IDS_CAP,
    Action,
    Case,
    CaseEvent,
    CaseRating,
    Feedback,
    HistoryEntry,
    MergedCase,
    Status,
)
from schemas.errors import RecordError
from schemas.handling_figures import handling_figures
from schemas.leads import Category

S = Status
ACTIVE = frozenset({S.new, S.accepted, S.assigned, S.in_progress})

# action -> {status it may be applied in: status it leads to}. None as target = status unchanged.
TRANSITIONS: dict[Action, dict[Status, Status | None]] = {
    Action.accept: {S.new: S.accepted},
    Action.reject: {S.new: S.rejected, S.accepted: S.rejected},
    Action.assign: {S.accepted: S.assigned, S.assigned: S.assigned},  # assigning again re-routes
    Action.start: {S.assigned: S.in_progress},
    # 退单: the department hands the case back; it waits to be routed again.
    Action.return_: {S.assigned: S.accepted, S.in_progress: S.accepted},
    Action.resolve: {S.in_progress: S.resolved},
    Action.feedback: {S.resolved: S.closed, S.closed: S.closed},
    Action.close: {S.resolved: S.closed},
    Action.reopen: {S.resolved: S.accepted, S.closed: S.accepted, S.rejected: S.accepted},
    Action.note: {status: None for status in Status},
    Action.merge: {status: S.closed for status in ACTIVE},
    Action.split_: {status: None for status in ACTIVE},
    # A correction of the routing, not a step of the handling: it changes no status and is allowed in
    # every status, closed and rejected too (a finished case's category is what statistics count and
    # what the classifier learns from; a wrong one found later is still worth fixing).
    Action.recategorize: {status: None for status in Status},
    # Rating changes no status: a dissatisfied rating that reopens the case is a reopen event of its
    # own (the caller decides, by its setting), so history shows both and each applies once.
    Action.rate: {S.resolved: None, S.closed: None},
}

OPEN311_CLOSED = frozenset({S.closed, S.rejected})


class IllegalTransition(RecordError):
    def __init__(self, event: CaseEvent, status: Status) -> None:
        allowed = ", ".join(s.value for s in TRANSITIONS[event.action]) or "no status"
        super().__init__(
            f"cannot {event.action.value} case {event.case_id}: it is {status.value}, "
            f"and {event.action.value} is allowed only from {allowed}",
            hint="reload the case and choose an action its status allows",
        )
        self.action = event.action
        self.status = status


class AlreadyRated(RecordError):
    """A second rating of the same resolution: each answer is rated once (a reopened and again
    resolved case may be rated again)."""

    def __init__(self, event: CaseEvent) -> None:
        super().__init__(
            f"case {event.case_id} is already rated for its current result",
            hint="a case can be rated once per resolution; it can be rated again after it is reopened and resolved",
        )


def rated_since_resolution(case: Case) -> bool:
    """Whether the case's latest resolution has a rating already."""
    for entry in reversed(case.history):
        if entry.action is Action.rate:
            return True
        if entry.action is Action.resolve:
            return False
    return False


class MergeRefused(RecordError):
    """A merge whose target does not exist (``missing``) or is no longer open."""

    def __init__(self, message: str, *, hint: str, missing: bool = False) -> None:
        super().__init__(message, hint=hint)
        self.missing = missing


def allowed_actions(status: Status) -> list[Action]:
    return [action for action, table in TRANSITIONS.items() if status in table]


def open311_status(status: Status) -> str:
    return "closed" if status in OPEN311_CLOSED else "open"


def apply_event(case: Case, event: CaseEvent) -> Case:
    """The case after ``event``; the same case if the event was applied before (replays are no-ops)."""
    if event.case_id != case.case_id:
        raise ValueError(f"event for case {event.case_id} applied to case {case.case_id}")
    if any(entry.event_id == event.event_id for entry in case.history):
        return case
    table = TRANSITIONS[event.action]
    if case.status not in table:
        raise IllegalTransition(event, case.status)
    target = table[case.status] or case.status
    if event.action is Action.rate and rated_since_resolution(case):
        raise AlreadyRated(event)

    changes: dict[str, Any] = {"status": target}
    extra: dict[str, Any] = {}
    if event.action is Action.assign:
        changes.update(department=event.department, assignee=event.assignee)
    elif event.action is Action.start and event.assignee:
        changes["assignee"] = event.assignee
    elif event.action is Action.return_:
        changes["assignee"] = None
    elif event.action is Action.resolve:
        changes["resolution"] = event.note
    elif event.action is Action.feedback:
        changes["feedback"] = [*case.feedback, Feedback(actor=event.actor, at=event.at, note=event.note or "")]
    elif event.action is Action.reopen:
        changes["resolution"] = None
    elif event.action is Action.rate:
        assert event.rating is not None  # CaseEvent's validator
        rating = CaseRating(actor=event.actor, at=event.at, rating=event.rating, comment=event.note,
                            resolution=case.resolution)  # fmt: skip
        changes["ratings"] = [*case.ratings, rating]
        extra["rating"] = event.rating
    elif event.action is Action.merge:
        changes["merged_into"] = event.target_case_id
        extra["other_case_id"] = event.target_case_id
    elif event.action is Action.recategorize:
        changes.update(recategorized(case, event))
        extra.update(from_category=case.category, from_department=case.department, category=changes["category"])
    elif event.action is Action.split_:
        extra["lead_ids"] = list(event.lead_ids)
        leaving = set(event.lead_ids)
        changes["lead_ids"] = [lead for lead in case.lead_ids if lead not in leaving]
        changes["report_count"] = max(0, case.report_count - (len(case.lead_ids) - len(changes["lead_ids"])))

    department = changes["department"] if event.action is Action.recategorize else event.department
    entry = HistoryEntry(
        event_id=event.event_id, action=event.action, actor=event.actor, at=event.at,
        from_status=case.status, to_status=target, department=department,
        assignee=event.assignee, note=event.note, **extra,
    )  # fmt: skip
    changes["history"] = [*case.history, entry]
    return with_figures(case.model_copy(update=changes))


def with_figures(case: Case) -> Case:
    return case.model_copy(update=handling_figures(case))


def recategorized(case: Case, event: CaseEvent) -> dict[str, Any]:
    """What a recategorize changes: the category when it names one, the department when it names one,
    and the marks that make both a human decision. A new department drops the assignee (one of the
    old department's people)."""
    category = Category(level1=event.level1, level2=event.level2) if event.level1 else case.category
    department = event.department or case.department
    changes: dict[str, Any] = {
        "category": category, "department": department, "category_source": "human",
        "decided_by": event.actor, "decided_at": event.at,
    }  # fmt: skip
    if department != case.department:
        changes["assignee"] = None
    return changes


def merge_target_event_id(event: CaseEvent) -> str:
    """The id of a merge's entry in the target's history (the event itself is the merged case's)."""
    return f"{event.event_id}:into"


def check_merge_target(event: CaseEvent, target: Case | None) -> None:
    """A merge goes only into an existing case that is still being handled (new … in progress):
    a resolved, closed, rejected or itself merged case takes no more reports."""
    if target is None:
        raise MergeRefused(f"cannot merge case {event.case_id} into {event.target_case_id}: no such case",
                           hint="check the target case id", missing=True)  # fmt: skip
    if target.status not in ACTIVE or target.merged_into:
        raise MergeRefused(
            f"cannot merge case {event.case_id} into {target.case_id}: it is {target.status.value}"
            + (f" (merged into {target.merged_into})" if target.merged_into else ""),
            hint="merge only into a case that is new, accepted, assigned or in progress",
        )


def apply_merge(source: Case, target: Case | None, event: CaseEvent) -> tuple[Case, Case]:
    """Both sides of a merge: ``source`` closes as merged into ``target``; the target takes its
    report count, channels, sources and lead ids, and records the merge in its history.

    Idempotent per side: an event already applied to a side leaves that side as it is, so a replay
    after a crash between the two writes completes the merge instead of refusing it."""
    if event.action is not Action.merge:
        raise ValueError(f"apply_merge needs a merge event, not {event.action.value}")
    source_done = any(entry.event_id == event.event_id for entry in source.history)
    if target is None or not source_done:
        check_merge_target(event, target)
    assert target is not None
    merged_source = apply_event(source, event)
    into_id = merge_target_event_id(event)
    if any(entry.event_id == into_id for entry in target.history):
        return merged_source, target
    moved = MergedCase(
        case_id=source.case_id, report_count=source.report_count, channels=source.channels,
        sources=source.sources, lead_ids=source.lead_ids, reporter_groups=source.reporter_groups,
        activities=source.activities,
    )  # fmt: skip
    entry = HistoryEntry(
        event_id=into_id, action=Action.merge, actor=event.actor, at=event.at, from_status=target.status,
        to_status=target.status, note=event.note, other_case_id=source.case_id,
    )  # fmt: skip
    merged = [*(m for m in target.merged if m.case_id != source.case_id), moved]
    return merged_source, target.model_copy(update={**with_merged(target_membership(target), [moved]),
                                                    "merged": merged, "history": [*target.history, entry]})  # fmt: skip


def target_membership(case: Case) -> dict[str, Any]:
    return {"report_count": case.report_count, "channels": list(case.channels), "sources": list(case.sources),
            "lead_ids": list(case.lead_ids), "reporter_groups": list(case.reporter_groups),
            "activities": list(case.activities)}  # fmt: skip


def with_merged(membership: dict[str, Any], merged: list[MergedCase]) -> dict[str, Any]:
    """A case's own membership (report_count, channels, sources, lead_ids) plus what merged cases
    brought. The route stage's snapshots of a case know only its own leads; this adds the rest back."""
    result = {
        "report_count": membership.get("report_count", 0), "channels": list(membership.get("channels") or []),
        "sources": list(membership.get("sources") or []), "lead_ids": list(membership.get("lead_ids") or []),
        # experience officers' groups and activities: a merged report still counts for its group
        "reporter_groups": list(membership.get("reporter_groups") or []),
        "activities": list(membership.get("activities") or []),
    }  # fmt: skip
    for moved in merged:
        result["reporter_groups"] += [g for g in moved.reporter_groups if g not in result["reporter_groups"]]
        result["activities"] += [a for a in moved.activities if a not in result["activities"]]
        result["report_count"] += moved.report_count
        result["channels"] += [c for c in moved.channels if c not in result["channels"]]
        result["sources"] += [s for s in moved.sources if s not in result["sources"]]
        room = LEAD_IDS_CAP - len(result["lead_ids"])
        result["lead_ids"] += [i for i in moved.lead_ids if i not in result["lead_ids"]][: max(room, 0)]
    return result
