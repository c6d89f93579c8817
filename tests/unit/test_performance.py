"""Each department-performance figure's definition (leadhub/performance.py) on hand-built histories."""

from __future__ import annotations

import datetime as dt

import pytest

from leadhub.performance import (
    category_rows,
    department_rows,
    officer_rows,
    p90,
    weekly_received,
    working_deadline,
)
from leadhub.performance_settings import PerformanceSettings
from schemas.cases import Action, Case, CaseEvent, Rating
from schemas.leads import Category
from schemas.status_machine import apply_event
from schemas.timezones import zone

Z = zone(None)
# 2026-11-02 is a Monday.
MON = dt.datetime(2026, 11, 2, 9, 0, tzinfo=Z)
SINCE, UNTIL, NOW = dt.datetime(2026, 11, 1, tzinfo=Z), dt.datetime(2026, 12, 1, tzinfo=Z), dt.datetime(2026, 12, 20, tzinfo=Z)


def at(days: float = 0, hours: float = 0, start: dt.datetime = MON) -> dt.datetime:
    return start + dt.timedelta(days=days, hours=hours)


def case(case_id: str, *steps: tuple, first_seen: dt.datetime = MON, department: str | None = "城管局", due_in_days: float | None = 5,
         last_seen: dt.datetime | None = None, level1: str = "市容环境") -> Case:  # fmt: skip
    """A case and the events applied to it in order: (action, time, extra fields)."""
    c = Case(case_id=case_id, first_seen=first_seen, last_seen=last_seen or first_seen, department=department,
             category=Category(level1=level1), due_at=first_seen + dt.timedelta(days=due_in_days) if due_in_days else None)  # fmt: skip
    for n, (action, when, *extra) in enumerate(steps):
        fields = {"note": "x"} if action in (Action.resolve, Action.reject, Action.feedback, Action.note) else {}
        fields |= extra[0] if extra else {}
        c = apply_event(c, CaseEvent(event_id=f"{case_id}-{n}", case_id=case_id, action=action, actor=fields.pop("actor", "officer"),
                                     at=when, **fields))  # fmt: skip
    return c


def handled(case_id: str, resolve_at: dt.datetime, *, accept_at: dt.datetime | None = None, department: str = "城管局", **kw) -> Case:
    return case(case_id, (Action.accept, accept_at or at(hours=1)), (Action.assign, at(hours=2), {"department": department}),
                (Action.start, at(hours=3)), (Action.resolve, resolve_at), department=department, **kw)  # fmt: skip


def rows(cases, **kw):
    return {r.department: r for r in department_rows(cases, since=SINCE, until=UNTIL, now=NOW, **kw)}


# --- working time ------------------------------------------------------------------------------

S = PerformanceSettings()


def test_one_working_day_from_a_weekday_is_the_same_time_next_day():
    assert working_deadline(at(hours=1), 1, S) == at(days=1, hours=1)


def test_friday_evening_runs_over_the_weekend_to_monday_evening():
    friday = dt.datetime(2026, 11, 6, 17, tzinfo=Z)
    assert working_deadline(friday, 1, S) == dt.datetime(2026, 11, 9, 17, tzinfo=Z)


def test_a_case_reported_on_saturday_is_due_by_the_end_of_monday():
    saturday = dt.datetime(2026, 11, 7, 10, tzinfo=Z)
    assert working_deadline(saturday, 1, S) == dt.datetime(2026, 11, 10, 0, tzinfo=Z)


def test_holidays_are_skipped_and_a_worked_weekend_day_counts():
    monday = dt.datetime(2026, 11, 2, 10, tzinfo=Z)
    holiday = PerformanceSettings(holidays=[dt.date(2026, 11, 3)])
    assert working_deadline(monday, 1, holiday) == dt.datetime(2026, 11, 4, 10, tzinfo=Z)
    saturday = dt.datetime(2026, 11, 7, 10, tzinfo=Z)
    worked = PerformanceSettings(workdays=[dt.date(2026, 11, 7)])
    assert working_deadline(saturday, 1, worked) == dt.datetime(2026, 11, 9, 10, tzinfo=Z)


def test_accepted_in_time_is_judged_on_the_working_day_edge():
    saturday = dt.datetime(2026, 11, 7, 10, tzinfo=Z)
    edge = dt.datetime(2026, 11, 10, 0, tzinfo=Z)
    cases = [
        case("in", (Action.accept, edge), first_seen=saturday),  # exactly at the end of Monday: in time
        case("late", (Action.accept, edge + dt.timedelta(seconds=1)), first_seen=saturday),
        case("never", first_seen=saturday),
    ]
    row = rows(cases)["城管局"]
    assert (row.received, row.accepted_in_time) == (3, 1)
    assert row.case_ids["accepted_in_time"] == ["in"]


def test_the_limit_is_a_setting():
    c = case("a", (Action.accept, at(days=1, hours=12)))
    assert rows([c])["城管局"].accepted_in_time == 0
    assert rows([c], settings=PerformanceSettings(accept_within_working_days=2))["城管局"].accepted_in_time == 1


# --- resolution --------------------------------------------------------------------------------


def test_resolved_on_time_median_and_p90():
    cases = [handled(f"c{h}", at(hours=h)) for h in (10, 20, 30, 40)] + [handled("late", at(days=6))]
    row = rows(cases)["城管局"]
    assert row.resolved == 5
    assert row.on_time_rate == pytest.approx(4 / 5)  # due 5 days after first seen
    assert row.median_hours_to_resolve == 30.0
    assert row.p90_hours_to_resolve == 144.0  # nearest rank: ceil(0.9 * 5) = 5th of 5
    assert row.case_ids["on_time"] == ["c10", "c20", "c30", "c40"]


def test_percentiles_by_nearest_rank_and_median_of_an_even_count():
    assert p90(list(range(1, 11))) == 9
    assert p90([5.0]) == 5.0
    assert p90([]) is None
    cases = [handled("a", at(hours=10)), handled("b", at(hours=20))]
    assert rows(cases)["城管局"].median_hours_to_resolve == 15.0


def test_a_reopened_case_waiting_for_a_new_answer_is_not_resolved_and_the_last_resolve_counts():
    reopened = case("r", (Action.accept, at(hours=1)), (Action.assign, at(hours=2), {"department": "城管局"}), (Action.start, at(hours=3)),
                    (Action.resolve, at(hours=4)), (Action.reopen, at(hours=5)))  # fmt: skip
    again = case("g", (Action.accept, at(hours=1)), (Action.assign, at(hours=2), {"department": "城管局"}), (Action.start, at(hours=3)),
                 (Action.resolve, at(hours=4)), (Action.reopen, at(hours=5)), (Action.assign, at(hours=6), {"department": "城管局"}),
                 (Action.start, at(hours=7)), (Action.resolve, at(days=6)))  # fmt: skip
    row = rows([reopened, again])["城管局"]
    assert row.resolved == 1
    assert row.median_hours_to_resolve == 144.0
    assert row.on_time_rate == 0.0  # the last answer came after the due time
    assert row.reopened == 2


def test_a_case_without_a_due_time_is_left_out_of_the_on_time_rate():
    row = rows([handled("a", at(hours=5), due_in_days=None)])["城管局"]
    assert (row.resolved, row.on_time_rate) == (1, None)


def test_empty_department_and_empty_input():
    assert department_rows([], since=SINCE, until=UNTIL, now=NOW) == []
    row = rows([case("a")])["城管局"]
    assert (row.received, row.resolved, row.rated) == (1, 0, 0)
    assert row.on_time_rate is row.median_hours_to_resolve is row.p90_hours_to_resolve is None
    assert row.satisfaction_rate is row.repeat_rate is None


def test_the_window_is_half_open_on_first_seen_and_merged_cases_are_left_out():
    cases = [case("before", first_seen=SINCE - dt.timedelta(seconds=1)), case("first", first_seen=SINCE),
             case("last", first_seen=UNTIL - dt.timedelta(seconds=1)), case("after", first_seen=UNTIL),
             case("merged", (Action.merge, at(hours=1), {"target_case_id": "first"}))]  # fmt: skip
    assert rows(cases)["城管局"].case_ids["received"] == ["first", "last"]


def test_events_after_now_are_not_counted():
    c = handled("a", at(hours=5))
    row = {r.department: r for r in department_rows([c], since=SINCE, until=UNTIL, now=at(hours=4))}["城管局"]
    assert row.resolved == 0


# --- returns, reopenings, ratings, repeats ---------------------------------------------------------


def test_a_return_counts_for_the_department_that_returned_the_case():
    c = case("a", (Action.accept, at(hours=1)), (Action.assign, at(hours=2), {"department": "住建局"}),
             (Action.return_, at(hours=3)), (Action.assign, at(hours=4), {"department": "城管局"}), (Action.start, at(hours=5)),
             (Action.return_, at(hours=6)), (Action.assign, at(hours=7), {"department": "城管局"}), department="城管局")  # fmt: skip
    by = rows([c])
    assert by["住建局"].returned == 1 and by["住建局"].received == 0
    assert by["城管局"].returned == 1 and by["城管局"].received == 1
    assert by["住建局"].case_ids["returned"] == ["a"]


def test_ratings_each_count_and_satisfaction_is_satisfied_plus_basically_over_rated():
    first = handled("a", at(hours=5))
    first = apply_event(first, CaseEvent(event_id="r1", case_id="a", action=Action.rate, actor="o", at=at(hours=6), rating=Rating.dissatisfied))
    for n, (action, hours, extra) in enumerate([(Action.reopen, 7, {}), (Action.assign, 8, {"department": "城管局"}), (Action.start, 9, {}),
                                                 (Action.resolve, 10, {"note": "x"}), (Action.rate, 11, {"rating": Rating.satisfied})]):
        first = apply_event(first, CaseEvent(event_id=f"x{n}", case_id="a", action=action, actor="o", at=at(hours=hours), **extra))
    other = handled("b", at(hours=5))
    other = apply_event(other, CaseEvent(event_id="r2", case_id="b", action=Action.rate, actor="o", at=at(hours=6), rating=Rating.basically_satisfied))
    row = rows([first, other])["城管局"]
    assert row.rated == 3
    assert row.satisfaction_rate == pytest.approx(2 / 3, abs=1e-4)  # rates are rounded to 4 places
    assert row.reopened == 1
    assert sorted(row.case_ids["satisfied"]) == ["a", "b"]


def test_repeat_rate_counts_cases_reported_again_after_their_first_resolve():
    again = handled("again", at(hours=5), last_seen=at(hours=6))
    before = handled("before", at(hours=5), last_seen=at(hours=4))
    open_case = case("open", last_seen=at(days=3))  # never resolved: not in the rate
    row = rows([again, before, open_case])["城管局"]
    assert row.repeat_rate == 0.5
    assert row.case_ids["repeat"] == ["again"]


def test_unrouted_cases_have_their_own_row_and_categories_split_a_department():
    cases = [case("u", department=None), case("a", level1="市容环境"), case("b", level1="交通出行"), case("c", level1="交通出行")]
    assert rows(cases)[None].received == 1
    split = {(r.department, r.category): r.received for r in category_rows(cases, since=SINCE, until=UNTIL, now=NOW)}
    assert split == {("城管局", "交通出行"): 2, ("城管局", "市容环境"): 1, (None, "市容环境"): 1}


def test_weekly_received_counts_the_weeks_ending_with_until():
    cases = [case("a", first_seen=MON), case("b", first_seen=MON + dt.timedelta(days=6)), case("c", first_seen=MON - dt.timedelta(days=1))]
    starts, counts = weekly_received(cases, until=dt.datetime(2026, 11, 9, tzinfo=Z), weeks=3)
    assert starts == [dt.date(2026, 10, 19), dt.date(2026, 10, 26), dt.date(2026, 11, 2)]
    assert counts["城管局"] == [0, 1, 2]


# --- officers ----------------------------------------------------------------------------------------


def test_officer_rows_count_reports_outcomes_and_ratings_once():
    resolved = handled("c1", at(hours=5))
    resolved = apply_event(resolved, CaseEvent(event_id="r", case_id="c1", action=Action.rate, actor="王", at=at(hours=6), rating=Rating.satisfied))
    rejected = case("c2", (Action.reject, at(hours=1)))
    leads = [
        {"lead_id": "l1", "source": "officer-intake", "author": "王", "case_id": "c1", "published_at": "2026-11-02T10:00:00+08:00"},
        {"lead_id": "l2", "source": "officer-intake", "author": "王", "case_id": "c1", "published_at": "2026-11-02T11:00:00+08:00",
         "reporter_group": "traffic"},
        {"lead_id": "l3", "source": "officer-intake", "author": "李", "case_id": "c2"},
        {"lead_id": "l4", "source": "board", "author": "王", "case_id": "c1"},
    ]
    by = {r.officer: r for r in officer_rows(leads, {"c1": resolved, "c2": rejected}, now=NOW)}
    assert (by["王"].reports, by["王"].accepted, by["王"].resolved, by["王"].rejected) == (2, 2, 2, 0)
    assert by["王"].ratings == {"satisfied": 1, "basically_satisfied": 0, "dissatisfied": 0}
    assert by["王"].group == "traffic"
    assert (by["李"].reports, by["李"].accepted, by["李"].rejected) == (1, 0, 1)


def test_weekly_received_per_category_is_keyed_as_the_category_rows_are():
    cases = [case("a", first_seen=MON, level1="交通出行"), case("b", first_seen=MON, level1="市容环境"), case("c", first_seen=MON, level1="交通出行")]
    _, counts = weekly_received(cases, until=dt.datetime(2026, 11, 9, tzinfo=Z), weeks=2, by_category=True)
    assert counts == {("城管局", "交通出行"): [0, 2], ("城管局", "市容环境"): [0, 1]}
