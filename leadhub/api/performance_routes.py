"""Department performance and experience officers' activity: ``GET /api/v1/stats/departments``, the
``/departments`` page (analysts, officers, admins) and the ``/officers`` page (admins).

The figures come from leadhub.performance (pure); this module reads the period's cases, whole, from
either store (leadhub.readers.windows) and renders them. Every number on the pages links to the
cases behind it on /search: by their ids when there are at most LINK_IDS of them (an address stays
well under servers' 8 KiB line limits), else, for received and resolved, by department, period and
status; a larger derived set (e.g. 300 returns) shows without a link.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape
from pydantic import BaseModel

from leadhub import performance
from leadhub.access import Permission, Principal
from leadhub.api import i18n
from leadhub.api.auth import context, require
from leadhub.api.context import ApiContext
from leadhub.api.web import _render, _url, page_language
from leadhub.performance import CITY_ZONE, DepartmentRow, OfficerRow
from leadhub.queries import Filters
from leadhub.readers import windows
from schemas.cases import Case

DEFAULT_DAYS = 28
MAX_DAYS = 366 * 2
LINK_IDS = 150
COLUMNS = ("department", "received", "accepted_in_time", "resolved", "on_time_rate", "median_hours_to_resolve",
           "p90_hours_to_resolve", "returned", "reopened", "rated", "satisfaction_rate", "repeat_rate")  # fmt: skip
# column -> the figure whose cases its number links to
LINKED = {"received": "received", "accepted_in_time": "accepted_in_time", "resolved": "resolved", "on_time_rate": "on_time",
          "median_hours_to_resolve": "resolved", "p90_hours_to_resolve": "resolved", "returned": "returned",
          "reopened": "reopened", "rated": "rated", "satisfaction_rate": "satisfied", "repeat_rate": "repeat"}  # fmt: skip
RATES = {"on_time_rate", "satisfaction_rate", "repeat_rate"}


class DepartmentStats(BaseModel):
    since: dt.datetime
    until: dt.datetime
    departments: list[DepartmentRow]
    categories: list[DepartmentRow] | None = None


def window(since: dt.datetime | None, until: dt.datetime | None, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The period asked for; by default the 28 days up to the end of today (city time). A bare date
    or naive time is city time."""
    aware = [v.replace(tzinfo=CITY_ZONE) if v is not None and v.tzinfo is None else v for v in (since, until)]
    end = aware[1] or dt.datetime.combine(now.astimezone(CITY_ZONE).date() + dt.timedelta(days=1), dt.time(), CITY_ZONE)
    start = aware[0] or end - dt.timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise HTTPException(422, detail=f"since ({start.isoformat()}) must be before until ({end.isoformat()})")
    if end - start > dt.timedelta(days=MAX_DAYS):
        raise HTTPException(422, detail=f"the period is longer than {MAX_DAYS} days; choose a shorter one")
    return start, end


def read_cases(ctx: ApiContext, since: dt.datetime, until: dt.datetime) -> list[Case]:
    return [Case.model_validate(doc) for doc in windows.documents(ctx.store, "cases", Filters(since=since, until=until))]


def department_stats(ctx: ApiContext, since: dt.datetime, until: dt.datetime, now: dt.datetime, by_category: bool) -> DepartmentStats:
    cases = read_cases(ctx, since, until)
    rows = performance.department_rows(cases, since=since, until=until, now=now, settings=ctx.performance)
    categories = performance.category_rows(cases, since=since, until=until, now=now, settings=ctx.performance) if by_category else None
    return DepartmentStats(since=since, until=until, departments=rows, categories=categories)


def sparkline(values: list[int], title: str) -> Markup:
    """A small inline SVG line of weekly counts (attributes only: the page's CSP allows no inline style)."""
    width, height, top = 96, 24, max(values, default=0) or 1
    step = width / max(1, len(values) - 1)
    points = " ".join(f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values))
    return Markup(
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
        f'<polyline fill="none" stroke="#2563eb" stroke-width="1.5" points="{points}"/></svg>'
    )


def _sorted(rows: list[DepartmentRow], column: str, descending: bool, name: Callable[[str | None], str]) -> list[DepartmentRow]:
    if column == "department":
        return sorted(rows, key=lambda r: name(r.department), reverse=descending)
    present = [r for r in rows if getattr(r, column) is not None]
    missing = [r for r in rows if getattr(r, column) is None]  # no value: last, whichever way
    return sorted(present, key=lambda r: getattr(r, column), reverse=descending) + missing


def build_router() -> APIRouter:
    router = APIRouter()
    reader = require(Permission.read)

    @router.get("/api/v1/stats/departments", response_model=DepartmentStats, summary="Department performance",
                description=performance.__doc__, tags=["api v1"])  # fmt: skip
    def departments_api(
        since: dt.datetime | None = Query(None, description="Cases first reported at or after (default: 28 days before until)."),
        until: dt.datetime | None = Query(None, description="... and before (default: the end of today, city time)."),
        by: str | None = Query(None, pattern="^category$", description="category: also one row per department and level-1 class."),
        who: Principal = Depends(reader), ctx: ApiContext = Depends(context),
    ) -> DepartmentStats:  # fmt: skip
        now = dt.datetime.now(dt.UTC)
        start, end = window(since, until, now)
        return department_stats(ctx, start, end, now, by == "category")

    @router.get("/departments", include_in_schema=False)
    def departments_page(
        request: Request,
        since: dt.datetime | None = Query(None), until: dt.datetime | None = Query(None),
        by: str | None = Query(None, pattern="^category$"),
        sort: str = Query("received"), dir: str = Query("desc", pattern="^(asc|desc)$"),
        who: Principal = Depends(reader), ctx: ApiContext = Depends(context),
    ) -> HTMLResponse:  # fmt: skip
        if sort not in COLUMNS:
            sort = "received"
        lang = page_language(request)
        now = dt.datetime.now(dt.UTC)
        start, end = window(since, until, now)
        weeks = ctx.performance.trend_weeks
        trend_start = dt.datetime.combine(performance.week_start(end - dt.timedelta(microseconds=1)), dt.time(), CITY_ZONE)
        trend_start -= dt.timedelta(weeks=weeks - 1)
        cases = read_cases(ctx, min(start, trend_start), end)
        rows_of = performance.category_rows if by == "category" else performance.department_rows
        rows = rows_of(cases, since=start, until=end, now=now, settings=ctx.performance)
        starts, weekly = performance.weekly_received(cases, until=end, weeks=weeks, by_category=by == "category")

        def name(department: str | None) -> str:
            return i18n.translate(lang, "perf.unrouted") if department is None else i18n.data_name(lang, "departments", department)

        rows = _sorted(rows, sort, dir == "desc", name)
        period = {"since": start.astimezone(CITY_ZONE).date().isoformat(), "until": end.astimezone(CITY_ZONE).date().isoformat()}
        base = {**period, "by": by}

        def sort_url(column: str) -> str:
            flip = "asc" if sort == column and dir == "desc" else "desc"
            return _url("/departments", {**base, "sort": column, "dir": flip})

        def link(row: DepartmentRow, column: str) -> str | None:
            figure = LINKED.get(column)
            ids = row.case_ids.get(figure or "", [])
            if not ids:
                return None
            if len(ids) <= LINK_IDS:
                return _url("/search", {"kind": "cases", "ids": ids})
            if figure not in ("received", "resolved"):
                return None
            params: dict[str, Any] = {"kind": "cases", "since": start.isoformat(), "until": end.isoformat(),
                                      "category": row.category}  # fmt: skip
            params |= {"department": row.department} if row.department is not None else {"needs_triage": "true"}
            if figure == "resolved":
                params["status"] = ["resolved", "closed"]
            return _url("/search", params)

        def trend(row: DepartmentRow) -> Markup:
            values = weekly.get((row.department, row.category) if by else row.department, [0] * weeks)
            label = i18n.translate(lang, "perf.trend_title", weeks=weeks, counts=" ".join(map(str, values)))
            return sparkline(values, label)

        return _render(
            request, "departments.html", who, lang, rows=rows, columns=COLUMNS, rates=RATES, sort=sort, dir=dir,
            sort_url=sort_url, link=link, trend=trend, dept_name=name, period=period, by=by, weeks=weeks,
            trend_from=starts[0].isoformat(),
            by_url=_url("/departments", {**period, "by": None if by else "category", "sort": sort, "dir": dir}),
        )  # fmt: skip

    @router.get("/officers", include_in_schema=False)
    def officers_page(
        request: Request, since: dt.datetime | None = Query(None), until: dt.datetime | None = Query(None),
        who: Principal = Depends(require(Permission.read)), ctx: ApiContext = Depends(context),
    ) -> HTMLResponse:  # fmt: skip
        if who.role != "admin":
            raise HTTPException(403, detail=f"role {who.role} may not see officers' activity (admins only)")
        lang = page_language(request)
        now = dt.datetime.now(dt.UTC)
        start, end = window(since, until, now)
        rows = officer_stats(ctx, start, end, now)

        def link(row: OfficerRow, figure: str) -> str | None:
            ids = list(dict.fromkeys(row.case_ids.get(figure, [])))
            return _url("/search", {"kind": "cases", "ids": ids}) if ids and len(ids) <= LINK_IDS else None

        period = {"since": start.astimezone(CITY_ZONE).date().isoformat(), "until": end.astimezone(CITY_ZONE).date().isoformat()}
        titles = {g.id: g.title_zh if lang == "zh" else g.title_en for g in ctx.reports.groups}
        return _render(request, "officers.html", who, lang, rows=rows, link=link, period=period,
                       ratings=[r.value for r in performance.Rating], group_title=lambda g: titles.get(g, g) if g else "—")  # fmt: skip

    return router


def officer_stats(ctx: ApiContext, since: dt.datetime, until: dt.datetime, now: dt.datetime) -> list[OfficerRow]:
    leads = list(windows.documents(ctx.store, "leads", Filters(source=[performance.OFFICER_SOURCE], since=since, until=until)))
    found = windows.by_ids(ctx.store, "cases", [lead["case_id"] for lead in leads if lead.get("case_id")])
    cases = {case_id: Case.model_validate(doc) for case_id, doc in found.items()}
    return performance.officer_rows(leads, cases, now=now)
