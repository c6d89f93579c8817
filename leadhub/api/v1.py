"""/api/v1: leads, cases, case events, field reports, statistics."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from leadhub.access import Permission, Principal, redact_lead
from leadhub.api.auth import context, require
from leadhub.api.context import ApiContext
from leadhub.api.params import FilterParams, build_search, page_params, unicode_json_body, validation_detail
from leadhub.api.photos import REPORT_BODY, Upload, checked_photos, digest_with_photos, read_report, store_photos
from leadhub.case_actions import CaseNotFound, UnknownCategory, UnknownDepartment, act, allowed_departments, ledger_for
from leadhub.contacts import visible_leads
from leadhub.intake import FieldReport, report_to_raw_lead
from leadhub.queries import Filters, Interval, SearchPage, SearchRequest, Sort, Stats, StatsRequest
from leadhub.reports import activity_problem
from schemas.cases import Action, CaseEvent, Status
from schemas.status_machine import ACTIVE, IllegalTransition, MergeRefused, allowed_actions

CASE_LEADS_LIMIT = 500


class EventRequest(BaseModel):
    """An action on a case; the actor is the key's holder, the case the one in the path."""

    model_config = ConfigDict(extra="forbid")

    action: Action
    note: str | None = Field(None, max_length=20_000)
    department: str | None = Field(None, max_length=200, description="assign, recategorize: a department of the taxonomy.")
    level1: str | None = Field(None, max_length=200, description="recategorize: a level-1 class of the taxonomy.")
    level2: str | None = Field(None, max_length=200, description="recategorize: a level-2 class of level1.")
    assignee: str | None = Field(None, max_length=200)
    target_case_id: str | None = Field(None, max_length=64)
    lead_ids: list[str] = Field(default_factory=list, max_length=1000)
    event_id: str | None = Field(None, min_length=1, max_length=64, description="Your id, to make retries safe.")


class EventAccepted(BaseModel):
    event: CaseEvent
    status: str = Field(..., description="The case's status after the event.")
    visible: bool = Field(..., description="Whether the index already shows it (else within seconds).")


class ReportAccepted(BaseModel):
    lead_id: str
    source: str
    external_id: str


def departments(ctx: ApiContext) -> list[str]:
    """Where a case may be assigned: the taxonomy's departments and api.extra_departments."""
    return allowed_departments(ctx.taxonomy, ctx.settings.extra_departments)


def closed_at(case: dict[str, Any]) -> str | None:
    """When the case was first handled (resolved or closed, or merged away), as its history says."""
    for entry in case.get("history") or []:
        if entry.get("to_status") in ("resolved", "closed") and entry.get("from_status") not in ("resolved", "closed"):
            return entry.get("at")
    return None


def _reported_at(lead: dict[str, Any]) -> dt.datetime | None:
    value = lead.get("published_at") or lead.get("fetched_at")
    return dt.datetime.fromisoformat(value) if value else None


def handling_view(case: dict[str, Any], leads: list[dict[str, Any]]) -> dict[str, Any]:
    """What the case page and API add to a case from its leads. Pure.

    - ``official_replies``: each department's published answer (from board threads), newest last;
    - ``priority_reasons``: why the leads were prioritized, each reason once;
    - ``after_close`` on a lead: it came in after the case was first resolved/closed (the route stage
      marks these too, as the reason ``recurred_after_close``)."""
    closed = closed_at(case)
    closed_time = dt.datetime.fromisoformat(closed) if closed else None
    replies: list[dict[str, Any]] = []
    reasons: list[str] = []
    for lead in leads:
        reply = lead.get("official_reply")
        if reply:
            replies.append({"lead_id": lead["lead_id"], "source": lead.get("source"), "url": lead.get("url"), **reply})
        reasons += lead.get("priority_reasons") or []
        at = _reported_at(lead)
        lead["after_close"] = "recurred_after_close" in (lead.get("priority_reasons") or []) or bool(
            closed_time and at and at > closed_time
        )
    replies.sort(key=lambda r: r.get("at") or "")
    return {"official_replies": replies, "priority_reasons": list(dict.fromkeys(reasons)), "closed_at": closed}


def case_with_leads(ctx: ApiContext, case_id: str, who: Principal) -> dict[str, Any]:
    case = ctx.store.get("cases", case_id)
    if case is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no case {case_id}")
    # Merged cases' leads keep their case id: a case shows its own and those of the cases merged into it.
    own = [case_id, *(m["case_id"] for m in case.get("merged") or [])]
    leads = ctx.store.search(
        SearchRequest(kind="leads", filters=Filters(case_id=own), sort=Sort.oldest, size=CASE_LEADS_LIMIT, facets=False)
    )
    case = {k: v for k, v in case.items() if k != "state_offset"}
    case["leads"] = [redact_lead(lead, who, case.get("department")) for lead in leads.hits]
    case.update(handling_view(case, case["leads"]))
    case["allowed_actions"] = [a.value for a in allowed_actions_for(case, who)]
    return case


def allowed_actions_for(case: dict[str, Any], who: Principal) -> list[Action]:
    if not who.may_act_on(case.get("department")):
        return []
    return allowed_actions(Status(case.get("status", "new")))


def merge_targets(ctx: ApiContext, case: dict[str, Any]) -> list[dict[str, Any]]:
    """Open cases of the same department or category a case could be merged into (the page's choices)."""
    filters = {"status": [s.value for s in ACTIVE]}
    if case.get("department"):
        filters["department"] = [case["department"]]
    try:
        found = ctx.store.search(SearchRequest(kind="cases", filters=Filters(**filters), sort=Sort.newest, size=50, facets=False))
    except Exception:  # noqa: BLE001 - the choices are a help; the id field still works without them
        return []
    return [{"case_id": h["case_id"], "title": h.get("title") or ""} for h in found.hits if h["case_id"] != case["case_id"]]


def submit_event(ctx: ApiContext, case_id: str, request: EventRequest, who: Principal) -> EventAccepted:
    case = ctx.store.get("cases", case_id)
    if case is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no case {case_id}")
    if not who.may_act_on(case.get("department")):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail=f"{who.name} may act only on cases of {', '.join(sorted(who.departments)) or 'no department'}"
        )
    fields = request.model_dump(exclude_none=True)
    try:
        event = CaseEvent(case_id=case_id, actor=who.name, **fields)
    except ValidationError as exc:
        raise HTTPException(422, detail=validation_detail(exc)) from None
    try:
        result = act(ledger_for(ctx.store), ctx.publisher, event, allowed_departments=departments(ctx), taxonomy=ctx.taxonomy)
    except (UnknownDepartment, UnknownCategory) as exc:
        raise HTTPException(422, detail=exc.message) from None
    except CaseNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=exc.message) from None
    except MergeRefused as exc:
        code = 422 if exc.missing else status.HTTP_409_CONFLICT
        raise HTTPException(code, detail=exc.message) from None
    except IllegalTransition as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=exc.message) from None
    ctx.metrics.events.labels(event.action.value).inc()
    return EventAccepted(event=result.event, status=result.case.status.value, visible=result.visible)


def submit_report(ctx: ApiContext, report: FieldReport, who: Principal, uploads: Sequence[Upload] = (),
                  received_at: dt.datetime | None = None) -> ReportAccepted:  # fmt: skip
    """A field report and its photos, from the API or the /report page (one path for both): every
    photo is checked before any is stored, so a bad one refuses the report with nothing kept; then
    the photos are stored and the lead is published."""
    if (problem := activity_problem(ctx.reports, report.activity, report.visited_at, who.group)) is not None:
        raise HTTPException(422, detail=problem)
    uploads = list(uploads)
    checked = checked_photos(ctx.photos, uploads)
    lead = report_to_raw_lead(report, who.name, who.group, received_at)
    digest = digest_with_photos(lead.extra["report_digest"], lead.lead_id, uploads)
    earlier = ctx.store.get("leads", lead.lead_id)
    sent = (earlier or {}).get("extra", {}).get("report_digest")
    if sent and sent != digest:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"report {report.report_id} was already sent with different content; "
            "send a new report_id for a new report (the same content again is accepted as a retry)",
        )
    if ctx.photos is not None and checked:
        stored = store_photos(ctx.photos, uploads, checked, reporter=who.name, lead_id=lead.lead_id)
        lead = lead.model_copy(update={"attachments": [*lead.attachments, *stored], "extra": {**lead.extra, "report_digest": digest}})
    ctx.publisher.publish_lead(lead)
    ctx.metrics.reports.inc()
    return ReportAccepted(lead_id=lead.lead_id, source=lead.source, external_id=lead.external_id)


def build_router(max_page_size: int) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["api v1"], dependencies=[Depends(unicode_json_body)])
    paging = page_params(max_page_size)
    reader = require(Permission.read)

    @router.get("/leads", response_model=SearchPage, summary="Search leads")
    def search_leads(
        filters: FilterParams = Depends(), page: dict = Depends(paging), who: Principal = Depends(reader),
        ctx: ApiContext = Depends(context),
    ) -> SearchPage:  # fmt: skip
        result = ctx.store.search(build_search("leads", filters=filters.values, **page, ctx=ctx))
        result.hits = visible_leads(ctx.store, result.hits, who)
        return result

    @router.get("/cases", response_model=SearchPage, summary="Search cases")
    def search_cases(
        filters: FilterParams = Depends(), page: dict = Depends(paging), who: Principal = Depends(reader),
        ctx: ApiContext = Depends(context),
    ) -> SearchPage:  # fmt: skip
        return ctx.store.search(build_search("cases", filters=filters.values, **page, ctx=ctx))

    @router.get("/cases/{case_id}", summary="A case with its leads from every channel and its history")
    def get_case(case_id: str, who: Principal = Depends(reader), ctx: ApiContext = Depends(context)) -> dict[str, Any]:
        return case_with_leads(ctx, case_id, who)

    @router.post(
        "/cases/{case_id}/events", response_model=EventAccepted, status_code=status.HTTP_201_CREATED,
        summary="Act on a case", responses={202: {"description": "Accepted; not yet visible in the index"},
                                            409: {"description": "The action is not allowed in the case's current "
                                                                 "status (e.g. another action won the race)"},
                                            422: {"description": "Invalid action: e.g. an unknown department or "
                                                                 "class (recategorize), a merge target that does "
                                                                 "not exist"}},
    )  # fmt: skip
    def post_event(
        case_id: str, response: Response, request: EventRequest = Body(...),
        who: Principal = Depends(require(Permission.act)), ctx: ApiContext = Depends(context),
    ) -> EventAccepted:  # fmt: skip
        accepted = submit_event(ctx, case_id, request, who)
        if not accepted.visible:
            response.status_code = status.HTTP_202_ACCEPTED
        return accepted

    @router.post(
        "/reports", response_model=ReportAccepted, status_code=status.HTTP_201_CREATED, summary="Submit a field report",
        description="A JSON FieldReport, or multipart/form-data: its fields as form fields and up to "
        "attachments.max_files photos (JPEG, PNG, WebP) in `photos`.",
        responses={409: {"description": "This report_id was already sent with different content"},
                   422: {"description": "An invalid report, or a photo refused (each bad file named, with why)"}},
        openapi_extra=REPORT_BODY,
    )  # fmt: skip
    async def post_report(
        request: Request, who: Principal = Depends(require(Permission.submit_reports)), ctx: ApiContext = Depends(context)
    ) -> ReportAccepted:
        photos = ctx.photos
        report, uploads = await read_report(request, photos.settings.max_files if photos else None)
        return await run_in_threadpool(submit_report, ctx, report, who, uploads)

    @router.get("/stats", response_model=Stats, summary="What the dashboard shows")
    def stats(
        since: dt.datetime | None = Query(None), until: dt.datetime | None = Query(None),
        interval: Interval = Query(Interval.day), top: int = Query(10, ge=1, le=100),
        group: list[str] = Query([], description="Only experience officers' reports of these groups (reports.groups ids)."),
        activity: list[str] = Query([], description="Only reports naming these themed activities."),
        who: Principal = Depends(reader), ctx: ApiContext = Depends(context),
    ) -> Stats:  # fmt: skip
        try:
            request = StatsRequest(since=since, until=until, interval=interval, top=top, group=group, activity=activity)
        except ValidationError as exc:
            raise HTTPException(422, detail=validation_detail(exc)) from None
        return ctx.store.stats(request)

    return router
