"""The search engine's reader: ``EngineStore`` answers the ReadStore protocol (contract.py) from
OpenSearch / Elasticsearch through the search adapter. The engine's write side is
sinks/search_writer.py.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

from adapters.search_backend import NotFound, SearchBackend, SearchRequestError
from leadhub import search_dsl
from leadhub.queries import (
    FacetBucket,
    Kind,
    SearchPage,
    SearchRequest,
    Stats,
    StatsRequest,
    funnel,
)
from leadhub.readers.contract import StoreQueryError
from schemas.index_templates import MONTHLY_KINDS, alias_name, is_current_month_index


@contextlib.contextmanager
def _as_query_errors() -> Iterator[None]:
    """A refused search as the store's query error (the API's 400 with the engine's reason); a missing
    index stays NotFound (no data yet), an outage stays the adapter's (retry)."""
    try:
        yield
    except NotFound:
        raise
    except SearchRequestError as exc:
        raise StoreQueryError(exc.message, status=exc.status, info=exc.info) from None


class EngineStore:
    def __init__(self, backend: SearchBackend, index_prefix: str) -> None:
        self.backend = backend
        self.indices = {kind: alias_name(index_prefix, kind) for kind in ("leads", "cases")}

    def _search(self, kind: Kind, body: dict[str, Any]) -> dict[str, Any]:
        with _as_query_errors():
            return self.backend.search(self.indices[kind], body)

    def search(self, request: SearchRequest) -> SearchPage:
        hits, facets = search_dsl.split_facets(search_dsl.search_body(request))
        index = self.indices[request.kind]
        order = search_dsl.date_order(request)
        if order is None or request.offset < search_dsl.MONTH_WALK_FROM:
            if facets is None:
                return search_dsl.search_page(request, self._search(request.kind, hits))
            found, counted = self._msearch([(index, hits), (index, facets)])
            return search_dsl.search_page(request, found, counted)
        # A deep page in date order: every month would sort and send its first `offset` matches;
        # the months' counts (cached with the facets, or alone) say which one or two hold the page.
        if facets is None:
            facets = {"size": 0, "track_total_hits": True, "query": hits["query"], "aggs": {}}
            hits = {**hits, "track_total_hits": False}
        counted = self._msearch([(index, {**facets, "aggs": {**facets["aggs"], **search_dsl.months_agg()}})])[0]
        counts = {b["key"]: b["doc_count"] for b in counted["aggregations"]["dated"]["months"]["buckets"]}
        window = None
        if all(is_current_month_index(index, name) for name in counts):  # not while an older layout is behind the alias
            window = search_dsl.month_window(counts, order, request.offset, request.size)
        if window is not None:
            hits = {**hits, "from": window[1]}
        found = self._msearch([(",".join(window[0]) if window else index, hits)])[0]
        return search_dsl.search_page(request, found, counted)

    def _msearch(self, searches: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        with _as_query_errors():
            return self.backend.msearch(searches)

    def get(self, kind: Kind, doc_id: str) -> dict[str, Any] | None:
        if kind in MONTHLY_KINDS:  # which month's index holds it is not known from the id
            hit = self.backend.find(self.indices[kind], [doc_id]).get(doc_id)
        else:
            hit = self.backend.get(self.indices[kind], doc_id)
        return None if hit is None else hit["_source"]

    def ids_starting(self, kind: Kind, prefix: str, limit: int) -> list[str]:
        field = "case_id" if kind == "cases" else "lead_id"
        body = {"size": limit, "_source": False, "query": {"prefix": {field: prefix}}, "sort": [{field: "asc"}]}
        return [hit["_id"] for hit in self._search(kind, body)["hits"]["hits"]]

    def stats(self, request: StatsRequest) -> Stats:
        # To the minute: the same dashboard asked again within it is the same request, which the
        # engine's request cache answers from the shards that did not change (overdue by a minute late).
        now = request.now or dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
        bodies = search_dsl.stats_bodies(request, now)
        answers = dict(zip(bodies, self._msearch([(self.indices[kind], body) for kind, body in bodies.values()]), strict=True))
        cases, leads = answers["cases"], answers["leads"]
        aggs = cases["aggregations"]
        status_counts = {b["key"]: b["doc_count"] for b in aggs["status"]["buckets"]}
        return Stats(
            cases_total=search_dsl.total(cases),
            leads_total=search_dsl.total(leads),
            open_cases=aggs["open"]["doc_count"],
            overdue_cases=aggs["overdue"]["doc_count"],
            by_category_over_time=search_dsl.count_series(aggs["over_time"]),
            by_place=[FacetBucket(value=b["key"], count=b["doc_count"]) for b in aggs["place"]["buckets"]],
            by_channel=[FacetBucket(value=b["key"], count=b["doc_count"]) for b in leads["aggregations"]["channel"]["buckets"]],
            status_funnel=funnel(status_counts),
            overdue=[hit["_source"] for hit in answers["overdue"]["hits"]["hits"]],
            hot=[hit["_source"] for hit in answers["hot"]["hits"]["hits"]],
        )

    def ping(self) -> str:
        info = self.backend.info()
        return f"{self.backend.backend} {info.get('version', {}).get('number', '?')}"
