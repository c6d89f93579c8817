"""Query-string parameters shared by the API and the web pages, validated into leadhub.queries models."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import HTTPException, Query, status
from pydantic import ValidationError

from leadhub.queries import Filters, Kind, SearchRequest, Sort


def validation_detail(exc: ValidationError) -> list[dict[str, Any]]:
    return [{"loc": list(err["loc"]), "msg": err["msg"]} for err in exc.errors()]


def build_search(kind: Kind, q: str, filters: dict[str, Any], sort: str, page: int, size: int, facets: bool) -> SearchRequest:
    try:
        return SearchRequest(
            kind=kind, q=q, filters=Filters(**{k: v for k, v in filters.items() if v not in (None, [], False)}),
            sort=sort, page=page, size=size, facets=facets,
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
        place: list[str] = Query([], description="Town / sub-district or community."),
        channel: list[str] = Query([]),
        source: list[str] = Query([]),
        case_id: list[str] = Query([]),
        needs_triage: bool | None = Query(None),
        overdue: bool = Query(False, description="Cases only: active cases past their due time."),
        since: dt.datetime | None = Query(None, description="ISO date or time; naive = Asia/Shanghai."),
        until: dt.datetime | None = Query(None),
    ) -> None:
        self.values = dict(
            category=category, subcategory=subcategory, department=department, status=status_, place=place,
            channel=channel, source=source, case_id=case_id, needs_triage=needs_triage, overdue=overdue,
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
