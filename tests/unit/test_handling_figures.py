"""The handling figures a case carries for dashboards, worked out from its history after every event."""

from __future__ import annotations

import datetime as dt

from schemas.cases import Action, Case, CaseEvent, Rating, Status
from schemas.status_machine import apply_event

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def step(case: Case, action: Action, hours: float, **fields) -> Case:
    defaults = {Action.assign: {"department": "市住建局"}, Action.resolve: {"note": "已维修"}}
    event = CaseEvent(case_id=case.case_id, action=action, actor="x", at=T0 + dt.timedelta(hours=hours),
                      **(defaults.get(action, {}) | fields))  # fmt: skip
    return apply_event(case, event)


def handled(due_hours: float = 72) -> Case:
    case = Case(case_id="c1", first_seen=T0, due_at=T0 + dt.timedelta(hours=due_hours))
    for action, hours in ((Action.accept, 1), (Action.assign, 2), (Action.start, 3), (Action.return_, 5),
                          (Action.assign, 6), (Action.start, 7), (Action.resolve, 30)):  # fmt: skip
        case = step(case, action, hours)
    return case


def test_a_resolved_case_carries_when_how_long_on_time_and_returns():
    case = handled()
    assert case.status is Status.resolved
    assert case.accepted_at == T0 + dt.timedelta(hours=1) and case.resolved_at == T0 + dt.timedelta(hours=30)
    assert case.hours_to_resolve == 30.0 and case.resolved_on_time is True
    assert (case.returns, case.reopens, case.last_rating) == (1, 0, None)


def test_late_when_resolved_after_the_due_date_and_unknown_without_one():
    assert handled(due_hours=24).resolved_on_time is False
    no_due = Case(case_id="c2", first_seen=T0)
    for action, hours in ((Action.accept, 1), (Action.assign, 2), (Action.start, 3), (Action.resolve, 4)):
        no_due = step(no_due, action, hours)
    assert no_due.resolved_on_time is None and no_due.hours_to_resolve == 4.0


def test_a_dissatisfied_rating_and_reopening_clear_the_resolution_until_it_is_resolved_again():
    case = step(handled(), Action.rate, 40, rating=Rating.dissatisfied)
    assert case.last_rating is Rating.dissatisfied
    reopened = step(case, Action.reopen, 41)
    assert reopened.resolved_at is None and reopened.hours_to_resolve is None and reopened.resolved_on_time is None
    assert reopened.reopens == 1 and reopened.last_rating is Rating.dissatisfied
    again = step(step(step(reopened, Action.assign, 42), Action.start, 43), Action.resolve, 80)
    assert again.resolved_at == T0 + dt.timedelta(hours=80) and again.resolved_on_time is False
    assert step(again, Action.rate, 90, rating=Rating.satisfied).last_rating is Rating.satisfied
