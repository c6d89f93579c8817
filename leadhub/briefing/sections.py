"""The briefing's sections as data, from plain case and lead documents (dicts, as both stores return
them). Pure: every figure here is a function of its inputs, so the tests build the cases by hand.

A section is a table: ordered columns (a catalog key for the header, a kind for formatting) and rows
of values. The XLSX and HTML writers render any section the same way; a section that could not be
made (its engineer's code has not landed) carries a note instead of rows.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from leadhub.briefing.periods import Period
from schemas.cases import Status
from schemas.hot_issues import doc_repeats, raised_again_key
from schemas.status_machine import ACTIVE

ColumnKind = Literal[
    "text", "int", "number", "pct", "delta", "date", "datetime", "category", "town", "department", "status", "link"
]
OFFICER_SOURCE = "officer-intake"  # the experience officers' reports (issue 22)
ACTIVE_VALUES = frozenset(s.value for s in ACTIVE)
UNCATEGORIZED = "未分类"
NO_PLACE = "未知地点"


@dataclass(frozen=True)
class Column:
    key: str  # the catalog key of its header: briefing.col.<key>
    kind: ColumnKind = "text"


@dataclass
class Section:
    key: str  # catalog key of its title: briefing.section.<key>
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    note: str | None = None  # catalog key of a note shown instead of (or under) the table
    chart: list[tuple[str, int]] | None = None  # (label, count) for an inline bar chart


@dataclass
class Briefing:
    period: Period
    previous: Period
    generated_at: dt.datetime
    as_of: dt.datetime  # figures "at the end" are judged at min(period end, generation time)
    sections: list[Section]

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


# --- reading documents ----------------------------------------------------------------------------


def moment(value: Any) -> dt.datetime | None:
    """An ISO time from a document (aware), or None."""
    if not value:
        return None
    if isinstance(value, dt.datetime):
        return value
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def level1(doc: Mapping[str, Any]) -> str:
    return ((doc.get("category") or {}).get("level1")) or UNCATEGORIZED


def town(doc: Mapping[str, Any]) -> str:
    return ((doc.get("place") or {}).get("town")) or NO_PLACE


def status_at(case: Mapping[str, Any], when: dt.datetime) -> str:
    """The case's status at ``when`` from its history (the last change at or before it); a case with
    no history entries then was new. A history without times falls back to the current status."""
    status = Status.new.value
    for entry in case.get("history") or []:
        at = moment(entry.get("at"))
        if at is None:
            return str(case.get("status") or status)
        if at <= when:
            status = str(entry.get("to_status") or status)
    return status


# --- the sections ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodFigures:
    """What the totals compare for one period (both stores' stats give the first five)."""

    leads: int
    cases: int
    open_cases: int  # of the cases first seen in the period, still open now
    resolved: int  # ... resolved or closed now
    rejected: int
    overdue_at_end: int


def change(current: int, previous: int) -> tuple[int, float | None]:
    """Difference and relative change (None when the previous period had none: no percentage of 0)."""
    return current - previous, (None if previous == 0 else (current - previous) / previous)


TOTAL_MEASURES = ("leads", "cases", "open_cases", "resolved", "rejected", "overdue_at_end")


def totals_section(current: PeriodFigures, previous: PeriodFigures) -> Section:
    rows = []
    for name in TOTAL_MEASURES:
        now_value, before = getattr(current, name), getattr(previous, name)
        delta, ratio = change(now_value, before)
        rows.append([f"briefing.measure.{name}", now_value, before, delta, ratio])
    columns = [Column("measure", "text"), Column("current", "int"), Column("previous", "int"), Column("change", "delta"),
               Column("change_pct", "pct")]  # fmt: skip
    return Section("totals", columns, rows)


def compared_counts(key: str, name_kind: ColumnKind, current: Mapping[str, int], previous: Mapping[str, int]) -> Section:
    """Counts per name this period and the one before, largest first; share of this period's total."""
    total = sum(current.values())
    names = sorted(set(current) | set(previous), key=lambda n: (-current.get(n, 0), -previous.get(n, 0), n))
    rows = []
    for name in names:
        now_value, before = current.get(name, 0), previous.get(name, 0)
        delta, ratio = change(now_value, before)
        rows.append([name, now_value, (now_value / total) if total else None, before, delta, ratio])
    columns = [Column(name_kind, name_kind), Column("current", "int"), Column("share", "pct"), Column("previous", "int"),
               Column("change", "delta"), Column("change_pct", "pct")]  # fmt: skip
    return Section(key, columns, rows, chart=[(name, current.get(name, 0)) for name in names if current.get(name, 0)][:12])


def overdue_cases(cases: Iterable[Mapping[str, Any]], as_of: dt.datetime) -> list[Mapping[str, Any]]:
    """Cases past their due time at ``as_of`` and not resolved, closed or rejected then (history
    decides the status then), most overdue first; each case once."""
    seen: dict[str, Mapping[str, Any]] = {}
    for case in cases:
        due = moment(case.get("due_at"))
        first = moment(case.get("first_seen"))
        if due is None or due >= as_of or (first is not None and first >= as_of) or case.get("merged_into"):
            continue
        if status_at(case, as_of) in ACTIVE_VALUES:
            seen.setdefault(str(case["case_id"]), case)
    return sorted(seen.values(), key=lambda c: (moment(c.get("due_at")), str(c["case_id"])))


def overdue_section(cases: list[Mapping[str, Any]], as_of: dt.datetime) -> Section:
    rows = []
    for case in cases:
        due = moment(case.get("due_at"))
        assert due is not None
        days = (as_of - due).total_seconds() / 86400
        rows.append([case["case_id"], case.get("title") or "", level1(case), case.get("department"), town(case),
                     status_at(case, as_of), due, round(days, 1), case.get("report_count") or 0])  # fmt: skip
    columns = [Column("case_id", "link"), Column("title"), Column("category", "category"), Column("department", "department"),
               Column("town", "town"), Column("status", "status"), Column("due_at", "datetime"), Column("days_overdue", "number"),
               Column("report_count", "int")]  # fmt: skip
    return Section("overdue", columns, rows)


def reports_per_case(leads: Iterable[Mapping[str, Any]]) -> Counter[str]:
    """How many of the period's leads each case got."""
    return Counter(str(lead["case_id"]) for lead in leads if lead.get("case_id"))


def most_reported_section(counts: Counter[str], cases: Mapping[str, Mapping[str, Any]], top: int) -> Section:
    """The cases with the most reports in the period (ties: more reports overall, then id)."""
    ranked = sorted(counts, key=lambda cid: (-counts[cid], -int((cases.get(cid) or {}).get("report_count") or 0), cid))[:top]
    rows = []
    for cid in ranked:
        case = cases.get(cid) or {"case_id": cid}
        rows.append([cid, case.get("title") or "", level1(case), case.get("department"), town(case), case.get("status"),
                     counts[cid], case.get("report_count") or counts[cid], moment(case.get("first_seen"))])  # fmt: skip
    columns = [Column("case_id", "link"), Column("title"), Column("category", "category"), Column("department", "department"),
               Column("town", "town"), Column("status", "status"), Column("reports_in_period", "int"),
               Column("report_count", "int"), Column("first_seen", "datetime")]  # fmt: skip
    return Section("most_reported", columns, rows)


ACCEPTED = ACTIVE_VALUES - {Status.new.value} | {Status.resolved.value, Status.closed.value}
RESOLVED = frozenset({Status.resolved.value, Status.closed.value})


def officer_section(leads: Iterable[Mapping[str, Any]], cases: Mapping[str, Mapping[str, Any]], period: Period) -> Section:
    """Per experience officer (a lead's author on the officer-intake source): reports filed in the
    period, the cases they landed in, and how those cases stand now; ratings given in the period."""
    reports: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for lead in leads:
        if lead.get("source") == OFFICER_SOURCE:
            reports[str(lead.get("author") or "—")].append(lead)
    rows = []
    for officer in sorted(reports, key=lambda o: (-len(reports[o]), o)):
        filed = reports[officer]
        case_ids = sorted({str(lead["case_id"]) for lead in filed if lead.get("case_id")})
        statuses = [str((cases.get(cid) or {}).get("status") or "") for cid in case_ids]
        ratings = [r for cid in case_ids for r in (cases.get(cid) or {}).get("ratings") or []
                   if r.get("actor") == officer and (at := moment(r.get("at"))) is not None and period.contains(at)]  # fmt: skip
        group = next((lead.get("reporter_group") for lead in filed if lead.get("reporter_group")), None)
        rows.append([officer, group, len(filed), len(case_ids), sum(s in ACCEPTED for s in statuses),
                     statuses.count(Status.rejected.value), sum(s in RESOLVED for s in statuses), len(ratings),
                     sum(r.get("rating") in ("satisfied", "basically_satisfied") for r in ratings)])  # fmt: skip
    columns = [Column("officer"), Column("group"), Column("reports", "int"), Column("cases", "int"), Column("accepted", "int"),
               Column("rejected", "int"), Column("resolved", "int"), Column("ratings_given", "int"),
               Column("ratings_satisfied", "int")]  # fmt: skip
    return Section("officers", columns, rows)


def hotspots_section(hotspots: Iterable[Mapping[str, Any]], period: Period) -> Section:
    """The hotspots detected in the period (leadhub's detector, enrichers/hotspots.py), in the order
    they were detected, with how people handled them since."""
    found = [h for h in hotspots if (at := moment(h.get("detected_at"))) is not None and period.contains(at)]
    found.sort(key=lambda h: (moment(h.get("detected_at")), str(h.get("hotspot_id"))))
    rows = []
    for h in found:
        window = h.get("window") or {}
        cases = list(h.get("case_ids") or [])
        rows.append([f"briefing.hotspot_kind.{h.get('kind')}", h.get("category") or UNCATEGORIZED, h.get("place") or NO_PLACE,
                     h.get("count") or 0, round(float(h.get("baseline") or 0.0), 2), window.get("hours"),
                     moment(h.get("first_seen")), moment(h.get("detected_at")), f"briefing.hotspot_status.{h.get('status') or 'new'}",
                     len(cases), " ".join(cases[:5])])  # fmt: skip
    columns = [Column("hotspot_kind"), Column("category", "category"), Column("town", "town"), Column("leads", "int"),
               Column("baseline", "number"), Column("window_hours", "number"), Column("first_seen", "datetime"), Column("detected_at", "datetime"),
               Column("hotspot_status"), Column("cases", "int"), Column("case_ids")]  # fmt: skip
    return Section("hotspots", columns, rows)


def hot_issues_section(issues: Iterable[Mapping[str, Any]], period: Period, top: int) -> Section:
    """The hot issues (热点问题, enrichers/hot_issues.py as the streams maintain them) with a lead in the
    period, hottest first: what people raised most strongly, in their own words, above the cases."""
    found = [i for i in issues if (at := moment(i.get("last_seen"))) is not None and period.contains(at)]
    found.sort(key=lambda i: (-float(i.get("heat") or 0.0), str(i.get("issue_id"))))
    rows = []
    for i in found[:top]:
        cases = list(i.get("case_ids") or [])
        rows.append([i.get("title") or "", "、".join(i.get("entities") or []), i.get("leads") or 0, i.get("reporters") or 0,
                     i.get("likes") or 0, round(float(i.get("heat") or 0.0), 2), moment(i.get("first_seen")),
                     moment(i.get("last_seen")), len(cases), " ".join(cases[:5])])  # fmt: skip
    columns = [Column("hot_issue"), Column("entities"), Column("leads", "int"), Column("reporters", "int"), Column("likes", "int"),
               Column("heat", "number"), Column("first_seen", "datetime"), Column("last_seen", "datetime"), Column("cases", "int"),
               Column("case_ids")]  # fmt: skip
    return Section("hot_issues", columns, rows)


def raised_again_section(issues: Iterable[Mapping[str, Any]], period: Period, top: int, min_repeats: int = 1) -> Section:
    """The problems raised again and again (再次反映) with a lead in the period: at least ``min_repeats``
    leads from someone who had written about it before, the most repeats first (then the hottest). One
    person writing again is a problem not yet solved, which heat, counting people, ranks low."""
    found = [i for i in issues if doc_repeats(i) >= min_repeats and (at := moment(i.get("last_seen"))) is not None and period.contains(at)]
    found.sort(key=raised_again_key)
    rows = []
    for i in found[:top]:
        cases = list(i.get("case_ids") or [])
        rows.append([i.get("title") or "", "、".join(i.get("entities") or []), doc_repeats(i), i.get("leads") or 0, i.get("reporters") or 0,
                     moment(i.get("first_seen")), moment(i.get("last_seen")), len(cases), " ".join(cases[:5])])  # fmt: skip
    columns = [Column("hot_issue"), Column("entities"), Column("repeats", "int"), Column("leads", "int"), Column("reporters", "int"),
               Column("first_seen", "datetime"), Column("last_seen", "datetime"), Column("cases", "int"), Column("case_ids")]  # fmt: skip
    return Section("raised_again", columns, rows)


def missing_section(key: str, note: str) -> Section:
    """A section whose code has not landed: said so in the output, never made up."""
    return Section(key, [], [], note=note)
