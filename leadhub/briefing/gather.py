"""The briefing read from a store (either: both answer the same SearchRequest / StatsRequest), then
handed to the pure sections. Reads only through the ReadStore protocol, so the cluster and the
embedded index give the same briefing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from leadhub.briefing import sections as s
from leadhub.briefing.periods import Period
from leadhub.queries import Filters, Kind, Stats, StatsRequest
from leadhub.readers import windows
from leadhub.readers.contract import ReadStore


def fetch_all(store: ReadStore, kind: Kind, filters: Filters) -> list[dict[str, Any]]:
    """Every matching document, whole (history included), however many: the paged reading department
    performance uses (leadhub/readers/windows.py), so no search result window cuts a month short."""
    return list(windows.documents(store, kind, filters))


def cases_by_id(store: ReadStore, ids: list[str], known: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The cases named, whole; those already read are not read again."""
    return {**known, **windows.by_ids(store, "cases", set(ids) - set(known))}


def _figures(stats: Stats, overdue_at_end: int) -> s.PeriodFigures:
    funnel = {b.value: b.count for b in stats.status_funnel}
    return s.PeriodFigures(
        leads=stats.leads_total, cases=stats.cases_total, open_cases=stats.open_cases,
        resolved=funnel.get("resolved", 0) + funnel.get("closed", 0), rejected=funnel.get("rejected", 0),
        overdue_at_end=overdue_at_end,
    )  # fmt: skip


def _category_counts(stats: Stats) -> dict[str, int]:
    return {name: sum(counts) for name, counts in stats.by_category_over_time.series.items() if sum(counts)}


def _place_counts(stats: Stats) -> dict[str, int]:
    return {b.value: b.count for b in stats.by_place}


# Sections other engineers' code makes: (period, cases of the period, now) -> Section. None: not landed.
ExtraSection = Callable[[Period, list[dict[str, Any]], dt.datetime], s.Section]


def build(
    store: ReadStore, period: Period, *, now: dt.datetime, top: int = 10,
    departments: ExtraSection | None = None, hotspots: ExtraSection | None = None, hot_issues: ExtraSection | None = None,
    raised_again: ExtraSection | None = None,
) -> s.Briefing:  # fmt: skip
    previous = period.previous()
    as_of = min(period.end, now)
    as_of_previous = min(previous.end, now)
    # Both periods' cases, whole (history for the status at a moment), and every case overdue now:
    # the candidates for "overdue at the end" (an older case still open is among the latter).
    cases = fetch_all(store, "cases", Filters(since=previous.start, until=period.end))
    overdue_now = fetch_all(store, "cases", Filters(overdue=True, until=period.end))
    candidates = cases + overdue_now
    overdue = s.overdue_cases(candidates, as_of)
    overdue_before = s.overdue_cases(candidates, as_of_previous)

    stats_now = store.stats(StatsRequest(since=period.start, until=period.end, interval="month", top=100, now=now))
    stats_before = store.stats(StatsRequest(since=previous.start, until=previous.end, interval="month", top=100, now=now))

    leads = fetch_all(store, "leads", Filters(since=period.start, until=period.end))
    per_case = s.reports_per_case(leads)
    officer_case_ids = [str(lead["case_id"]) for lead in leads if lead.get("source") == s.OFFICER_SOURCE and lead.get("case_id")]
    ranked = sorted(per_case, key=lambda cid: -per_case[cid])[: top * 3]
    known = cases_by_id(store, ranked + officer_case_ids, {str(c["case_id"]): c for c in candidates})

    this_period = [c for c in cases if (first := s.moment(c.get("first_seen"))) is not None and period.contains(first)]
    sections = [
        s.totals_section(_figures(stats_now, len(overdue)), _figures(stats_before, len(overdue_before))),
        s.compared_counts("by_category", "category", _category_counts(stats_now), _category_counts(stats_before)),
        s.compared_counts("by_place", "town", _place_counts(stats_now), _place_counts(stats_before)),
        departments(period, this_period, now)
        if departments
        else s.missing_section("departments", "briefing.note.no_departments"),
        hotspots(period, this_period, now) if hotspots else s.missing_section("hotspots", "briefing.note.no_hotspots"),
        *([hot_issues(period, this_period, now)] if hot_issues else []),
        *([raised_again(period, this_period, now)] if raised_again else []),
        s.most_reported_section(per_case, known, top),
        s.overdue_section(overdue, as_of),
        s.officer_section(leads, known, period),
    ]
    return s.Briefing(period=period, previous=previous, generated_at=now, as_of=as_of, sections=sections)
