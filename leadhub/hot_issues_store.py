"""Hot issues in either store, as the streams maintain them (streams/hot_issue_stage.py through the
sinks): those whose latest lead falls in a period, hottest first, or the raised-again list.

    hot_issue_store(ctx.store).list(since=..., until=..., limit=10)
    hot_issue_store(ctx.store).list(since=..., until=..., limit=10, order="repeats", min_repeats=1)

Each issue comes as its stored record plus ``repeats`` (leads - reporters, schemas.hot_issues).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from adapters.search_backend import NotFound, SearchBackend
from leadhub.readers.contract import ReadStore
from schemas.hot_issues import HotIssueOrder, doc_repeats, raised_again_key
from schemas.index_templates import alias_name

# The engine keeps no repeats field: a new field is a new mapping version, and every index migrates
# for it; nor is it worked out by a script, which not every cluster runs (a plain Elasticsearch without
# the painless module refuses it). The raised-again list reads the period's counts, then the records.
CANDIDATES = 10_000  # the engines' default result window: the period's issues with the most leads


class HotIssueStore(Protocol):
    def list(
        self, *, since: dt.datetime | None = None, until: dt.datetime | None = None, limit: int = 10,
        order: HotIssueOrder = "heat", min_repeats: int = 1,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Hottest first, then the latest lead newest first; ``since``/``until``: the latest lead at or
        after / before. ``order="repeats"``: the issues with at least ``min_repeats`` repeats, the most
        first, then as above."""
        ...


def with_repeats(doc: dict[str, Any]) -> dict[str, Any]:
    return {**doc, "repeats": doc_repeats(doc)}


class EngineHotIssues:
    def __init__(self, backend: SearchBackend, index_prefix: str) -> None:
        self.backend = backend
        self.index = alias_name(index_prefix, "hot_issues")

    def list(
        self, *, since: dt.datetime | None = None, until: dt.datetime | None = None, limit: int = 10,
        order: HotIssueOrder = "heat", min_repeats: int = 1,
    ) -> list[dict[str, Any]]:  # fmt: skip
        bounds = {op: at.isoformat() for op, at in (("gte", since), ("lt", until)) if at is not None}
        filters: list[dict[str, Any]] = [{"range": {"last_seen": bounds}}] if bounds else []
        try:
            if order == "repeats":
                return _raised_again(self.backend, self.index, filters, limit, min_repeats)
            body = {"query": {"bool": {"filter": filters}}, "size": limit, "sort": [{"heat": "desc"}, {"last_seen": "desc"}, {"issue_id": "asc"}]}
            found = self.backend.search(self.index, body)
        except NotFound:
            return []  # no hot_issues index yet (`leadhub index init` makes it): none maintained
        return [with_repeats(hit["_source"]) for hit in found["hits"]["hits"]]


def _raised_again(backend: SearchBackend, index: str, filters: list[dict[str, Any]], limit: int, min_repeats: int) -> list[dict[str, Any]]:
    # An issue with r repeats has at least r leads: only those are read, their counts only.
    body = {
        "query": {"bool": {"filter": [*filters, {"range": {"leads": {"gte": min_repeats}}}]}},
        "size": CANDIDATES, "_source": ["issue_id", "leads", "reporters", "heat", "last_seen"],
        "sort": [{"leads": "desc"}, {"issue_id": "asc"}],
    }  # fmt: skip
    counts = [hit["_source"] for hit in backend.search(index, body)["hits"]["hits"]]
    chosen = [c["issue_id"] for c in sorted((c for c in counts if doc_repeats(c) >= min_repeats), key=raised_again_key)[:limit]]
    found = backend.mget(index, chosen)  # the alias names one index; the records' _id is their issue_id
    return [with_repeats(found[issue_id]["_source"]) for issue_id in chosen if issue_id in found]


class EmbeddedHotIssues:
    def __init__(self, index: Any) -> None:  # sinks.embedded_index.EmbeddedIndex
        self.index = index

    def list(
        self, *, since: dt.datetime | None = None, until: dt.datetime | None = None, limit: int = 10,
        order: HotIssueOrder = "heat", min_repeats: int = 1,
    ) -> list[dict[str, Any]]:  # fmt: skip
        found = self.index.hot_issue_documents(
            since=since.timestamp() if since else None, until=until.timestamp() if until else None, limit=limit,
            min_repeats=min_repeats if order == "repeats" else None,
        )  # fmt: skip
        return [with_repeats(doc) for doc in found]


def hot_issue_store(store: ReadStore) -> HotIssueStore:
    """The hot issues beside the read store the API (or a command) uses."""
    from leadhub.readers.embedded import EmbeddedStore
    from leadhub.readers.engine import EngineStore

    if isinstance(store, EngineStore):
        return EngineHotIssues(store.backend, store.indices["leads"].removesuffix("-leads"))
    if isinstance(store, EmbeddedStore):
        return EmbeddedHotIssues(store.index)
    raise TypeError(f"no hot issues beside a {type(store).__name__}")
