"""The read side's one narrow interface: every reader (engine.py, embedded.py) implements ReadStore,
so the CLI, API and web pages work on either store."""

from __future__ import annotations

from typing import Any, Protocol

from adapters.search_backend import SearchRequestError
from leadhub.queries import Kind, SearchPage, SearchRequest, Stats, StatsRequest


class StoreQueryError(SearchRequestError):
    """The store refused a request that validation let through (a bug or an odd index): 400, not 500."""


class ReadStore(Protocol):
    def search(self, request: SearchRequest) -> SearchPage: ...
    def get(self, kind: Kind, doc_id: str) -> dict[str, Any] | None: ...
    def ids_starting(self, kind: Kind, prefix: str, limit: int) -> list[str]:
        """Up to ``limit`` ids of ``kind`` that start with ``prefix``, in id order."""
        ...
    def stats(self, request: StatsRequest) -> Stats: ...
    def ping(self) -> str:
        """A short description of the store; raises SearchUnavailable when it cannot answer."""
        ...
