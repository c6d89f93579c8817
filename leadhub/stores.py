"""Which store and publisher this installation reads and writes, chosen by ``settings.mode``."""

from __future__ import annotations

from collections.abc import Callable

from leadhub.read_store import ReadStore
from leadhub.settings import Settings


def open_read_store(settings: Settings) -> tuple[ReadStore, Callable[[], None]]:
    """The store and how to close it."""
    if settings.mode == "embedded":
        from leadhub.embedded import open_existing_index
        from leadhub.embedded_store import EmbeddedStore

        index = open_existing_index(settings)  # a reader never makes an empty index
        return EmbeddedStore(index), index.close
    from adapters.search_backend import SearchBackend
    from leadhub.read_store import EngineStore

    backend = SearchBackend.from_settings(settings.search)
    return EngineStore(backend, settings.search.index_prefix), backend.close
