"""Hot issues: `GET /api/v1/hot-issues` (analyst, officer, admin): the hottest problems whose latest lead
falls in a period, as the streams maintain them (leadhub/hot_issues_store.py), each with its entity,
leads, cases and heat; with ``order=repeats``, the raised-again list: the problems people wrote about
again and again (repeats: leads from someone who had written about it before), the most first."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query

from leadhub.access import Permission, Principal
from leadhub.api.auth import context, require
from leadhub.api.context import ApiContext
from leadhub.hot_issues_store import hot_issue_store
from schemas.hot_issues import HotIssueOrder

PANEL_DAYS = 30  # the dashboard panel: hot issues with a lead in the last 30 days
PANEL_LIMIT = 10


def panel_hot_issues(ctx: ApiContext, limit: int = PANEL_LIMIT, order: HotIssueOrder = "heat") -> list[dict[str, Any]]:
    """A dashboard panel's rows: the hottest issues with a lead in the last PANEL_DAYS days, or (``order``
    "repeats") the most raised again."""
    now = dt.datetime.now(ZoneInfo(ctx.briefing.timezone))
    return hot_issue_store(ctx.store).list(
        since=now - dt.timedelta(days=PANEL_DAYS), until=now, limit=limit, order=order, min_repeats=ctx.hot_issues.min_repeats
    )


def build_router() -> APIRouter:
    router = APIRouter()
    reader = require(Permission.read)

    @router.get("/api/v1/hot-issues", tags=["api v1"], summary="Hot issues active in a period, hottest first")
    def list_hot_issues(
        days: float = Query(30.0, gt=0, le=366, description="The period: this many days before `until`; an issue is listed when its latest lead falls in it."),
        until: dt.datetime | None = Query(None, description="End of the period (ISO 8601, with a zone); default: now."),
        top: int = Query(10, ge=1, le=100, description="How many hot issues."),
        order: HotIssueOrder = Query(
            "heat", description="heat: hottest first. repeats: the raised-again list, the issues with at least hot_issues.min_repeats "
            "repeats (leads from someone who had written about it before), the most first, then the hottest.",
        ),
        who: Principal = Depends(reader), ctx: ApiContext = Depends(context),
    ) -> dict[str, Any]:  # fmt: skip
        if until is not None and until.tzinfo is None:
            raise HTTPException(422, detail="until needs a time zone (e.g. 2024-05-01T00:00:00+08:00)")
        zone = ZoneInfo(ctx.briefing.timezone)
        end = until or dt.datetime.now(zone)
        since = end - dt.timedelta(days=days)
        issues = hot_issue_store(ctx.store).list(since=since, until=end, limit=top, order=order, min_repeats=ctx.hot_issues.min_repeats)
        return {"since": since.isoformat(), "until": end.isoformat(), "order": order, "count": len(issues), "hot_issues": issues}

    return router
