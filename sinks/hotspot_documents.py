"""How both sinks write a hotspot record: the one rule, as documents.py is for cases.

The detector owns what it measured (count, cases, window, ...); people own the handling
(status, who acknowledged or closed it and when, schemas.hotspots.HANDLING_FIELDS). A later record of
the same hotspot (more leads) updates the first and never the second, so an acknowledged hotspot stays
acknowledged while it grows. A record replayed after a newer one (at least once) never shrinks it.
"""

from __future__ import annotations

from typing import Any

from schemas.hotspots import HANDLING_FIELDS, Hotspot


def detection_fields(hotspot: Hotspot) -> dict[str, Any]:
    return hotspot.model_dump(mode="json", exclude=set(HANDLING_FIELDS))


def apply_hotspot(doc: dict[str, Any] | None, hotspot: Hotspot) -> dict[str, Any]:
    """The hotspot document after the record ``hotspot``; ``doc`` (the stored one, if any) is not changed."""
    if doc is None:
        return hotspot.model_dump(mode="json")
    if int(doc.get("count") or 0) > hotspot.count:
        return dict(doc)  # an older record of it, replayed
    return {**doc, **detection_fields(hotspot)}


def hotspot_actions(hotspot: Hotspot, index: str) -> list[dict[str, Any] | bytes]:
    """One bulk update: insert the whole record, or merge the detection fields into the stored one
    unless it already counts more leads (the engine's side of apply_hotspot)."""
    return [
        {"update": {"_index": index, "_id": hotspot.hotspot_id, "retry_on_conflict": 3}},
        {
            "upsert": hotspot.model_dump(mode="json"),
            "script": {
                "lang": "painless",
                "source": "if (ctx._source.count != null && ctx._source.count > params.fields.count) { ctx.op = 'none' }"
                " else { ctx._source.putAll(params.fields) }",
                "params": {"fields": detection_fields(hotspot)},
            },
        },
    ]
