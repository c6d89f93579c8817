"""/api/v1/reports/…: experience officers follow their reports and rate the answers (issue 22).

``intake`` sees only their own reports (another officer's is a 404, as if it did not exist); ``admin``
sees every officer's and filters by officer, group and activity. Only the officer who filed a report
rates it. Filing a report (``POST /api/v1/reports``) is in v1.py.
"""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field

from leadhub.access import Permission, Principal
from leadhub.api.auth import context, require
from leadhub.api.context import ApiContext
from leadhub.api.params import unicode_json_body
from leadhub.case_actions import CaseNotFound, ledger_for
from leadhub.reports import NotRateable, Rated, ReportPage, ReportRow, find_report, list_reports, rate
from schemas.cases import Rating, Status
from schemas.status_machine import AlreadyRated, IllegalTransition


class RatingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: Rating
    comment: str | None = Field(None, max_length=5000)


class RatingAccepted(BaseModel):
    report: ReportRow
    status: Status = Field(..., description="The case's status after the rating.")
    reopened: bool = Field(..., description="The dissatisfied rating reopened the case (reports.reopen_on_dissatisfied).")


def own_scope(who: Principal) -> str | None:
    """Whose reports ``who`` sees: their own, or (admin) everyone's (None)."""
    return None if who.role == "admin" else who.name


def report_for(ctx: ApiContext, report_id: str, who: Principal) -> ReportRow:
    found = find_report(ctx.store, report_id, own_scope(who))
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no report {report_id}")
    return found[0]


def rate_report(ctx: ApiContext, report_id: str, request: RatingRequest, who: Principal) -> Rated:
    """Shared by the API and the /my page's form."""
    row = report_for(ctx, report_id, who)
    if row.officer != who.name:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only the experience officer who filed a report may rate it")
    try:
        rated = rate(
            ledger_for(ctx.store), ctx.publisher, row, who.name, request.rating, request.comment,
            reopen_on_dissatisfied=ctx.reports.reopen_on_dissatisfied,
        )  # fmt: skip
    except (NotRateable, AlreadyRated, IllegalTransition) as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=exc.message) from None
    except CaseNotFound as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"{exc.message}: the report's case is not handled yet") from None
    ctx.metrics.events.labels("rate").inc()
    if rated.reopened:
        ctx.metrics.events.labels("reopen").inc()
    return rated


def build_router(max_page_size: int) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["reports"], dependencies=[Depends(unicode_json_body)])
    # intake and admin hold submit_reports; analysts and officers read cases, not officers' report lists.
    reporter = require(Permission.submit_reports)

    @router.get("/reports", response_model=ReportPage, summary="Experience officers' reports and what became of them")
    def get_reports(
        officer: list[str] = Query([], description="Admin: these officers' reports."),
        group: list[str] = Query([], description="Admin: officers of these groups (reports.groups ids)."),
        activity: list[str] = Query([], description="Admin: reports naming these activities."),
        page: int = Query(1, ge=1), size: int = Query(20, ge=1, le=max_page_size),
        who: Principal = Depends(reporter), ctx: ApiContext = Depends(context),
    ) -> ReportPage:  # fmt: skip
        mine = own_scope(who)
        if mine is not None and (officer or group or activity):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail="only an admin filters by officer, group or activity; you see your own reports"
            )
        if page * size > 10_000:
            raise HTTPException(422, detail=f"page {page} of size {size} goes past result 10000")
        return list_reports(ctx.store, officer=[mine] if mine else officer, group=group, activity=activity, page=page, size=size)

    @router.get("/reports/{report_id}", response_model=ReportRow, summary="One report (another officer's is a 404)")
    def get_report(report_id: str, who: Principal = Depends(reporter), ctx: ApiContext = Depends(context)) -> ReportRow:
        return report_for(ctx, report_id, who)

    @router.post(
        "/reports/{report_id}/rating", response_model=RatingAccepted, status_code=status.HTTP_201_CREATED,
        summary="Rate the answer to a report: once per resolution; dissatisfied reopens the case",
        responses={409: {"description": "The case is not resolved or closed, or this result is rated already"}},
    )  # fmt: skip
    def post_rating(
        report_id: str, request: RatingRequest = Body(...), who: Principal = Depends(reporter), ctx: ApiContext = Depends(context)
    ) -> RatingAccepted:
        rated = rate_report(ctx, report_id, request, who)
        row = report_for(ctx, report_id, who)
        return RatingAccepted(report=row, status=rated.status, reopened=rated.reopened)

    return router
