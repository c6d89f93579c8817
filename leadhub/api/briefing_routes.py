"""/briefing: analysts and admins pick a week or month and download its briefing as XLSX or HTML
(the same files `leadhub report` writes). The download is an attachment whose name may be Chinese:
RFC 5987 ``filename*`` carries it, with an ASCII ``filename`` for old clients."""

from __future__ import annotations

import datetime as dt
from typing import Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, Response

from leadhub.access import Permission, Principal
from leadhub.api import i18n
from leadhub.api.auth import context, require
from leadhub.api.context import ApiContext
from leadhub.api.web import _render, page_language

ROLES = frozenset({"analyst", "admin"})


def briefing_reader(who: Principal = Depends(require(Permission.read))) -> Principal:
    if who.role not in ROLES:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"role {who.role} may not download briefings (analyst or admin)")
    return who


def content_disposition(name: str, ascii_name: str) -> str:
    """``attachment`` with the UTF-8 name (RFC 5987/6266) and a plain ASCII fallback."""
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def build_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/briefing")
    def briefing_page(request: Request, who: Principal = Depends(briefing_reader)) -> HTMLResponse:
        lang = page_language(request)
        today = dt.date.today().isoformat()
        return _render(request, "briefing_page.html", who, lang, today=today)

    @router.get("/briefing/download")
    def briefing_download(
        request: Request,
        period: Literal["week", "month"] = Query("week"),
        date: dt.date | None = Query(None, description="A day in the period; empty: the last complete one."),
        format: Literal["xlsx", "html"] = Query("xlsx"),
        lang: Literal["zh", "en"] | None = Query(None, description="The HTML's language; default: the page's."),
        who: Principal = Depends(briefing_reader),
        ctx: ApiContext = Depends(context),
    ) -> Response:
        from leadhub.briefing.run import CONTENT_TYPES, file_name, make_briefing, render

        language = lang or page_language(request)
        briefing = make_briefing(ctx.store, ctx.briefing, period, date, performance=ctx.performance, min_repeats=ctx.hot_issues.min_repeats)
        body = render(briefing, format, language)
        name = file_name(briefing, format, language)
        headers = {"content-disposition": content_disposition(name, file_name(briefing, format, "en"))}
        return Response(body, media_type=CONTENT_TYPES[format], headers=headers)

    return router


__all__ = ["build_router", "content_disposition", "i18n"]
