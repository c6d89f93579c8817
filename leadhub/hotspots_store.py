"""Hotspots in either store: list them (newest first), and record people's handling (acknowledge, close).

The detector's records reach the stores through the sinks (sinks/hotspot_documents.py). Handling is
written here, straight into the store, and the sinks never overwrite it: it is a decision about the
hotspot, not part of what the stream measures, so it needs no topic of its own.

    store = hotspot_store(ctx.store)       # the API's read store decides which one
    store.list(status="new", limit=20)
    store.handle("surge-…", HotspotStatus.acknowledged, actor="root")
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from adapters.search_backend import NotFound, SearchBackend, SearchRequestError
from leadhub.readers.contract import ReadStore
from schemas.hotspots import HotspotStatus
from schemas.index_templates import alias_name


class HotspotNotFound(LookupError):
    pass


class IllegalHotspotTransition(ValueError):
    """e.g. acknowledging a closed hotspot."""


# status -> the statuses people may move it to. The same again is allowed and changes nothing
# (a retried request), so a hotspot keeps who acknowledged it first.
TRANSITIONS: dict[HotspotStatus, frozenset[HotspotStatus]] = {
    HotspotStatus.new: frozenset({HotspotStatus.acknowledged, HotspotStatus.closed}),
    HotspotStatus.acknowledged: frozenset({HotspotStatus.closed}),
    HotspotStatus.closed: frozenset(),
}
_WHO = {HotspotStatus.acknowledged: ("acknowledged_by", "acknowledged_at"), HotspotStatus.closed: ("closed_by", "closed_at")}


def handling_changes(doc: dict[str, Any], to: HotspotStatus, actor: str, at: dt.datetime) -> dict[str, Any]:
    """The fields to write for moving ``doc`` to ``to`` ({} when it is there already); raises
    IllegalHotspotTransition."""
    current = HotspotStatus(doc.get("status") or "new")
    if current is to:
        return {}
    if to not in TRANSITIONS[current]:
        raise IllegalHotspotTransition(f"a {current.value} hotspot cannot be {to.value}")
    by, when = _WHO[to]
    return {"status": to.value, by: actor, when: at.isoformat()}


class HotspotStore(Protocol):
    def list(
        self, *, status: str | None = None, kind: str | None = None, limit: int = 50,
        since: dt.datetime | None = None, until: dt.datetime | None = None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Newest detection first; ``since``/``until``: detected at or after / before."""
        ...

    def get(self, hotspot_id: str) -> dict[str, Any] | None: ...
    def handle(self, hotspot_id: str, to: HotspotStatus, actor: str, at: dt.datetime | None = None) -> dict[str, Any]: ...


class EngineHotspots:
    def __init__(self, backend: SearchBackend, index_prefix: str) -> None:
        self.backend = backend
        self.index = alias_name(index_prefix, "hotspots")

    def list(
        self, *, status: str | None = None, kind: str | None = None, limit: int = 50,
        since: dt.datetime | None = None, until: dt.datetime | None = None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        filters: list[dict[str, Any]] = [{"term": {field: value}} for field, value in (("status", status), ("kind", kind)) if value]
        bounds = {op: at.isoformat() for op, at in (("gte", since), ("lt", until)) if at is not None}
        if bounds:
            filters.append({"range": {"detected_at": bounds}})
        body = {"query": {"bool": {"filter": filters}}, "size": limit,
                "sort": [{"detected_at": "desc"}, {"hotspot_id": "asc"}]}  # fmt: skip
        try:
            found = self.backend.search(self.index, body)
        except NotFound:
            return []  # no hotspots index yet (`leadhub index init` makes it): nothing flared up
        return [hit["_source"] for hit in found["hits"]["hits"]]

    def get(self, hotspot_id: str) -> dict[str, Any] | None:
        try:
            found = self.backend.get(self.index, hotspot_id)
        except NotFound:
            return None
        return None if found is None else found["_source"]

    def handle(self, hotspot_id: str, to: HotspotStatus, actor: str, at: dt.datetime | None = None) -> dict[str, Any]:
        at = at or dt.datetime.now(dt.UTC)
        for _ in range(5):  # guarded by the sequence number: a concurrent change is read again
            found = self.backend.get(self.index, hotspot_id)
            if found is None:
                raise HotspotNotFound(hotspot_id)
            doc = found["_source"]
            changes = handling_changes(doc, to, actor, at)
            if not changes:
                return doc
            try:
                self.backend.update(
                    self.index, hotspot_id, {"doc": changes}, refresh="wait_for",
                    if_seq_no=found["_seq_no"], if_primary_term=found["_primary_term"],
                )  # fmt: skip
            except SearchRequestError as exc:
                if exc.status == 409:
                    continue
                raise
            return {**doc, **changes}
        raise IllegalHotspotTransition("the hotspot kept changing; try again")


class EmbeddedHotspots:
    def __init__(self, index: Any) -> None:  # sinks.embedded_index.EmbeddedIndex
        self.index = index

    def list(
        self, *, status: str | None = None, kind: str | None = None, limit: int = 50,
        since: dt.datetime | None = None, until: dt.datetime | None = None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        return self.index.hotspot_documents(
            status=status, kind=kind, limit=limit, since=since.timestamp() if since else None,
            until=until.timestamp() if until else None,
        )  # fmt: skip

    def get(self, hotspot_id: str) -> dict[str, Any] | None:
        return self.index.hotspot_document(hotspot_id)

    def handle(self, hotspot_id: str, to: HotspotStatus, actor: str, at: dt.datetime | None = None) -> dict[str, Any]:
        at = at or dt.datetime.now(dt.UTC)
        doc = self.index.update_hotspot(hotspot_id, lambda doc: handling_changes(doc, to, actor, at))
        if doc is None:
            raise HotspotNotFound(hotspot_id)
        return doc

def hotspot_store(store: ReadStore) -> HotspotStore:
    """The hotspots beside the read store the API (or a command) uses."""
    from leadhub.readers.embedded import EmbeddedStore
    from leadhub.readers.engine import EngineStore

    if isinstance(store, EngineStore):
        prefix = store.indices["leads"].removesuffix("-leads")
        return EngineHotspots(store.backend, prefix)
    if isinstance(store, EmbeddedStore):
        return EmbeddedHotspots(store.index)
    raise TypeError(f"no hotspots beside a {type(store).__name__}")
