"""How both sinks write a hotspot record: the one rule, as documents.py is for cases.

The detector owns what it measured (count, cases, window, ...); people own the handling
(status, who acknowledged or closed it and when, schemas.hotspots.HANDLING_FIELDS). A later record of
the same hotspot (more leads) updates the first and never the second, so an acknowledged hotspot stays
acknowledged while it grows. A record replayed after a newer one (at least once) never shrinks it.
Both sinks apply this one function: the search writer reads the stored hotspot and writes the result
back guarded by its sequence number (no painless script: the local Elasticsearch has none).
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
