"""Query-string parameters shared by the API and the web pages, validated into leadhub.queries models."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import HTTPException, Query, Request
from pydantic import ValidationError

from leadhub.queries import Filters, Kind, SearchRequest, Sort, TextLimits, resolve_places


def validation_detail(exc: ValidationError) -> list[dict[str, Any]]:
    return [{"loc": list(err["loc"]), "msg": err["msg"]} for err in exc.errors()]


def _surrogate_at(value: Any, path: list[Any]) -> list[Any] | None:
    """Where in a parsed JSON value a string holds a lone surrogate (None if nowhere)."""
    if isinstance(value, str):
        return path if any("\ud800" <= ch <= "\udfff" for ch in value) else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and _surrogate_at(key, []) is not None:
            return [*path, key]
        if (found := _surrogate_at(item, [*path, key])) is not None:
            return found
    return None


async def unicode_json_body(request: Request) -> None:
    """JSON may spell a lone surrogate ("\\ud800"); no text can hold one (UTF-8 cannot encode it), so
    such a body is a 422 here rather than a failure wherever the text is next encoded."""
    if request.method not in ("POST", "PUT", "PATCH") or "json" not in request.headers.get("content-type", ""):
        return
    body = await request.body()  # kept by Starlette for the endpoint's own parsing
    if b"\\u" not in body.lower():
        return
    try:
        parsed = json.loads(body)
    except ValueError:
        return  # the endpoint's own parsing answers with its 422
    if (where := _surrogate_at(parsed, ["body"])) is not None:
        raise HTTPException(422, detail=[{"loc": where, "msg": "text holds a lone UTF-16 surrogate (e.g. \\ud800), which is not a character"}])


def given_filters(filters: dict[str, Any]) -> dict[str, Any]:
    """The filters a request names: only "not given" is dropped (needs_triage=false is a filter too)."""
    return {k: v for k, v in filters.items() if v is not None and v != [] and not (k == "overdue" and v is False)}


def build_search(
    kind: Kind, q: str, filters: dict[str, Any], sort: str, page: int, size: int, facets: bool, ctx: Any = None
) -> SearchRequest:
    """The request as validated input; ``ctx`` (the ApiContext) brings the text caps and the gazetteer."""
    given = given_filters(filters)
    gazetteer = getattr(ctx, "gazetteer", None)
    if given.get("place") and gazetteer is not None:
        given["place"] = resolve_places(given["place"], gazetteer.canonical)
    api = getattr(ctx, "settings", None)
    limits = TextLimits(api.max_query_terms, api.max_query_exclusions) if api is not None and hasattr(api, "max_query_terms") else TextLimits()
    try:
        return SearchRequest.model_validate(
            dict(kind=kind, q=q, filters=Filters(**given), sort=sort, page=page, size=size, facets=facets),
            context={"text_limits": limits},
        )  # fmt: skip
    except ValidationError as exc:
        raise HTTPException(422, detail=validation_detail(exc)) from None


class FilterParams:
    """The filters as query parameters; repeat a parameter for several values (?status=new&status=accepted)."""

    def __init__(
        self,
        category: list[str] = Query([], description="Level-1 category."),
        subcategory: list[str] = Query([], description="Level-2 category."),
        department: list[str] = Query([]),
        status_: list[str] = Query([], alias="status", description="Cases only."),
        place: list[str] = Query([], description="Town / sub-district or community, as named or aliased in the gazetteer (稠城 = 稠城街道)."),
        channel: list[str] = Query([]),
        source: list[str] = Query([]),
        case_id: list[str] = Query([]),
        ids: list[str] = Query([], description="Document ids (case ids for cases, lead ids for leads)."),
        group: list[str] = Query([], description="Experience officers' group (reports.groups id)."),
        activity: list[str] = Query([], description="Themed activity (reports.activities id)."),
        entity: list[str] = Query([], description="Named estate, company, school, road, project, village or community (as the entity facet lists it)."),
        needs_triage: bool | None = Query(None),
        overdue: bool = Query(False, description="Cases only: active cases past their due time."),
        since: dt.datetime | None = Query(None, description="ISO date or time; naive = Asia/Shanghai."),
        until: dt.datetime | None = Query(None),
    ) -> None:
        self.values = dict(
            category=category, subcategory=subcategory, department=department, status=status_, place=place,
            channel=channel, source=source, case_id=case_id, ids=ids, group=group, activity=activity, entity=entity,
            needs_triage=needs_triage, overdue=overdue,
            since=since, until=until,
        )  # fmt: skip


def page_params(max_size: int):
    def params(
        q: str = Query("", max_length=1000, description="Words to find; \"quotes\" for phrases, -word to exclude."),
        sort: Sort = Query(Sort.relevance),
        page: int = Query(1, ge=1),
        size: int = Query(20, ge=0, le=max_size),
        facets: bool = Query(True),
    ) -> dict[str, Any]:
        return dict(q=q, sort=sort.value, page=page, size=size, facets=facets)

    return params
