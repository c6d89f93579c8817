"""Hot issues in either store, as the streams maintain them (streams/hot_issue_stage.py through the
sinks): hottest first, those whose latest lead falls in a period.

    hot_issue_store(ctx.store).list(since=..., until=..., limit=10)
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from adapters.search_backend import NotFound, SearchBackend
from leadhub.readers.contract import ReadStore
from schemas.index_templates import alias_name


class HotIssueStore(Protocol):
    def list(self, *, since: dt.datetime | None = None, until: dt.datetime | None = None, limit: int = 10) -> list[dict[str, Any]]:
        """Hottest first, then the latest lead newest first; ``since``/``until``: the latest lead at or
        after / before."""
        ...


class EngineHotIssues:
    def __init__(self, backend: SearchBackend, index_prefix: str) -> None:
        self.backend = backend
        self.index = alias_name(index_prefix, "hot_issues")

    def list(self, *, since: dt.datetime | None = None, until: dt.datetime | None = None, limit: int = 10) -> list[dict[str, Any]]:
        bounds = {op: at.isoformat() for op, at in (("gte", since), ("lt", until)) if at is not None}
        query: dict[str, Any] = {"bool": {"filter": [{"range": {"last_seen": bounds}}] if bounds else []}}
        body = {"query": query, "size": limit,
                "sort": [{"heat": "desc"}, {"last_seen": "desc"}, {"issue_id": "asc"}]}  # fmt: skip
        try:
            found = self.backend.search(self.index, body)
        except NotFound:
            return []  # no hot_issues index yet (`leadhub index init` makes it): none maintained
        return [hit["_source"] for hit in found["hits"]["hits"]]


class EmbeddedHotIssues:
    def __init__(self, index: Any) -> None:  # sinks.embedded_index.EmbeddedIndex
        self.index = index

    def list(self, *, since: dt.datetime | None = None, until: dt.datetime | None = None, limit: int = 10) -> list[dict[str, Any]]:
        return self.index.hot_issue_documents(
            since=since.timestamp() if since else None, until=until.timestamp() if until else None, limit=limit
        )


def hot_issue_store(store: ReadStore) -> HotIssueStore:
    """The hot issues beside the read store the API (or a command) uses."""
    from leadhub.readers.embedded import EmbeddedStore
    from leadhub.readers.engine import EngineStore

    if isinstance(store, EngineStore):
        return EngineHotIssues(store.backend, store.indices["leads"].removesuffix("-leads"))
    if isinstance(store, EmbeddedStore):
        return EmbeddedHotIssues(store.index)
    raise TypeError(f"no hot issues beside a {type(store).__name__}")
