"""Hotspot: something flaring up as leads flow — a surge of one category in one place, or one case
that keeps growing across channels. The detector is enrichers/hotspots.py; the record goes to the
`hotspots` topic and the `hotspots` index, where people acknowledge and close it."""

from __future__ import annotations

import hashlib
from enum import StrEnum

from pydantic import Field

from schemas.leads import Internal
from schemas.timezones import AwareDatetime

CASE_IDS_CAP = 200  # a surge names the cases of its first leads; count counts them all
LEAD_IDS_CAP = 200


class HotspotKind(StrEnum):
    surge = "surge"  # leads of one category in one place, well above that pair's own baseline
    growing_case = "growing_case"  # one case: many reports in a short time from several channels


class HotspotStatus(StrEnum):
    new = "new"
    acknowledged = "acknowledged"
    closed = "closed"


# What people decide about a hotspot. The detector's later updates of the same hotspot (more leads)
# never overwrite these (sinks keep them).
HANDLING_FIELDS = ("status", "acknowledged_by", "acknowledged_at", "closed_by", "closed_at")


class HotspotWindow(Internal):
    start: AwareDatetime = Field(..., description="Start of the window the test was run on.")
    end: AwareDatetime = Field(..., description="End of that window (the time of the lead that tipped it).")
    hours: float = Field(..., gt=0, description="The window's length (hotspots.window_hours, or case_hours).")


class Hotspot(Internal):
    hotspot_id: str = Field(..., description="Stable: (kind, category, place, episode start) for a surge, the case for a growing case.")
    kind: HotspotKind
    category: str | None = Field(None, description="Level-1 category.")
    place: str | None = Field(None, description="The town (镇/街道).")
    count: int = Field(..., ge=0, description="Leads in the hotspot so far (a surge: of the pair since the window's start).")
    baseline: float = Field(
        0.0, ge=0, description="Expected leads per window from the pair's own history (a growing case: 0)."
    )
    window: HotspotWindow
    first_seen: AwareDatetime = Field(..., description="The earliest lead counted.")
    last_seen: AwareDatetime = Field(..., description="The latest lead counted.")
    detected_at: AwareDatetime = Field(..., description="Event time at which the test first fired.")
    case_ids: list[str] = Field(default_factory=list, description=f"Cases of the leads (first {CASE_IDS_CAP}).")
    lead_ids: list[str] = Field(default_factory=list, description=f"Leads counted (first {LEAD_IDS_CAP}).")
    channels: list[str] = Field(default_factory=list)
    p_value: float | None = Field(None, ge=0, le=1, description="Surge: one-sided Poisson P(X >= count | baseline) at detection.")
    score: float | None = Field(None, description="Surge: count / baseline at detection; growing case: reports in the window.")
    status: HotspotStatus = HotspotStatus.new
    acknowledged_by: str | None = None
    acknowledged_at: AwareDatetime | None = None
    closed_by: str | None = None
    closed_at: AwareDatetime | None = None


def hotspot_id(kind: HotspotKind | str, *parts: str | None) -> str:
    """A short stable id from the kind and what makes the hotspot the one it is."""
    text = "\x1f".join([str(kind), *(part or "" for part in parts)])
    return f"{kind}-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
