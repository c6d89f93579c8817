"""The case status machine: one table of allowed transitions, one function that applies an event."""

from __future__ import annotations

from leadhub.errors import RecordError
from schemas.cases import Action, Case, CaseEvent, Feedback, HistoryEntry, Status

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
    Action.split: {status: None for status in ACTIVE},
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

    changes: dict = {"status": target}
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
    elif event.action is Action.merge:
        changes["merged_into"] = event.target_case_id
    elif event.action is Action.split:
        leaving = set(event.lead_ids)
        changes["lead_ids"] = [lead for lead in case.lead_ids if lead not in leaving]

    entry = HistoryEntry(
        event_id=event.event_id, action=event.action, actor=event.actor, at=event.at,
        from_status=case.status, to_status=target, department=event.department,
        assignee=event.assignee, note=event.note,
    )  # fmt: skip
    changes["history"] = [*case.history, entry]
    return case.model_copy(update=changes)
