"""Every document that matches filters, whole (history included), a page at a time, from either store.

Statistics that need each case's history (department performance) cannot use ``search``: its pages stop
at the engines' result window (10,000). Here the engine pages with ``search_after`` on the document id,
and the embedded index with a keyset on the same id, so a period of any size is read in pages of
``page_size`` with the same answers from both stores.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from leadhub import search_dsl
from leadhub.queries import Filters, Kind, TextQuery
from leadhub.readers import embedded as embedded_reader
from leadhub.readers.contract import ReadStore
from leadhub.readers.embedded import EmbeddedStore
from leadhub.readers.engine import EngineStore
from sinks.embedded_docs import load

PAGE_SIZE = 500
ID = {"leads": "lead_id", "cases": "case_id"}


def documents(store: ReadStore, kind: Kind, filters: Filters, page_size: int = PAGE_SIZE) -> Iterator[dict[str, Any]]:
    """The matching documents in id order."""
    if isinstance(store, EngineStore):
        yield from _engine(store, kind, filters, page_size)
    elif isinstance(store, EmbeddedStore):
        yield from _embedded(store, kind, filters, page_size)
    else:
        raise TypeError(f"no paged reading for {type(store).__name__}")


def by_ids(store: ReadStore, kind: Kind, ids: Iterable[str], page_size: int = PAGE_SIZE) -> dict[str, dict[str, Any]]:
    """The documents of these ids that exist, by id."""
    wanted = sorted(set(ids))
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), page_size):
        for doc in documents(store, kind, Filters(ids=wanted[start : start + page_size]), page_size):
            found[doc[ID[kind]]] = doc
    return found


def _engine(store: EngineStore, kind: Kind, filters: Filters, page_size: int) -> Iterator[dict[str, Any]]:
    clauses = search_dsl.filter_clauses(kind, filters)
    body: dict[str, Any] = {
        "query": {"bool": {"filter": clauses}} if clauses else {"match_all": {}},
        "size": page_size, "sort": [{ID[kind]: "asc"}], "track_total_hits": False,
    }  # fmt: skip
    while True:
        hits = store._search(kind, body)["hits"]["hits"]
        for hit in hits:
            yield hit["_source"]
        if len(hits) < page_size:
            return
        body["search_after"] = hits[-1]["sort"]


def _embedded(store: EmbeddedStore, kind: Kind, filters: Filters, page_size: int) -> Iterator[dict[str, Any]]:
    where, _ = embedded_reader.build_where(kind, filters, TextQuery((), ()))
    column = f"t.{ID[kind]}"
    after: str | None = None
    while True:
        keyset = f" AND {column} > ?" if after is not None else ""
        rows = store.index.db.execute(
            f"SELECT {column}, t.doc FROM {kind} t WHERE {where.sql()}{keyset} ORDER BY {column} LIMIT ?",  # noqa: S608
            [*where.params, *([after] if after is not None else []), page_size],
        ).fetchall()
        for _, doc in rows:
            yield load(doc)
        if len(rows) < page_size:
            return
        after = rows[-1][0]
