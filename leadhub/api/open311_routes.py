"""Open311 GeoReport v2, read side: services from the taxonomy, requests from cases."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, status

from leadhub import open311
from leadhub.access import Permission, Principal
from leadhub.api.auth import context, require
from leadhub.api.context import ApiContext
from leadhub.api.params import build_search
from schemas.cases import Status
from schemas.status_machine import OPEN311_CLOSED

DEFAULT_WINDOW = dt.timedelta(days=90)  # GeoReport v2: without dates, the last 90 days
MAX_REQUESTS = 1000
OPEN = [s.value for s in Status if s not in OPEN311_CLOSED]


def build_router() -> APIRouter:
    router = APIRouter(prefix="/open311/v2", tags=["open311"])
    reader = require(Permission.read)

    @router.get("/services.json", summary="Open311 service list (the taxonomy's level-2 classes)")
    def services(who: Principal = Depends(reader), ctx: ApiContext = Depends(context)) -> list[dict[str, Any]]:
        return open311.services(ctx.taxonomy)

    @router.get("/requests.json", summary="Open311 service requests (cases)")
    def requests(
        service_request_id: str | None = Query(None, description="Comma-separated ids; other filters are then ignored."),
        service_code: str | None = Query(None, description="Comma-separated codes (level1 or level1/level2)."),
        start_date: dt.datetime | None = Query(None),
        end_date: dt.datetime | None = Query(None),
        status_: str | None = Query(None, alias="status", description="open or closed (comma-separated)."),
        who: Principal = Depends(reader),
        ctx: ApiContext = Depends(context),
    ) -> list[dict[str, Any]]:
        filters: dict[str, Any] = {}
        if service_request_id:
            filters["ids"] = [i.strip() for i in service_request_id.split(",") if i.strip()][:MAX_REQUESTS]
        else:
            if start_date is None and end_date is None:
                start_date = dt.datetime.now(dt.UTC) - DEFAULT_WINDOW
            filters.update(since=start_date, until=end_date)
            codes = [open311.parse_service_code(c.strip()) for c in (service_code or "").split(",") if c.strip()]
            filters["category"] = sorted({level1 for level1, level2 in codes if level2 is None})
            filters["subcategory"] = sorted({level2 for _, level2 in codes if level2})
            wanted = {s.strip() for s in (status_ or "").split(",") if s.strip()}
            if wanted - {"open", "closed"}:
                raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="status must be open or closed")
            if wanted == {"open"}:
                filters["status"] = OPEN
            elif wanted == {"closed"}:
                filters["status"] = [s.value for s in Status if s in OPEN311_CLOSED]
        request = build_search("cases", "", filters, "newest", 1, MAX_REQUESTS, False).model_copy(update={"full": True})
        page = ctx.store.search(request)
        base = ctx.settings.public_url
        return [open311.service_request(case, base_url=base) for case in page.hits]

    @router.get("/requests/{request_id}.json", summary="One Open311 service request")
    def request(request_id: str, who: Principal = Depends(reader), ctx: ApiContext = Depends(context)) -> list[dict[str, Any]]:
        case = ctx.store.get("cases", request_id)
        if case is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no service request {request_id}")
        return [open311.service_request(case, base_url=ctx.settings.public_url)]

    return router
