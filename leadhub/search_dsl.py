"""Search requests and statistics as OpenSearch / Elasticsearch query DSL, and their answers back. Pure.

User text is parsed once (``leadhub.queries.parse_text``, the same parser the embedded store uses)
and each term enters a ``multi_match`` phrase query as plain text, never as query syntax, so no input
can make the engine answer with a parse error, and both stores read a query the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from leadhub.queries import (
    ACTIVE_STATUSES,
    FACETS,
    CountSeries,
    FacetBucket,
    Filters,
    Kind,
    SearchPage,
    SearchRequest,
    Sort,
    StatsRequest,
    TextQuery,
    parse_text,
)

TEXT_FIELDS: dict[str, list[str]] = {
    "leads": ["title^2", "text", "location_text", "place.address"],
    "cases": ["title^2", "summary", "resolution", "place.address"],
}
DATE_FIELD: dict[str, str] = {"leads": "published_at", "cases": "first_seen"}
FACET_SIZE = 20
HIT_FIELDS_EXCLUDED = {"leads": ["extra"], "cases": ["history", "feedback", "ratings", "lead_ids"]}


def _terms(field: str, values: Sequence[str]) -> dict[str, Any]:
    return {"terms": {field: [str(v) for v in values]}}


def _date_range(kind: Kind, since: dt.datetime | None, until: dt.datetime | None) -> dict[str, Any] | None:
    if since is None and until is None:
        return None
    bounds = {k: v.isoformat() for k, v in (("gte", since), ("lt", until)) if v is not None}
    if kind == "cases":
        return {"range": {"first_seen": bounds}}
    # A lead without a publication time counts from when it was fetched.
    return {
        "bool": {
            "should": [
                {"range": {"published_at": bounds}},
                {"bool": {"must_not": {"exists": {"field": "published_at"}}, "filter": {"range": {"fetched_at": bounds}}}},
            ],
            "minimum_should_match": 1,
        }
    }


def filter_clauses(kind: Kind, filters: Filters, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    clauses: list[dict[str, Any]] = []
    plain: dict[str, Sequence[str]] = {  # statuses are str enums
        "category.level1": filters.category,
        "category.level2": filters.subcategory,
        "department": filters.department,
        "status": filters.status,
        "channel" if kind == "leads" else "channels": filters.channel,
        "source" if kind == "leads" else "sources": filters.source,
        "case_id": filters.case_id,
        "reporter_group" if kind == "leads" else "reporter_groups": filters.group,
        "activity" if kind == "leads" else "activities": filters.activity,
        "author": filters.author,
        "entities": filters.entity,
    }
    clauses += [_terms(field, values) for field, values in plain.items() if values]
    if filters.ids:
        clauses.append({"ids": {"values": filters.ids}})
    if filters.place:
        places = [str(p) for p in filters.place]
        clauses.append({"bool": {"should": [{"terms": {"place.town": places}}, {"terms": {"place.community": places}}], "minimum_should_match": 1}})
    if filters.needs_triage is not None:
        clauses.append(_needs_triage(kind, filters.needs_triage))
    if filters.overdue:
        clauses.append(overdue_clause(now or dt.datetime.now(dt.UTC)))
    if (when := _date_range(kind, filters.since, filters.until)) is not None:
        clauses.append(when)
    return clauses


def _needs_triage(kind: Kind, wanted: bool) -> dict[str, Any]:
    if kind == "leads":
        return {"term": {"needs_triage": wanted}}
    # A case waits for triage until it has a department (routing found none, or nobody assigned one).
    routed = {"exists": {"field": "department"}}
    return {"bool": {"filter": [routed]}} if not wanted else {"bool": {"must_not": [routed]}}


def text_clauses(kind: Kind, text: TextQuery) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(must, must_not): each term as a phrase over the text fields."""

    def phrase(term: str) -> dict[str, Any]:
        return {"multi_match": {"query": term, "type": "phrase", "fields": TEXT_FIELDS[kind], "lenient": True}}

    return [phrase(t) for t in text.must], [phrase(t) for t in text.must_not]


def overdue_clause(now: dt.datetime) -> dict[str, Any]:
    """Not yet resolved, past the due time."""
    return {"bool": {"filter": [{"range": {"due_at": {"lt": now.isoformat()}}}, {"terms": {"status": ACTIVE_STATUSES}}]}}


def _sort(request: SearchRequest) -> list[Any]:
    date = DATE_FIELD[request.kind]
    newest = {date: {"order": "desc", "missing": "_last"}}
    by = {
        Sort.relevance: (["_score", newest] if parse_text(request.q).must else [newest]),
        Sort.newest: [newest],
        Sort.oldest: [{date: {"order": "asc", "missing": "_last"}}],
        Sort.priority: [{"priority": "desc"}, newest],
        Sort.reports: [{"report_count": "desc"}, newest] if request.kind == "cases" else [{"priority": "desc"}, newest],
    }[request.sort]
    # A last tie-breaker keeps paging stable.
    return [*by, {"lead_id" if request.kind == "leads" else "case_id": "asc"}]


def search_body(request: SearchRequest, now: dt.datetime | None = None) -> dict[str, Any]:
    must, must_not = text_clauses(request.kind, parse_text(request.q))
    query: dict[str, Any] = {"must": must or [{"match_all": {}}], "filter": filter_clauses(request.kind, request.filters, now)}
    if must_not:
        query["must_not"] = must_not
    body: dict[str, Any] = {
        "query": {"bool": query},
        "from": request.offset,
        "size": request.size,
        "sort": _sort(request),
        "track_total_hits": True,
        "_source": True if request.full else {"excludes": HIT_FIELDS_EXCLUDED[request.kind]},
    }
    if request.facets:
        body["aggs"] = {name: {"terms": {"field": field, "size": FACET_SIZE}} for name, field in FACETS[request.kind].items()}
    return body


def split_facets(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(the hits' request, the facets' request) for one search_body: two searches of one _msearch.
    The hits then need no exact total, so the engine can skip what cannot make the page (at a million
    leads sorting by date no longer visits every match); the facets and the total, a size-0 request, are
    what the engine's request cache keeps per shard, so a month of leads that no longer changes is
    counted once. Without facets: the body as it is (one search)."""
    if "aggs" not in body:
        return body, None
    hits = {k: v for k, v in body.items() if k != "aggs"} | {"track_total_hits": False}
    return hits, {"size": 0, "track_total_hits": True, "query": body["query"], "aggs": body["aggs"]}


# From this offset on, a leads page in date order asks only the months that hold it (month_window).
MONTH_WALK_FROM = 500


def date_order(request: SearchRequest) -> str | None:
    """"desc"/"asc" when a leads page is ordered by publication date alone (then each month's index
    holds one stretch of the order), else None."""
    if request.kind != "leads":
        return None
    if request.sort is Sort.newest or (request.sort is Sort.relevance and not parse_text(request.q).must):
        return "desc"
    return "asc" if request.sort is Sort.oldest else None


def months_agg() -> dict[str, Any]:
    """How many of the matches each index holds, of those with a publication date (the others sort last)."""
    return {"dated": {"filter": {"exists": {"field": "published_at"}}, "aggs": {"months": {"terms": {"field": "_index", "size": 1000}}}}}


def month_window(counts: dict[str, int], order: str, start: int, size: int) -> tuple[list[str], int] | None:
    """The indices that hold matches start..start+size in date ``order`` and where the page begins in
    them, from each month's count of dated matches (``counts``, by index: index names sort as their
    months do, and months split the time line, so the earlier months' matches all come first). None
    when the page reaches past the dated matches (the undated ones come last, from every month)."""
    if start + size > sum(counts.values()):
        return None
    before = 0
    picked: list[str] = []
    offset = 0
    for index in sorted(counts, reverse=order == "desc"):
        n = counts[index]
        if not picked and before + n <= start:
            before += n
            continue
        if not picked:
            offset = start - before
        picked.append(index)
        before += n
        if before >= start + size:
            break
    return picked, offset


def _buckets(agg: dict[str, Any] | None) -> list[FacetBucket]:
    return [FacetBucket(value=str(b.get("key_as_string", b["key"])), count=b["doc_count"]) for b in (agg or {}).get("buckets", [])]


def search_page(request: SearchRequest, response: dict[str, Any], facets: dict[str, Any] | None = None) -> SearchPage:
    """``facets``: the answer to split_facets' facets request (total and aggregations), if it was split."""
    hits = response["hits"]
    matched = total(facets or response)
    aggs = (facets or response).get("aggregations", {})
    return SearchPage(
        kind=request.kind,
        total=matched,
        page=request.page,
        size=request.size,
        hits=[hit["_source"] for hit in hits["hits"]],
        facets={name: _buckets(aggs.get(name)) for name in FACETS[request.kind]} if request.facets else {},
    )


# --- statistics -------------------------------------------------------------------------------

def stats_bodies(request: StatsRequest, now: dt.datetime) -> dict[str, tuple[Kind, dict[str, Any]]]:
    """One search per part of the dashboard: name -> (kind, body)."""
    cases_filter = filter_clauses("cases", request.filters)
    leads_filter = filter_clauses("leads", request.filters)
    open_statuses = ACTIVE_STATUSES
    open_query = {"bool": {"filter": [*cases_filter, {"terms": {"status": open_statuses}}]}}
    hit_source = {"includes": ["case_id", "title", "status", "department", "category", "place", "priority", "report_count", "first_seen", "last_seen", "due_at"]}  # fmt: skip
    return {
        "cases": (
            "cases",
            {
                "size": 0,
                "track_total_hits": True,
                "query": {"bool": {"filter": cases_filter}},
                "aggs": {
                    "over_time": {
                        "date_histogram": {
                            "field": "first_seen",
                            "calendar_interval": request.interval.value,
                            "time_zone": "+08:00",
                            "min_doc_count": 0,
                        },
                        "aggs": {"category": {"terms": {"field": "category.level1", "size": 30, "missing": "未分类"}}},
                    },
                    "place": {"terms": {"field": "place.town", "size": request.top}},
                    "status": {"terms": {"field": "status", "size": 20}},
                    "open": {"filter": {"terms": {"status": open_statuses}}},
                    "overdue": {"filter": overdue_clause(now)},
                },
            },
        ),
        "leads": (
            "leads",
            {
                "size": 0,
                "track_total_hits": True,
                "query": {"bool": {"filter": leads_filter}},
                "aggs": {"channel": {"terms": {"field": "channel", "size": 20}}},
            },
        ),
        "overdue": (
            "cases",
            {
                "size": request.top,
                "query": {"bool": {"filter": [*cases_filter, overdue_clause(now)]}},
                "sort": [{"due_at": "asc"}, {"case_id": "asc"}],
                "_source": hit_source,
            },
        ),
        "hot": (
            "cases",
            {
                "size": request.top,
                "query": open_query,
                "sort": [{"report_count": "desc"}, {"priority": "desc"}, {"case_id": "asc"}],
                "_source": hit_source,
            },
        ),
    }


def count_series(over_time: dict[str, Any]) -> CountSeries:
    buckets = over_time.get("buckets", [])
    names = sorted({c["key"] for b in buckets for c in b["category"]["buckets"]})
    series = {name: [0] * len(buckets) for name in names}
    for i, bucket in enumerate(buckets):
        for cat in bucket["category"]["buckets"]:
            series[cat["key"]][i] = cat["doc_count"]
    return CountSeries(buckets=[str(b["key_as_string"])[:10] for b in buckets], series=series)


def total(response: dict[str, Any]) -> int:
    value = response["hits"]["total"]
    return value["value"] if isinstance(value, dict) else int(value)
