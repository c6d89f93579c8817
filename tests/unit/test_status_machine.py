import itertools

import pytest

from schemas.cases import Action, Case, CaseEvent, Rating, Status
from schemas.status_machine import TRANSITIONS, AlreadyRated, IllegalTransition, allowed_actions, apply_event, open311_status

EXPECTED = {
    # (action, from) -> to; every pair not listed must be refused.
    (Action.accept, Status.new): Status.accepted,
    (Action.reject, Status.new): Status.rejected,
    (Action.reject, Status.accepted): Status.rejected,
    (Action.assign, Status.accepted): Status.assigned,
    (Action.assign, Status.assigned): Status.assigned,
    (Action.start, Status.assigned): Status.in_progress,
    (Action.return_, Status.assigned): Status.accepted,
    (Action.return_, Status.in_progress): Status.accepted,
    (Action.resolve, Status.in_progress): Status.resolved,
    (Action.feedback, Status.resolved): Status.closed,
    (Action.feedback, Status.closed): Status.closed,
    (Action.close, Status.resolved): Status.closed,
    (Action.reopen, Status.resolved): Status.accepted,
    (Action.reopen, Status.closed): Status.accepted,
    (Action.reopen, Status.rejected): Status.accepted,
    **{(Action.note, s): s for s in Status},
    **{(Action.merge, s): Status.closed for s in (Status.new, Status.accepted, Status.assigned, Status.in_progress)},
    **{(Action.split_, s): s for s in (Status.new, Status.accepted, Status.assigned, Status.in_progress)},
    # A routing correction changes no status, in any status (closed and rejected too: see TRANSITIONS).
    **{(Action.recategorize, s): s for s in Status},
    # A rating changes no status (a dissatisfied one reopens through a reopen event of its own).
    (Action.rate, Status.resolved): Status.resolved,
    (Action.rate, Status.closed): Status.closed,
}


def event(action, **fields):
    defaults = {
        Action.assign: {"department": "市住建局"},
        Action.merge: {"target_case_id": "other"},
        Action.split_: {"lead_ids": ["l2"]},
        Action.resolve: {"note": "已维修"},
        Action.reject: {"note": "不属于受理范围"},
        Action.feedback: {"note": "已电话回访"},
        Action.note: {"note": "备注"},
        Action.recategorize: {"level1": "环境保护", "level2": "环境污染"},
        Action.rate: {"rating": Rating.satisfied},
    }
    return CaseEvent(case_id="c1", action=action, actor="officer-1", **(defaults.get(action, {}) | fields))


@pytest.mark.parametrize("action, status", list(itertools.product(Action, Status)))
def test_every_transition(action, status):
    case = Case(case_id="c1", status=status, lead_ids=["l1", "l2"])
    if (action, status) in EXPECTED:
        after = apply_event(case, event(action))
        assert after.status is EXPECTED[(action, status)]
        assert after.history[-1].from_status is status
        assert after.history[-1].to_status is after.status
        assert action in allowed_actions(status)
    else:
        with pytest.raises(IllegalTransition) as raised:
            apply_event(case, event(action))
        message = str(raised.value)
        assert f"cannot {action.value} case c1" in message and f"it is {status.value}" in message
        assert action not in allowed_actions(status)


def test_table_and_expectations_agree():
    table_pairs = {(a, s) for a, targets in TRANSITIONS.items() for s in targets}
    assert table_pairs == set(EXPECTED)


def test_a_full_handling_run():
    case = Case(case_id="c1", lead_ids=["l1"])
    for e in [
        event(Action.accept),
        event(Action.assign, assignee="张三"),
        event(Action.start),
        event(Action.resolve, note="已更换电梯配件，恢复运行"),
        event(Action.feedback, note="已回访，群众满意"),
    ]:
        case = apply_event(case, e)
    assert case.status is Status.closed
    assert case.department == "市住建局" and case.assignee == "张三"
    assert case.resolution == "已更换电梯配件，恢复运行"
    assert [f.note for f in case.feedback] == ["已回访，群众满意"]
    assert len(case.history) == 5
    assert open311_status(case.status) == "closed"


def test_replaying_an_event_changes_nothing():
    e = event(Action.accept)
    once = apply_event(Case(case_id="c1"), e)
    assert apply_event(once, e) == once
    noted = apply_event(once, event(Action.note))
    assert apply_event(noted, event(Action.note, event_id=noted.history[-1].event_id)) == noted


def test_return_clears_the_assignee_and_split_removes_leads_and_merge_points_on():
    case = Case(case_id="c1", status=Status.in_progress, assignee="张三", lead_ids=["l1", "l2", "l3"])
    assert apply_event(case, event(Action.return_)).assignee is None
    assert apply_event(case, event(Action.split_, lead_ids=["l2"])).lead_ids == ["l1", "l3"]
    assert apply_event(case, event(Action.merge, target_case_id="c9")).merged_into == "c9"


def test_an_event_for_another_case_is_a_bug():
    with pytest.raises(ValueError):
        apply_event(Case(case_id="c2"), event(Action.accept))


@pytest.mark.parametrize(
    "action, fields, message",
    [
        (Action.assign, {"department": None}, "department"),
        (Action.merge, {"target_case_id": None}, "target_case_id"),
        (Action.merge, {"target_case_id": "c1"}, "itself"),
        (Action.split_, {"lead_ids": []}, "lead_ids"),
        (Action.resolve, {"note": None}, "note"),
    ],
)
def test_events_missing_what_their_action_needs_are_invalid(action, fields, message):
    with pytest.raises(ValueError, match=message):
        event(action, **fields)


@pytest.mark.parametrize("status", list(Status))
def test_open311_status(status):
    assert open311_status(status) == ("closed" if status in (Status.closed, Status.rejected) else "open")


def test_recategorize_sets_category_and_department_marks_them_human_and_records_from_and_to():
    from schemas.leads import Category

    case = Case(case_id="c1", status=Status.assigned, category=Category(level1="城乡建设", level2="其他"),
                department="市住建局", assignee="李四")  # fmt: skip
    after = apply_event(case, event(Action.recategorize, level1="环境保护", level2="环境污染", department="市环保局"))
    assert after.status is Status.assigned
    assert after.category == Category(level1="环境保护", level2="环境污染") and after.department == "市环保局"
    assert after.category_source == "human" and after.decided_by == "officer-1" and after.decided_at is not None
    assert after.assignee is None  # the old department's person
    entry = after.history[-1]
    assert (entry.actor, entry.from_category, entry.category) == ("officer-1", case.category, after.category)
    assert (entry.from_department, entry.department) == ("市住建局", "市环保局")

    # Only the department: the category stays; only the category: the department and assignee stay.
    moved = apply_event(case, event(Action.recategorize, level1=None, level2=None, department="市综合执法局"))
    assert moved.category == case.category and moved.department == "市综合执法局"
    relabelled = apply_event(case, event(Action.recategorize, level1="环境保护", level2=None))
    assert relabelled.category == Category(level1="环境保护") and relabelled.department == "市住建局"
    assert relabelled.assignee == "李四" and relabelled.category_source == "human"


@pytest.mark.parametrize("fields, message", [
    ({"level1": None, "level2": None}, "recategorize needs level1"),
    ({"level1": None, "level2": "环境污染"}, "level2 needs its level1"),
])  # fmt: skip
def test_recategorize_needs_a_class_or_a_department(fields, message):
    with pytest.raises(ValueError, match=message):
        event(Action.recategorize, **fields)


def test_a_rating_is_recorded_once_per_resolution():
    case = apply_event(Case(case_id="c1", status=Status.in_progress), event(Action.resolve, note="已维修"))
    rated = apply_event(case, event(Action.rate, rating=Rating.dissatisfied, note="没修好"))
    assert [(r.rating, r.comment, r.resolution) for r in rated.ratings] == [(Rating.dissatisfied, "没修好", "已维修")]
    assert rated.history[-1].rating is Rating.dissatisfied
    with pytest.raises(AlreadyRated):
        apply_event(rated, event(Action.rate, rating=Rating.satisfied))
    # Reopened and resolved again: the new answer may be rated.
    again = apply_event(apply_event(apply_event(apply_event(rated, event(Action.reopen)),
                        event(Action.assign)), event(Action.start)), event(Action.resolve, note="已更换"))  # fmt: skip
    assert apply_event(again, event(Action.rate, rating=Rating.satisfied)).ratings[-1].resolution == "已更换"


def test_only_rate_takes_a_rating():
    with pytest.raises(ValueError, match="rate needs a rating"):
        CaseEvent(case_id="c1", action=Action.rate, actor="o")
    with pytest.raises(ValueError, match="only rate takes one"):
        CaseEvent(case_id="c1", action=Action.note, actor="o", note="x", rating=Rating.satisfied)
