"""Open311 GeoReport v2, read side: services from the taxonomy, requests from cases, their photos.

Standard clients read it as the spec says: ``api_key`` in the query (here only, and never logged;
``Authorization: Bearer`` and a web session work too), XML or JSON by the path's suffix, and errors as
``[{"code", "description"}]`` (``<errors><error>``) with 400 for a bad parameter. The routes parse
their own parameters, so nothing answers with FastAPI's ``{"detail": ...}`` 422.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request, Response

from leadhub import open311
from leadhub.access import Permission, Principal
from leadhub.api.auth import context, identify, presented_key
from leadhub.api.params import build_search
from schemas.cases import Status
from schemas.redaction import redact
from schemas.status_machine import OPEN311_CLOSED
from schemas.timezones import now, zone

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
OPEN = [s.value for s in Status if s not in OPEN311_CLOSED]
CLOSED = [s.value for s in Status if s in OPEN311_CLOSED]
PHOTO_LEADS = 3  # a case's photo is looked for in its first leads (its first report usually carries it)


class Refused(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code, self.description = code, description


class _HideApiKey(logging.Filter):
    """The access log writes each request's path with its query: the key is hidden there."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and "api_key" in str(record.args):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def hide_keys_in_access_log() -> None:
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _HideApiKey) for f in logger.filters):
        logger.addFilter(_HideApiKey())


# --- answers ----------------------------------------------------------------------------------------

def split_format(name: str) -> tuple[str, str]:
    stem, dot, fmt = name.rpartition(".")
    if not dot or fmt not in FORMATS:
        raise Refused(404, f"not found: ask for {name}.json or .xml" if not dot else f"unknown format .{fmt[:10]}; use .json or .xml")
    return stem, fmt


def answer(fmt: str, shape: str, rows: Any, code: int = 200) -> Response:
    body = json.dumps(rows, ensure_ascii=False).encode("utf-8") if fmt == "json" else open311.to_xml(shape, rows)
    headers = {"WWW-Authenticate": "Bearer"} if code == 401 else None
    return Response(body, status_code=code, media_type=FORMATS[fmt], headers=headers)


def error(fmt: str, code: int, description: str) -> Response:
    return answer(fmt if fmt in FORMATS else "json", "errors", open311.error_list(code, description), code)


def reader(request: Request, ctx: Any, *, media: bool = False) -> Principal | None:
    """Who reads: a key (``api_key``, Bearer) or session with read permission, or nobody when the
    settings open reading to all (None)."""
    key = request.query_params.get("api_key", "").strip()
    if key:
        who = ctx.keys.identify(key)
        if who is None:
            raise Refused(401, "unknown api_key")
    else:
        who = identify(request)
        if who is None:
            if presented_key(request) is not None:
                raise Refused(401, "unknown API key")
            settings = ctx.settings
            if settings.open311_anonymous_read and (not media or settings.open311_anonymous_media):
                return None
            raise Refused(401, "no API key: add api_key=KEY to the query (or send Authorization: Bearer KEY)")
    if not who.can(Permission.read):
        raise Refused(403, f"role {who.role} may not read service requests")
    return who


# --- service requests -------------------------------------------------------------------------------

def searches(params: Any, ctx: Any) -> list[dict[str, Any]]:
    """The filters of one search per service code (the codes are OR-ed; one search says it)."""
    ids = open311.parse_ids(params.get("service_request_id"))
    if ids:
        return [{"ids": ids}]  # the spec: other parameters are then ignored
    tz = zone(getattr(ctx, "timezone", None))
    start = open311.parse_date("start_date", params.get("start_date"), tz)
    end = open311.parse_date("end_date", params.get("end_date"), tz)
    since, until = open311.date_window(start, end, now())
    base: dict[str, Any] = {"since": since, "until": until}
    wanted = open311.parse_statuses(params.get("status"))
    if wanted == {"open"}:
        base["status"] = OPEN
    elif wanted == {"closed"}:
        base["status"] = CLOSED
    codes = open311.parse_codes(params.get("service_code"), open311.code_index(ctx.taxonomy))
    return [{**base, "category": [level1], "subcategory": [level2] if level2 else []} for level1, level2 in codes] or [base]


def _search(ctx: Any, kind: Literal["leads", "cases"], filters: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        request = build_search(kind, "", filters, "newest", 1, open311.MAX_ROWS, False)
    except HTTPException as exc:  # the query's own validation (e.g. since after until)
        detail = exc.detail if isinstance(exc.detail, str) else "; ".join(str(d.get("msg", d)) for d in exc.detail)
        raise open311.BadParameter(detail) from None
    return ctx.store.search(request.model_copy(update={"full": True})).hits


def find_cases(params: Any, ctx: Any) -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    plans = searches(params, ctx)
    for filters in plans:
        for case in _search(ctx, "cases", filters):
            found.setdefault(case["case_id"], case)
    cases = list(found.values())
    if len(plans) > 1:  # merged: newest first again, as one search gives them
        cases.sort(key=lambda c: str(c.get("first_seen") or ""), reverse=True)
    return cases[: open311.MAX_ROWS]


def photos_of(ctx: Any, cases: Iterable[dict[str, Any]]) -> dict[str, str]:
    """case_id -> the id of a photo of its own (one search for all the cases' first leads)."""
    if getattr(ctx, "photos", None) is None:
        return {}
    order = {case["case_id"]: list(dict.fromkeys([case["case_id"], *(case.get("lead_ids") or [])[:PHOTO_LEADS]])) for case in cases}
    lead_ids = [lead for leads in order.values() for lead in leads]
    leads: dict[str, dict[str, Any]] = {}
    for at in range(0, len(lead_ids), open311.MAX_ROWS):
        for lead in _search(ctx, "leads", {"ids": lead_ids[at : at + open311.MAX_ROWS]}):
            leads[lead["lead_id"]] = lead
    found = {case_id: open311.first_photo(leads[i] for i in ids if i in leads) for case_id, ids in order.items()}
    return {case_id: photo for case_id, photo in found.items() if photo}


def as_requests(request: Request, ctx: Any, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    base = (ctx.settings.public_url or str(request.base_url)).rstrip("/")
    photos = photos_of(ctx, cases)
    return [open311.service_request(case, media_url=f"{base}{open311.media_path(photos[case['case_id']])}" if case["case_id"] in photos else None)
            for case in cases]  # fmt: skip


# --- routes -----------------------------------------------------------------------------------------

def build_router() -> APIRouter:
    router = APIRouter(prefix="/open311/v2", tags=["open311"])
    hide_keys_in_access_log()
    key_doc = "api_key (query), Authorization: Bearer, or a web session; none if api.open311_anonymous_read."

    def guarded(name: str, body) -> Response:
        fmt = name.rpartition(".")[2]
        try:
            return body()
        except Refused as exc:
            return error(fmt, exc.code, exc.description)
        except open311.BadParameter as exc:
            return error(fmt, 400, str(exc))

    @router.get("/services.{fmt}", summary="Open311 service list (the taxonomy's level-2 classes)", description=key_doc)
    def services(request: Request, fmt: str) -> Response:
        def body() -> Response:
            _, fmt_ = split_format(f"services.{fmt}")
            ctx = context(request)
            reader(request, ctx)
            return answer(fmt_, "services", open311.services(ctx.taxonomy))

        return guarded(f"services.{fmt}", body)

    @router.get("/services/{name}", summary="Open311 service definition: services/{code}.json or .xml", description=key_doc)
    def definition(request: Request, name: str) -> Response:
        def body() -> Response:
            code, fmt = split_format(name)
            ctx = context(request)
            reader(request, ctx)
            if code not in {s["service_code"] for s in open311.services(ctx.taxonomy)}:
                raise Refused(404, f"no service {code}")
            found = open311.service_definition(code)
            if fmt == "json":
                return answer(fmt, "services", found)  # one object, as the spec shows
            return Response(open311.definition_xml(found), media_type=FORMATS[fmt])

        return guarded(name, body)

    @router.get("/requests.{fmt}", summary="Open311 service requests (cases)", description=(
        f"{key_doc} service_request_id (comma-separated; other filters ignored), service_code (comma-separated, "
        "any of them; level1.level2 or level1), start_date/end_date (W3C, at most 90 days apart; the last 90 days "
        "by default), status (open, closed). At most 1,000 requests, newest first."))  # fmt: skip
    def requests(request: Request, fmt: str) -> Response:
        def body() -> Response:
            _, fmt_ = split_format(f"requests.{fmt}")
            ctx = context(request)
            reader(request, ctx)
            return answer(fmt_, "requests", as_requests(request, ctx, find_cases(request.query_params, ctx)))

        return guarded(f"requests.{fmt}", body)

    @router.get("/requests/{name}", summary="One Open311 service request: requests/{id}.json or .xml", description=key_doc)
    def one_request(request: Request, name: str) -> Response:
        def body() -> Response:
            request_id, fmt = split_format(name)
            ctx = context(request)
            reader(request, ctx)
            case = ctx.store.get("cases", request_id)
            if case is None:
                raise Refused(404, f"no service request {request_id}")
            return answer(fmt, "requests", as_requests(request, ctx, [case]))

        return guarded(name, body)

    @router.get("/media/{attachment_id}", summary="A request's photo (its media_url)", description=key_doc)
    def media(request: Request, attachment_id: str) -> Response:
        def body() -> Response:
            from leadhub.api.photos import may_see

            ctx = context(request)
            who = reader(request, ctx, media=True)
            photos = getattr(ctx, "photos", None)
            if photos is None:
                raise Refused(404, f"no media {attachment_id}")
            meta = photos.store.metadata(attachment_id)
            # Only photos of leads in the store: a photo sent with a report not yet routed is nobody's media.
            known = meta is not None and ctx.store.get("leads", meta.lead_id) is not None
            if meta is None or not known or (who is not None and not may_see(who, meta, known)):
                raise Refused(404, f"no media {attachment_id}")
            data = photos.store.get(attachment_id)
            if data is None:
                raise Refused(404, f"no media {attachment_id}")
            cache = "public, max-age=3600" if who is None else "private, max-age=3600"
            return Response(data, media_type=meta.media_type, headers={
                "cache-control": cache, "x-content-type-options": "nosniff", "vary": "Cookie, Authorization"})  # fmt: skip

        return guarded("media.json", body)

    return router

