"""/my: an experience officer's own reports and what became of them, with a rating form once the
answer is in (an admin sees every officer's, with the officer named). Server-rendered, no script;
the rating form posts like the case action forms (same-origin check, SameSite session cookie) and
redirects back with an outcome chosen from a fixed set (never text from the query string)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from leadhub.access import Permission, Principal
from leadhub.api import i18n, outcomes
from leadhub.api.auth import context, require
from leadhub.api.context import ApiContext
from leadhub.api.reports_routes import RatingRequest, own_scope, rate_report
from leadhub.api.web import _render, _same_origin, _url, page_language
from leadhub.reports import list_reports
from schemas.cases import Rating

PAGE_SIZE = 20
RATINGS = [r.value for r in Rating]


def rated_text(lang: str, rating: str | None, reopened: bool) -> str | None:
    """'Thank you: rated <rating>' (and that the case was reopened) for a known rating; else nothing."""
    if rating not in RATINGS:
        return None
    text = i18n.translate(lang, "my.rated", rating=i18n.label(lang, "rating", rating))
    space = "" if lang == "zh" else " "  # Chinese sentences follow each other without a space
    return text + (space + i18n.translate(lang, "my.reopened") if reopened else "")


def build_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    reporter = require(Permission.submit_reports)

    @router.get("/my")
    def my_reports(
        request: Request, page: int = Query(1, ge=1, le=500), message: str | None = None, rating: str | None = None,
        reopened: bool = False, error: str | None = None, who: Principal = Depends(reporter),
        ctx: ApiContext = Depends(context),
    ) -> HTMLResponse:  # fmt: skip
        lang = page_language(request)
        mine = own_scope(who)
        found = list_reports(ctx.store, officer=[mine] if mine else None, page=page, size=PAGE_SIZE)
        activities = {a.id: (a.title_zh if lang == "zh" else a.title_en) for a in ctx.reports.activities}
        groups = {g.id: (g.title_zh if lang == "zh" else g.title_en) for g in ctx.reports.groups}
        return _render(
            request, "my.html", who, lang, found=found, rows=found.rows, all_officers=mine is None, ratings=RATINGS,
            activities=activities, groups=groups, page=page, page_size=PAGE_SIZE,
            message=rated_text(lang, rating, reopened) if message == "rated" else None,
            error=i18n.translate(lang, "my.error.conflict") if error == "conflict" else outcomes.error_text(lang, error),
            page_url=lambda n: _url("/my", {"page": n}),
        )  # fmt: skip

    @router.post("/my/{report_id}/rating")
    def rate_form(
        request: Request, report_id: str, rating: str = Form(""), comment: str = Form(""),
        who: Principal = Depends(reporter), ctx: ApiContext = Depends(context),
    ) -> RedirectResponse:  # fmt: skip
        _same_origin(request)
        try:
            rated = rate_report(ctx, report_id, RatingRequest(rating=rating, comment=comment.strip() or None), who)
            outcome = {"message": "rated", "rating": rating, "reopened": "true" if rated.reopened else None}
        except ValidationError:
            outcome = {"error": "invalid"}
        except HTTPException as exc:
            outcome = {"error": outcomes.error_code(exc.status_code)}
        return RedirectResponse(_url("/my", outcome) + f"#report-{quote(report_id, safe='')}", status_code=303)

    return router
