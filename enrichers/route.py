"""The route stage as pure logic over narrow state: category, department, place, priority, case.

State is passed in (dedup state, case book, closed-case view), so the faust tables and the local
runner's dicts serve the same code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from enrichers.categorize import Categorizer, CategoryResult
from enrichers.dedup import Deduplicator
from enrichers.places import Gazetteer, PlaceMatch
from enrichers.priority import assess_priority
from schemas.cases import LEAD_IDS_CAP, Action, Case, CaseEvent, Status
from schemas.leads import Category, GeoPoint, Lead, Place

SYSTEM_ACTOR = "leadhub-route"


class CaseBook(Protocol):
    """The membership side of each case: count, channels, sources, first/last seen, lead ids."""

    def get(self, case_id: str) -> Case | None: ...
    def put(self, case: Case) -> None: ...


class CaseStatusView(Protocol):
    """What the handling side (cases.events) says each case's status is."""

    def status(self, case_id: str) -> Status | None: ...


class MemoryCaseBook:
    def __init__(self) -> None:
        self._cases: dict[str, Case] = {}

    def get(self, case_id: str) -> Case | None:
        return self._cases.get(case_id)

    def put(self, case: Case) -> None:
        self._cases[case.case_id] = case


URGENT_PRIORITY = 70


@dataclass
class RouteOutput:
    lead: Lead
    case: Case  # the case's membership state after this lead
    events: list[CaseEvent] = field(default_factory=list)  # e.g. a reopen, for cases.events


@dataclass
class CaseRouter:
    categorizer: Categorizer
    gazetteer: Gazetteer
    dedup: Deduplicator
    cases: CaseBook
    statuses: CaseStatusView
    on_closed: Literal["flag", "reopen"] = "flag"
    due_days: float = 5.0
    urgent_due_days: float = 1.0

    def route(self, lead: Lead, category: CategoryResult | None = None) -> RouteOutput:
        """``category``: when the caller categorized a batch at once (a model scores batches far faster)."""
        category = category or self.categorizer.categorize(lead.title, lead.text)
        where = self.gazetteer.locate("\n".join(p for p in (lead.location_text, lead.title, lead.text) if p))
        seen_at = lead.published_at or lead.fetched_at
        joined = self.dedup.assign(lead.lead_id, lead.title, lead.text, seen_at)

        case = self.cases.get(joined.case_id)
        # Membership is a set of lead ids: a lead the case already holds is not counted again (a replayed
        # message). The case itself decides, not the dedup state: the two are stored apart (faust tables,
        # each with its own changelog), and a crash can keep the lead's sketch but lose the case's update,
        # so a replay that the dedup calls "replay" may still be missing from its case. Past the cap on
        # stored lead ids, the dedup's word is all there is.
        if case is None:
            is_new_member = True
        elif lead.lead_id in case.lead_ids:
            is_new_member = False
        else:
            is_new_member = len(case.lead_ids) < LEAD_IDS_CAP or joined.kind != "replay"
        if is_new_member or case is None:  # (a case not stored yet always takes the lead: is_new_member)
            case = _with_member(case, joined.case_id, lead, seen_at)
        closed = self.statuses.status(case.case_id) in (Status.closed, Status.resolved)
        events: list[CaseEvent] = []
        if closed and is_new_member and joined.case_id != lead.lead_id and self.on_closed == "reopen":
            events.append(
                CaseEvent(
                    event_id=f"reopen-{lead.lead_id}", case_id=case.case_id, action=Action.reopen,
                    actor=SYSTEM_ACTOR, note=f"new report {lead.lead_id} after the case was handled",
                )
            )  # fmt: skip

        priority = assess_priority(
            f"{lead.title}\n{lead.text}", report_count=case.report_count, recurred_after_close=closed and is_new_member
        )
        if priority.priority > case.priority:
            case = case.model_copy(update={"priority": priority.priority})
        due_at = self._due_at(case)
        if due_at != case.due_at:
            case = case.model_copy(update={"due_at": due_at})
        if case.category is None and category.category:
            case = case.model_copy(
                update={
                    "category": Category(level1=category.category, level2=category.subcategory),
                    "department": category.department,
                    "place": _place(where, lead.extra),
                }
            )
        self.cases.put(case)

        routed = lead.model_copy(
            update={
                "category": Category(level1=category.category, level2=category.subcategory) if category.category else None,
                "department": category.department,
                "confidence": round(category.confidence, 4),
                "needs_triage": category.needs_triage,
                "place": _place(where, lead.extra),
                "priority": priority.priority,
                "priority_reasons": list(priority.reasons),
                "case_id": joined.case_id,
                "is_primary": joined.is_primary,
                "model_version": category.model_version,
            }
        )
        return RouteOutput(routed, case, events)


    def _due_at(self, case: Case) -> dt.datetime | None:
        """Due a fixed time after the first report; sooner once the case is urgent."""
        if case.first_seen is None:
            return None
        days = self.urgent_due_days if case.priority >= URGENT_PRIORITY else self.due_days
        return case.first_seen + dt.timedelta(days=days)


def _place(where: PlaceMatch, extra: dict[str, Any] | None = None) -> Place | None:
    """The gazetteer's place; a position the source gave itself (``extra.geo``, e.g. an Open311
    request's lat/long) is more exact than a town's centre and wins."""
    given = _source_geo(extra or {})
    if where.empty and given is None:
        return None
    geo = given or (GeoPoint(lat=where.lat, lon=where.lon) if where.lat is not None and where.lon is not None else None)
    return Place(town=where.town, community=where.community, address=where.address, geo=geo)


def _source_geo(extra: dict[str, Any]) -> GeoPoint | None:
    given = extra.get("geo")
    if not isinstance(given, dict):
        return None
    try:
        point = GeoPoint(lat=given.get("lat"), lon=given.get("lon"))
    except ValueError:  # out of range or not numbers: the source's mistake, the gazetteer's place stands
        return None
    return None if point.lat == 0 and point.lon == 0 else point


def _with_member(case: Case | None, case_id: str, lead: Lead, seen_at: dt.datetime) -> Case:
    if case is None:
        case = Case(case_id=case_id, title=lead.title or lead.text[:60], summary=lead.text[:300])
    lead_ids = case.lead_ids if len(case.lead_ids) >= LEAD_IDS_CAP else [*case.lead_ids, lead.lead_id]
    return case.model_copy(
        update={
            "report_count": case.report_count + 1,
            "lead_ids": lead_ids,
            "channels": sorted({*case.channels, lead.channel}),
            "sources": sorted({*case.sources, lead.source}),
            "reporter_groups": sorted({*case.reporter_groups, *filter(None, [lead.reporter_group])}),
            "activities": sorted({*case.activities, *filter(None, [lead.activity])}),
            "first_seen": min(filter(None, (case.first_seen, seen_at))),
            "last_seen": max(filter(None, (case.last_seen, seen_at))),
        }
    )


# What a re-route (leadhub replay) may change on a stored lead: its routing, never its case.
REROUTED_FIELDS = (
    "category", "department", "confidence", "needs_triage", "model_version", "place", "priority", "priority_reasons",
)  # fmt: skip


def reroute(lead: Lead, category: CategoryResult, gazetteer: Gazetteer) -> Lead:
    """``lead`` routed again by the current taxonomy, model and gazetteer: category, department, place
    and priority, without dedup (its case stays). The priority keeps what the route stage knew when the
    lead arrived (its case's report count then, a recurrence after closing), read from its reasons."""
    where = gazetteer.locate("\n".join(p for p in (lead.location_text, lead.title, lead.text) if p))
    reports = next((int(r.split(":", 1)[1]) for r in lead.priority_reasons if r.startswith("reports:") and r[8:].isdigit()), 1)
    priority = assess_priority(
        f"{lead.title}\n{lead.text}", report_count=reports, recurred_after_close="recurred_after_close" in lead.priority_reasons
    )
    return lead.model_copy(
        update={
            "category": Category(level1=category.category, level2=category.subcategory) if category.category else None,
            "department": category.department,
            "confidence": round(category.confidence, 4),
            "needs_triage": category.needs_triage,
            "model_version": category.model_version,
            "place": _place(where, lead.extra),
            "priority": priority.priority,
            "priority_reasons": list(priority.reasons),
        }
    )
