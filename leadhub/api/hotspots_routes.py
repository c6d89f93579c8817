"""Hotspots: `GET /api/v1/hotspots` (analyst, officer, admin) and admins' acknowledge and close, on the
API and as the dashboard panel's form posts (`/hotspots/{id}/acknowledge|close`, back to /dashboard)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import RedirectResponse

from leadhub.access import Permission, Principal
from leadhub.api.auth import context, principal, require
from leadhub.api.context import ApiContext
from leadhub.hotspots_store import HotspotNotFound, IllegalHotspotTransition, hotspot_store
from schemas.hotspots import HotspotKind, HotspotStatus

PANEL_LIMIT = 10  # new hotspots on the dashboard
ACTIONS = {"acknowledge": HotspotStatus.acknowledged, "close": HotspotStatus.closed}


def admin(who: Principal = Depends(principal)) -> Principal:
    if who.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"role {who.role} may not handle hotspots (admins only)")
    return who


def new_hotspots(ctx: ApiContext, limit: int = PANEL_LIMIT) -> list[dict[str, Any]]:
    """The dashboard panel's rows: new hotspots, newest first."""
    return hotspot_store(ctx.store).list(status=HotspotStatus.new.value, limit=limit)


def _handle(ctx: ApiContext, hotspot_id: str, action: str, who: Principal) -> dict[str, Any]:
    to = ACTIONS.get(action)
    if to is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no action {action!r}; one of {', '.join(ACTIONS)}")
    try:
        return hotspot_store(ctx.store).handle(hotspot_id, to, who.name)
    except HotspotNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no hotspot {hotspot_id}") from None
    except IllegalHotspotTransition as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None


def build_router(max_page_size: int = 200) -> APIRouter:
    router = APIRouter()
    reader = require(Permission.read)

    @router.get("/api/v1/hotspots", tags=["api v1"], summary="Hotspots, newest first")
    def list_hotspots(
        status_: HotspotStatus | None = Query(None, alias="status"), kind: HotspotKind | None = None,
        since: dt.datetime | None = Query(None, description="Detected at or after (ISO 8601, with a zone)."),
        until: dt.datetime | None = Query(None, description="Detected before."),
        size: int = Query(50, ge=1, le=max_page_size), who: Principal = Depends(reader), ctx: ApiContext = Depends(context),
    ) -> dict[str, Any]:  # fmt: skip
        for name, at in (("since", since), ("until", until)):
            if at is not None and at.tzinfo is None:
                raise HTTPException(422, detail=f"{name} needs a time zone (e.g. 2024-05-01T00:00:00+08:00)")
        found = hotspot_store(ctx.store).list(
            status=status_.value if status_ else None, kind=kind.value if kind else None, limit=size, since=since, until=until
        )
        return {"hotspots": found, "count": len(found)}

    @router.post("/api/v1/hotspots/{hotspot_id}/{action}", tags=["api v1"], summary="Acknowledge or close a hotspot (admins)")
    def handle_hotspot(hotspot_id: str, action: str, who: Principal = Depends(admin), ctx: ApiContext = Depends(context)) -> dict[str, Any]:
        return _handle(ctx, hotspot_id, action, who)

    @router.post("/hotspots/{hotspot_id}/{action}", include_in_schema=False)
    def handle_hotspot_form(
        request: Request, hotspot_id: str, action: str, who: Principal = Depends(admin), ctx: ApiContext = Depends(context)
    ) -> RedirectResponse:
        from leadhub.api.web import _same_origin

        _same_origin(request)
        try:
            _handle(ctx, hotspot_id, action, who)
            outcome = "done"
        except HTTPException as exc:
            outcome = "conflict" if exc.status_code == 409 else "missing"
        return RedirectResponse(f"/dashboard?hotspot={outcome}#hotspots", status_code=303)

    return router
