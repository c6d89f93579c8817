"""Making a briefing from settings and a store, and writing it: what the CLI, the web page and the
schedule share."""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

from leadhub.briefing import gather, periods
from leadhub.briefing.sections import Briefing, Column, Section
from leadhub.briefing.settings import BriefingSettings
from schemas.hot_issues import HotIssueOrder
from schemas.timezones import zone

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
}
DEPARTMENT_COLUMNS = [
    Column("department", "department"), Column("received", "int"), Column("accepted_in_time", "int"),
    Column("resolved", "int"), Column("on_time_rate", "pct"), Column("median_hours_to_resolve", "number"),
    Column("p90_hours_to_resolve", "number"), Column("returned", "int"), Column("reopened", "int"), Column("rated", "int"),
    Column("satisfaction_rate", "pct"), Column("repeat_rate", "pct"),
]  # fmt: skip


def _optional(module: str, name: str) -> Any | None:
    """A function of another module that may not be there yet (its section is then left out, said so)."""
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def departments_section(performance: Any) -> gather.ExtraSection | None:
    """The department table from leadhub.performance (its definitions; the briefing only lays it out)."""
    department_rows = _optional("leadhub.performance", "department_rows")
    if department_rows is None or performance is None:
        return None
    from schemas.cases import Case

    def make(period: periods.Period, cases: list[dict[str, Any]], now: dt.datetime) -> Section:
        # Judged as of the period's end (or now, for the running period): a past briefing stays the same.
        as_of = min(period.end, now)
        rows = department_rows(
            [Case.model_validate(c) for c in cases], since=period.start, until=period.end, now=as_of, settings=performance
        )
        hours = lambda v: None if v is None else round(v, 1)  # noqa: E731
        table = [[r.department, r.received, r.accepted_in_time, r.resolved, r.on_time_rate, hours(r.median_hours_to_resolve),
                  hours(r.p90_hours_to_resolve), r.returned, r.reopened, r.rated, r.satisfaction_rate, r.repeat_rate]
                 for r in sorted(rows, key=lambda r: (-r.received, r.department or ""))]  # fmt: skip
        return Section("departments", DEPARTMENT_COLUMNS, table)

    return make


HOTSPOTS_READ = 5000  # the newest hotspots read, then those detected in the period kept


def hotspots_reader(store: Any) -> gather.ExtraSection | None:
    """The hotspots section from the hotspots index beside the store (leadhub.hotspots_store)."""
    hotspot_store = _optional("leadhub.hotspots_store", "hotspot_store")
    if hotspot_store is None:
        return None
    from leadhub.briefing.sections import hotspots_section

    def make(period: periods.Period, cases: list[dict[str, Any]], now: dt.datetime) -> Section:
        return hotspots_section(hotspot_store(store).list(limit=HOTSPOTS_READ), period)

    return make


HOT_ISSUES_READ = 5000  # the hottest issues read, then those with a lead in the period kept


def hot_issues_reader(store: Any, top: int, order: HotIssueOrder = "heat", min_repeats: int = 1) -> gather.ExtraSection | None:
    """The hot-issues section (``order`` "repeats": the raised-again section) from the hot_issues index
    beside the store (leadhub.hot_issues_store)."""
    hot_issue_store = _optional("leadhub.hot_issues_store", "hot_issue_store")
    if hot_issue_store is None:
        return None
    from leadhub.briefing.sections import hot_issues_section, raised_again_section

    def make(period: periods.Period, cases: list[dict[str, Any]], now: dt.datetime) -> Section:
        found = hot_issue_store(store).list(since=period.start, until=period.end, limit=HOT_ISSUES_READ, order=order, min_repeats=min_repeats)
        return raised_again_section(found, period, top, min_repeats) if order == "repeats" else hot_issues_section(found, period, top)

    return make


def make_briefing(
    store: Any, settings: BriefingSettings, period: str, day: dt.date | None, now: dt.datetime | None = None,
    *, performance: Any = None, min_repeats: int = 1,
) -> Briefing:  # fmt: skip
    """The briefing of the ``period`` (week or month) holding ``day`` (None: the last complete one).
    ``performance``: the performance settings, for the department table; ``min_repeats``:
    hot_issues.min_repeats, for the raised-again section."""
    now = now or dt.datetime.now(dt.UTC)
    chosen = periods.choose(period, day, now, zone(settings.timezone))  # type: ignore[arg-type]
    return gather.build(
        store, chosen, now=now, top=settings.top, departments=departments_section(performance), hotspots=hotspots_reader(store),
        hot_issues=hot_issues_reader(store, settings.top),
        raised_again=hot_issues_reader(store, settings.top, "repeats", min_repeats),
    )


def render(briefing: Briefing, fmt: str, lang: str = "zh") -> bytes:
    if fmt == "xlsx":
        from leadhub.briefing.xlsx import write_xlsx

        return write_xlsx(briefing)
    from leadhub.briefing.html import write_html

    return write_html(briefing, lang).encode("utf-8")


def file_name(briefing: Briefing, fmt: str, lang: str = "zh") -> str:
    """简报-周报-2026-W49.xlsx (Chinese) or briefing-week-2026-W49.xlsx."""
    p = briefing.period
    if lang == "en":
        return f"briefing-{p.kind}-{p.label}.{fmt}"
    return f"简报-{'周报' if p.kind == 'week' else '月报'}-{p.label}.{fmt}"
