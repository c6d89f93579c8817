"""Department performance (部门考核): the 12345 centres' measures, computed from cases and their history.

Pure: cases in, rows out; the API and web pages read the cases from a store (``cases_between``), the
briefing calls the same functions.

Which cases: those first reported (``first_seen``: the first report's publication time, else its
fetch time) in ``[since, until)``, except cases merged into another (their reports count in the case
they joined). Everything is judged as of ``now``: history entries and ratings after it are ignored,
so a past period gives the same figures tomorrow.

Which department: the case's current department (``None``: not routed yet), except ``returned``, which
counts for the department that handed the case back (the one its last assign or recategorize before
the return named). Per-category rows split a department's cases by the case's current level-1 class.

The figures, per department (and per category within it):

- ``received``: the cases.
- ``accepted_in_time``: cases whose first ``accept`` came within ``accept_within_working_days`` of
  working time after first_seen. Working time counts whole days Monday to Friday in the city's zone
  (Asia/Shanghai), less ``holidays``, plus ``workdays`` (weekend days worked, 调休); 1 working day =
  24 h of such time, so a case reported Friday 17:00 is in time until Monday 17:00, one reported on
  Saturday until the end of Monday. A case not accepted (yet) is not in time.
- ``resolved``: cases whose status is resolved or closed (the answer stands; a reopened case waiting
  for a new answer is not resolved).
- ``on_time_rate``: of the resolved cases with a due time, the share whose last ``resolve`` was at or
  before ``due_at``. None without such cases.
- ``median_hours_to_resolve`` / ``p90_hours_to_resolve``: hours from first_seen to the last
  ``resolve`` of the resolved cases; median as usual (mean of the middle two), p90 by nearest rank
  (the smallest time that 90 % of the cases took at most). None without resolved cases.
- ``returned``: ``return`` (退单) events, counted for the department that returned the case.
- ``reopened``: ``reopen`` events of the cases (by anyone: an officer, a dissatisfied rating, a new
  report on a handled case), each time counted.
- ``rated``: ratings given (a case reopened and resolved again can be rated again: each counts).
- ``satisfaction_rate``: (satisfied + basically satisfied) / rated. None when nothing was rated.
- ``repeat_rate``: of the cases ever resolved, the share that got a new report after their first
  ``resolve``: the case's ``last_seen`` (its newest report's publication, else fetch, time) is later
  than that resolve. None when no case was resolved.

Each row also names, per figure, the cases behind it (``case_ids``), for links; the API leaves them out.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, Field

from leadhub.performance_settings import PerformanceSettings
from schemas.cases import SATISFIED, Action, Case, HistoryEntry, Rating, Status
from schemas.timezones import zone

CITY_ZONE = zone(None)
DONE = frozenset({Status.resolved, Status.closed})
# Figures whose cases a link can name (the page links every number to them).
FIGURES = ("received", "accepted_in_time", "resolved", "on_time", "returned", "reopened", "rated", "satisfied", "repeat")
OFFICER_SOURCE = "officer-intake"


class DepartmentRow(BaseModel):
    department: str | None
    category: str | None = Field(None, description="Level-1 class (per-category rows); None on a department's row.")
    received: int = 0
    accepted_in_time: int = 0
    resolved: int = 0
    on_time_rate: float | None = None
    median_hours_to_resolve: float | None = None
    p90_hours_to_resolve: float | None = None
    returned: int = 0
    reopened: int = 0
    rated: int = 0
    satisfaction_rate: float | None = None
    repeat_rate: float | None = None
    case_ids: dict[str, list[str]] = Field(default_factory=dict, exclude=True)


# --- working time -----------------------------------------------------------------------------


def is_working_day(day: dt.date, settings: PerformanceSettings) -> bool:
    if day in settings.workdays:
        return True
    return day.weekday() < 5 and day not in settings.holidays


def working_deadline(start: dt.datetime, days: float, settings: PerformanceSettings) -> dt.datetime:
    """The moment ``days`` x 24 h of working time have passed since ``start`` (city time)."""
    remaining = dt.timedelta(days=days)
    cursor = start.astimezone(CITY_ZONE)
    for _ in range(3660):  # ten years of calendar days: settings cap the limit far below
        midnight = dt.datetime.combine(cursor.date() + dt.timedelta(days=1), dt.time(), CITY_ZONE)
        if is_working_day(cursor.date(), settings):
            if remaining <= midnight - cursor:
                return cursor + remaining
            remaining -= midnight - cursor
        cursor = midnight
    raise ValueError("no working days within ten years: check performance.holidays")


# --- one case ------------------------------------------------------------------------------------


def history_until(case: Case, now: dt.datetime) -> list[HistoryEntry]:
    return [entry for entry in case.history if entry.at <= now]


def status_at(history: Sequence[HistoryEntry]) -> Status:
    return history[-1].to_status if history else Status.new


def _first(history: Sequence[HistoryEntry], action: Action) -> HistoryEntry | None:
    return next((entry for entry in history if entry.action is action), None)


def _last(history: Sequence[HistoryEntry], action: Action) -> HistoryEntry | None:
    return next((entry for entry in reversed(history) if entry.action is action), None)


def returns_by_department(history: Sequence[HistoryEntry]) -> list[str | None]:
    """For each return, the department that returned the case: the one its last assign or
    recategorize before named (a return needs an assign before it, so there always is one)."""
    holder: str | None = None
    out: list[str | None] = []
    for entry in history:
        if entry.action in (Action.assign, Action.recategorize) and entry.department:
            holder = entry.department
        elif entry.action is Action.return_:
            out.append(holder)
    return out


def hours_between(start: dt.datetime, end: dt.datetime) -> float:
    return (end - start).total_seconds() / 3600


def p90(values: Sequence[float]) -> float | None:
    """Nearest rank: the smallest value with at least 90 % of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


class _Tally:
    """The counts of one row as cases are added; ``row()`` gives the figures."""

    def __init__(self) -> None:
        self.ids: dict[str, list[str]] = defaultdict(list)
        self.hours: list[float] = []
        self.with_due = 0
        self.ever_resolved = 0
        self.counts: dict[str, int] = defaultdict(int)

    def add(self, name: str, case_id: str, times: int = 1) -> None:
        self.counts[name] += times
        if case_id not in self.ids[name]:
            self.ids[name].append(case_id)

    def row(self, department: str | None, category: str | None) -> DepartmentRow:
        c = self.counts
        hours = self.hours
        return DepartmentRow(
            department=department, category=category, received=c["received"], accepted_in_time=c["accepted_in_time"],
            resolved=c["resolved"], on_time_rate=_ratio(c["on_time"], self.with_due),
            median_hours_to_resolve=round(statistics.median(hours), 2) if hours else None,
            p90_hours_to_resolve=None if not hours else round(p90(hours) or 0.0, 2),
            returned=c["returned"], reopened=c["reopened"], rated=c["rated"],
            satisfaction_rate=_ratio(c["satisfied"], c["rated"]), repeat_rate=_ratio(c["repeat"], self.ever_resolved),
            case_ids={name: list(ids) for name, ids in self.ids.items()},
        )  # fmt: skip


def _count_case(tally: _Tally, case: Case, history: list[HistoryEntry], now: dt.datetime, settings: PerformanceSettings) -> None:
    """Every figure of one case except returned (which goes to the returning department)."""
    cid = case.case_id
    tally.add("received", cid)
    accepted = _first(history, Action.accept)
    if accepted is not None and case.first_seen is not None:
        if accepted.at <= working_deadline(case.first_seen, settings.accept_within_working_days, settings):
            tally.add("accepted_in_time", cid)
    last_resolve = _last(history, Action.resolve)
    if status_at(history) in DONE and last_resolve is not None:
        tally.add("resolved", cid)
        if case.first_seen is not None:
            tally.hours.append(hours_between(case.first_seen, last_resolve.at))
        if case.due_at is not None:
            tally.with_due += 1
            if last_resolve.at <= case.due_at:
                tally.add("on_time", cid)
    if reopens := sum(1 for entry in history if entry.action is Action.reopen):
        tally.add("reopened", cid, reopens)
    ratings = [rating for rating in case.ratings if rating.at <= now]
    if ratings:
        tally.add("rated", cid, len(ratings))
    if satisfied := sum(1 for rating in ratings if rating.rating in SATISFIED):
        tally.add("satisfied", cid, satisfied)
    first_resolve = _first(history, Action.resolve)
    if first_resolve is not None:
        tally.ever_resolved += 1
        if case.last_seen is not None and case.last_seen > first_resolve.at:
            tally.add("repeat", cid)


def _in_window(case: Case, since: dt.datetime, until: dt.datetime) -> bool:
    return case.merged_into is None and case.first_seen is not None and since <= case.first_seen < until


def _rows(cases: Iterable[Case], since: dt.datetime, until: dt.datetime, now: dt.datetime,
          settings: PerformanceSettings, by_category: bool) -> list[DepartmentRow]:  # fmt: skip
    tallies: dict[tuple[str | None, str | None], _Tally] = defaultdict(_Tally)
    for case in cases:
        if not _in_window(case, since, until):
            continue
        history = history_until(case, now)
        category = case.category.level1 if by_category and case.category else None
        _count_case(tallies[(case.department, category)], case, history, now, settings)
        for department in returns_by_department(history):
            tallies[(department, category)].add("returned", case.case_id)
    rows = [tally.row(department, category) for (department, category), tally in tallies.items()]
    return sorted(rows, key=lambda r: (r.department is None, r.department or "", r.category is None, r.category or ""))


def department_rows(cases: Iterable[Case], *, since: dt.datetime, until: dt.datetime, now: dt.datetime,
                    settings: PerformanceSettings | None = None) -> list[DepartmentRow]:  # fmt: skip
    """One row per department (see the module's docstring for each figure), by department name; the
    cases not routed yet (department None) last."""
    return _rows(cases, since, until, now, settings or PerformanceSettings(), by_category=False)


def category_rows(cases: Iterable[Case], *, since: dt.datetime, until: dt.datetime, now: dt.datetime,
                  settings: PerformanceSettings | None = None) -> list[DepartmentRow]:  # fmt: skip
    """One row per department and level-1 class (category None: cases without a class)."""
    return _rows(cases, since, until, now, settings or PerformanceSettings(), by_category=True)


# --- trend ----------------------------------------------------------------------------------------


def week_start(moment: dt.datetime) -> dt.date:
    day = moment.astimezone(CITY_ZONE).date()
    return day - dt.timedelta(days=day.weekday())


def weekly_received(cases: Iterable[Case], *, until: dt.datetime, weeks: int, by_category: bool = False,
                    ) -> tuple[list[dt.date], dict[Any, list[int]]]:  # fmt: skip
    """Cases received per department (``by_category``: per (department, level-1 class), as the rows
    are keyed) in each of the ``weeks`` weeks (Monday to Sunday, city time) ending with the week that
    holds the moment just before ``until``; oldest week first."""
    last = week_start(until - dt.timedelta(microseconds=1))
    starts = [last - dt.timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    position = {start: i for i, start in enumerate(starts)}
    counts: dict[Any, list[int]] = defaultdict(lambda: [0] * weeks)
    for case in cases:
        if case.merged_into is not None or case.first_seen is None or case.first_seen >= until:
            continue
        i = position.get(week_start(case.first_seen))
        if i is not None:
            category = case.category.level1 if case.category else None
            counts[(case.department, category) if by_category else case.department][i] += 1
    return starts, dict(counts)


# --- experience officers ----------------------------------------------------------------------


class OfficerRow(BaseModel):
    officer: str
    group: str | None = None
    reports: int = 0
    accepted: int = 0
    rejected: int = 0
    resolved: int = 0
    ratings: dict[str, int] = Field(default_factory=lambda: {r.value: 0 for r in Rating})
    case_ids: dict[str, list[str]] = Field(default_factory=dict, exclude=True)


def officer_rows(leads: Iterable[dict], cases: dict[str, Case], *, now: dt.datetime) -> list[OfficerRow]:
    """Per experience officer (leads of source ``officer-intake``; the officer is the lead's author):

    - ``reports``: their reports (leads);
    - ``accepted``: reports whose case was accepted (an ``accept`` in its history: it reached
      accepted or later, whatever happened since);
    - ``rejected``: reports whose case is rejected (不予受理: unfounded);
    - ``resolved``: reports whose case is resolved or closed;
    - ``ratings``: the ratings the officer gave, per verdict, on the cases of their reports (each
      rating once, even when two of their reports joined the same case).

    ``group``: the group the officer's newest report names (``reporter_group``), if any.
    """
    rows: dict[str, OfficerRow] = {}
    rated: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for lead in sorted(leads, key=lambda item: str(item.get("published_at") or item.get("fetched_at") or "")):
        if lead.get("source") != OFFICER_SOURCE or not lead.get("author"):
            continue
        name = lead["author"]
        row = rows.setdefault(name, OfficerRow(officer=name))
        row.group = lead.get("reporter_group") or row.group
        row.reports += 1
        lead_id = lead.get("lead_id") or ""
        row.case_ids.setdefault("reports", []).append(lead.get("case_id") or lead_id)
        case = cases.get(lead.get("case_id") or "")
        if case is None:
            continue
        history = history_until(case, now)
        status = status_at(history)
        for name_, hit in (("accepted", _first(history, Action.accept) is not None), ("rejected", status is Status.rejected),
                           ("resolved", status in DONE and _last(history, Action.resolve) is not None)):  # fmt: skip
            if hit:
                setattr(row, name_, getattr(row, name_) + 1)
                row.case_ids.setdefault(name_, []).append(case.case_id)
        for rating in case.ratings:
            key = (case.case_id, rating.at.isoformat())
            if rating.actor == name and rating.at <= now and key not in rated[name]:
                rated[name].add(key)
                row.ratings[rating.rating.value] += 1
    return sorted(rows.values(), key=lambda r: (-r.reports, r.officer))
