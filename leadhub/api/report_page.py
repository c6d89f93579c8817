"""The experience officers' report form (``/report``) and the report as stored (``/report/{lead_id}``).

Server-rendered, no script, one column on a phone. The form posts to the same code as
``POST /api/v1/reports`` (leadhub.api.v1.submit_report): the same checks, the same photos store, the
same lead. A refused report comes back as the form, with what was typed kept and each problem said in
the reader's language; a hidden report id makes a second click on "send" a retry, not a second report.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from leadhub.access import Permission, Principal
from leadhub.api import i18n
from leadhub.api.auth import context, require
from leadhub.api.context import ApiContext
from leadhub.api.photos import PHOTO_FIELD, checked_photos, read_form, report_from_fields
from leadhub.api.v1 import submit_report
from leadhub.api.web import _render, _same_origin, page_language
from leadhub.intake import INTAKE_SOURCE
from leadhub.queries import CITY_ZONE
from schemas.timezones import now

FIELDS = ("title", "place", "visited_at", "tried", "went_wrong", "activity")
_REPORT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


def local_now() -> str:
    """Now as a datetime-local input's value, in the city's time (the form's times are local)."""
    return now().astimezone(CITY_ZONE).strftime("%Y-%m-%dT%H:%M")


def open_activities(ctx: ApiContext, who: Principal, today: dt.date) -> list[Any]:
    """The themed activities running today that the officer's group may name."""
    reports = getattr(ctx, "reports", None)
    found = getattr(reports, "activities", None) or []
    return [a for a in found if a.starts <= today <= a.ends and (a.group is None or who.group is None or a.group == who.group)]


def problems_in_words(lang: str, detail: Any) -> list[str]:
    """A refused report's problems, each in the reader's language: which field or photo, and why."""
    if isinstance(detail, str):
        return [detail]
    said: list[str] = []
    for error in detail:
        loc = [str(part) for part in error.get("loc", ())]
        kind = str(error.get("type", ""))
        if kind.startswith("photo_"):
            said.append(i18n.translate(lang, f"report.error.{kind}", file=error.get("file", ""), limit_mp=error.get("limit_mp", ""),
                                       limit_mb=round(int(error.get("limit") or 0) / 1024 / 1024)))  # fmt: skip
        elif kind == "too_many_photos":
            said.append(i18n.translate(lang, "report.error.too_many_photos", msg=error.get("msg", "")))
        else:
            field = next((part for part in reversed(loc) if part in FIELDS), None)
            name = i18n.translate(lang, f"report.field.{field}") if field else ".".join(loc[1:])
            key = "report.error.missing" if kind == "missing" else "report.error.invalid"
            said.append(i18n.translate(lang, key, field=name, msg=error.get("msg", "")))
    return said


def build_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    submitter = require(Permission.submit_reports)

    def form_page(request: Request, who: Principal, ctx: ApiContext, values: dict[str, Any], errors: list[str], code: int = 200) -> HTMLResponse:
        lang = page_language(request)
        photos = ctx.photos
        response = _render(
            request, "report.html", who, lang, values=values, errors=errors, places=ctx.gazetteer.place_names(),
            activities=open_activities(ctx, who, now().astimezone(CITY_ZONE).date()),
            max_files=photos.settings.max_files if photos else 0,
            max_mb=round(photos.settings.max_bytes / 1024 / 1024) if photos else 0,
        )  # fmt: skip
        response.status_code = code
        return response

    @router.get("/report")
    def report_form(request: Request, who: Principal = Depends(submitter), ctx: ApiContext = Depends(context)) -> HTMLResponse:
        return form_page(request, who, ctx, {"report_id": uuid.uuid4().hex, "visited_at": local_now()}, [])

    @router.post("/report")
    async def send_report(request: Request, who: Principal = Depends(submitter), ctx: ApiContext = Depends(context)) -> Response:
        _same_origin(request)
        fields, uploads = await read_form(request)
        values = {k: v for k, v in fields.items() if isinstance(v, str) and k != PHOTO_FIELD}
        if not _REPORT_ID.match(values.get("report_id", "")):
            values["report_id"] = uuid.uuid4().hex
        lang = page_language(request)
        photos = ctx.photos
        try:
            if photos is not None and len(uploads) > photos.settings.max_files:
                raise HTTPException(422, detail=[{"loc": ["body", PHOTO_FIELD], "type": "too_many_photos",
                                                  "msg": i18n.translate(lang, "report.at_most", n=photos.settings.max_files)}])  # fmt: skip
            report = report_from_fields(values)
            accepted = await run_in_threadpool(submit_report, ctx, report, who, uploads)
        except RequestValidationError as exc:
            # Every problem at once: the photos are judged too, so one more try can fix them all.
            problems = list(exc.errors())
            try:
                await run_in_threadpool(checked_photos, photos, uploads)
            except HTTPException as refused:
                problems += refused.detail if isinstance(refused.detail, list) else [{"msg": refused.detail}]
            return form_page(request, who, ctx, values, problems_in_words(lang, problems), 422)
        except HTTPException as exc:
            if exc.status_code == status.HTTP_409_CONFLICT:
                values["report_id"] = uuid.uuid4().hex  # sending again makes a new report
                return form_page(request, who, ctx, values, [i18n.translate(lang, "report.error.conflict")], 409)
            if exc.status_code in (422, 503):
                return form_page(request, who, ctx, values, problems_in_words(lang, exc.detail), exc.status_code)
            raise
        return RedirectResponse(f"/report/{accepted.lead_id}", status_code=status.HTTP_303_SEE_OTHER)

    @router.get("/report/{lead_id}")
    def report_sent(
        request: Request, lead_id: str, who: Principal = Depends(submitter), ctx: ApiContext = Depends(context)
    ) -> HTMLResponse:
        lead = ctx.store.get("leads", lead_id)
        if lead is not None and (lead.get("source") != INTAKE_SOURCE or (lead.get("author") != who.name and who.role != "admin")):
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no report {lead_id}")  # another officer's report
        case = ctx.store.get("cases", lead["case_id"]) if lead and lead.get("case_id") else None
        stored = [a for a in (lead or {}).get("attachments") or [] if a.get("id")]
        return _render(request, "report_sent.html", who, page_language(request), lead=lead, case=case, photos=stored)

    return router

