"""Experience officers' reports as they follow them: each report (a lead of source ``officer-intake``
whose author is the officer) with what became of its case, and their rating of the answer.

The row (``report_row``) and the rating's events (``rating_events``) are pure; ``list_reports`` and
``find_report`` read the store (leads, then their cases: both stores answer the same requests), and
``rate`` records through the case action path (``leadhub.case_actions.act``), so a rating is checked
and recorded like any officer's action: once per resolution, only on a resolved or closed case.

A report's id here is its lead's id (what ``POST /api/v1/reports`` answers as ``lead_id``): unique
across officers, where the officer's own ``report_id`` is unique only per officer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from leadhub.case_actions import CaseLedger, Publisher, act
from leadhub.intake import INTAKE_SOURCE
from leadhub.queries import CITY_ZONE, Filters, SearchRequest, Sort
from leadhub.readers.contract import ReadStore
from leadhub.reports_settings import ReportsSettings
from schemas.cases import SATISFIED, Action, Case, CaseEvent, Rating, Status
from schemas.errors import LeadhubError
from schemas.status_machine import IllegalTransition, rated_since_resolution
from schemas.timezones import now as utc_now

RATEABLE = frozenset({Status.resolved, Status.closed})
MAX_MERGE_HOPS = 5  # a merged case's report follows the case it joined (a chain of merges, a few hops at most)


class ReportFeedback(BaseModel):
    actor: str
    at: str | None = None
    note: str


class ReportRating(BaseModel):
    rating: Rating
    comment: str | None = None
    at: str | None = None
    resolution: str | None = Field(None, description="The result that was rated.")


class ReportRow(BaseModel):
    """One report as its officer follows it."""

    report_id: str = Field(..., description="The report's lead id.")
    title: str
    submitted_at: str | None = None
    case_id: str | None = Field(None, description="The case that handles it (the one it was merged into, if so).")
    status: Status | None = Field(None, description="The case's status; null while the case is not indexed yet.")
    department: str | None = None
    due_at: str | None = None
    resolution: str | None = Field(None, description="The department's result (resolve note).")
    feedback: list[ReportFeedback] = Field(default_factory=list, description="The department's feedback notes, oldest first.")
    rating: ReportRating | None = Field(None, description="This officer's latest rating of the case, if any.")
    rateable: bool = Field(False, description="The case is resolved or closed and its current result is not rated yet.")
    officer: str | None = None
    group: str | None = None
    activity: str | None = None
    place: str | None = None
    category: str | None = None


class ReportPage(BaseModel):
    total: int
    page: int
    size: int
    rows: list[ReportRow]


def _latest_rating(case: dict[str, Any], officer: str | None) -> ReportRating | None:
    mine = [r for r in case.get("ratings") or [] if r.get("actor") == officer]
    if not mine:
        return None
    last = mine[-1]
    return ReportRating(rating=last["rating"], comment=last.get("comment"), at=last.get("at"), resolution=last.get("resolution"))


def _rateable(case: dict[str, Any]) -> bool:
    if case.get("status") not in RATEABLE:
        return False
    try:
        return not rated_since_resolution(Case.model_validate(case))
    except ValidationError:
        return False


def report_row(lead: dict[str, Any], case: dict[str, Any] | None) -> ReportRow:
    """The row of ``lead`` (an officer's report) and ``case`` (its case: None while not indexed). Pure."""
    officer = lead.get("author")
    place = lead.get("place") or {}
    row = ReportRow(
        report_id=lead["lead_id"], title=lead.get("title") or "", submitted_at=lead.get("fetched_at"),
        case_id=lead.get("case_id"), department=lead.get("department"), officer=officer,
        group=lead.get("reporter_group"), activity=lead.get("activity"),
        place=place.get("community") or place.get("town") or lead.get("location_text"),
        category=(lead.get("category") or {}).get("level1"),
    )  # fmt: skip
    if case is None:
        return row
    return row.model_copy(update={
        "case_id": case.get("case_id") or row.case_id,
        "status": Status(case["status"]) if case.get("status") else None,
        "department": case.get("department") or row.department,
        "due_at": case.get("due_at"),
        "resolution": case.get("resolution"),
        "feedback": [ReportFeedback(actor=f.get("actor", ""), at=f.get("at"), note=f.get("note", "")) for f in case.get("feedback") or []],
        "rating": _latest_rating(case, officer),
        "rateable": _rateable(case),
        "category": (case.get("category") or {}).get("level1") or row.category,
    })  # fmt: skip


def _cases(store: ReadStore, case_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The cases with these ids, whole (history, feedback, ratings), each merged one replaced by the
    case it joined (where its report is handled now). Read by id, which both stores answer at once
    (a search may not show an action taken a moment ago yet)."""
    found: dict[str, dict[str, Any]] = {}
    for case_id in dict.fromkeys(i for i in case_ids if i):
        case, hops = store.get("cases", case_id), 0
        while case is not None and case.get("merged_into") and hops < MAX_MERGE_HOPS:
            target = store.get("cases", case["merged_into"])
            if target is None:
                break
            case, hops = target, hops + 1
        if case is not None:
            found[case_id] = {k: v for k, v in case.items() if k != "state_offset"}
    return found


def _rows(store: ReadStore, leads: list[dict[str, Any]]) -> list[ReportRow]:
    cases = _cases(store, [case_id for lead in leads if (case_id := lead.get("case_id"))])
    return [report_row(lead, cases.get(lead.get("case_id") or "")) for lead in leads]


def list_reports(
    store: ReadStore, *, officer: list[str] | None = None, group: list[str] | None = None,
    activity: list[str] | None = None, page: int = 1, size: int = 20,
) -> ReportPage:  # fmt: skip
    """Officers' reports, newest first (by visit time); ``officer`` None means every officer's."""
    filters = Filters(source=[INTAKE_SOURCE], author=officer or [], group=group or [], activity=activity or [])
    found = store.search(SearchRequest(kind="leads", filters=filters, sort=Sort.newest, page=page, size=size, facets=False))
    return ReportPage(total=found.total, page=page, size=size, rows=_rows(store, found.hits))


def find_report(store: ReadStore, report_id: str, officer: str | None) -> tuple[ReportRow, dict[str, Any]] | None:
    """The report and its lead; None when there is none, or it is another officer's (``officer`` None: anyone's)."""
    lead = store.get("leads", report_id)
    if lead is None or lead.get("source") != INTAKE_SOURCE or (officer is not None and lead.get("author") != officer):
        return None
    return _rows(store, [lead])[0], lead


def activity_problem(
    settings: ReportsSettings, activity_id: str | None, visited_at: dt.datetime, group: str | None
) -> str | None:
    """Why a report may not name this activity (None if it may): it must be configured, the visit on
    one of its days (city time), and an activity for one group is that group's officers'. Pure."""
    if activity_id is None:
        return None
    activity = settings.activity(activity_id)
    if activity is None:
        known = ", ".join(a.id for a in settings.activities) or "none are configured (reports.activities)"
        return f"unknown activity {activity_id!r}; activities: {known}"
    day = visited_at.astimezone(CITY_ZONE).date()
    if not activity.starts <= day <= activity.ends:
        return f"activity {activity_id!r} runs from {activity.starts} to {activity.ends}; the visit was on {day}"
    if activity.group is not None and group != activity.group:
        return f"activity {activity_id!r} is for the {activity.group} group; you are in {group or 'no group'}"
    return None


class NotRateable(LeadhubError):
    """The report's case is not resolved or closed (or not indexed yet): there is no answer to rate."""


def rating_events(
    case_id: str, status: Status | None, officer: str, rating: Rating, comment: str | None, *, reopen_on_dissatisfied: bool,
    at: dt.datetime | None = None,
) -> list[CaseEvent]:  # fmt: skip
    """The events a rating sends: the rate itself and, when dissatisfied (and the setting says so), a
    reopen by the same officer whose note names the rating. Pure; NotRateable before a result exists."""
    if status not in RATEABLE:
        said = status.value if status else "not handled yet"
        raise NotRateable(
            f"case {case_id} is {said}: a report can be rated once its case is resolved or closed",
            hint="wait for the department's result",
        )
    at = at or utc_now()
    events = [CaseEvent(case_id=case_id, action=Action.rate, actor=officer, rating=rating, note=comment or None, at=at)]
    if rating not in SATISFIED and reopen_on_dissatisfied:
        note = f"reopened: the reporter rated the result dissatisfied{': ' + comment if comment else ''}"
        events.append(CaseEvent(case_id=case_id, action=Action.reopen, actor=officer, note=note[:20_000], at=at))
    return events


@dataclass
class Rated:
    row: ReportRow
    reopened: bool  # the dissatisfied rating reopened the case
    status: Status  # the case's status afterwards


def rate(
    ledger: CaseLedger, publisher: Publisher, row: ReportRow, officer: str, rating: Rating, comment: str | None, *,
    reopen_on_dissatisfied: bool,
) -> Rated:  # fmt: skip
    """Record the rating on the report's case (and reopen it, when dissatisfied). Raises NotRateable,
    AlreadyRated (this result is rated already), IllegalTransition (the case changed meanwhile)."""
    events = rating_events(row.case_id or "", row.status, officer, rating, comment, reopen_on_dissatisfied=reopen_on_dissatisfied)
    result = act(ledger, publisher, events[0])
    reopened = False
    if len(events) > 1:
        try:
            result = act(ledger, publisher, events[1])
            reopened = True
        except IllegalTransition:
            pass  # someone reopened (or closed) it between the two: the rating stands, the case is as they left it
    return Rated(row=row, reopened=reopened, status=result.case.status)
