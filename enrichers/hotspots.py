"""Hotspots as leads flow: surges of one category in one place, and cases that grow across channels.

Pure and incremental: ``HotspotDetector.observe(lead)`` takes routed leads one at a time (any order,
duplicates ignored by lead id) and returns the hotspots it opened or updated. Time is the leads' own
(published, else fetched), never the wall clock, so a replay of the same leads gives the same hotspots
with the same ids, and the state can be rebuilt after a restart by ``warm(leads)`` over the last
``HotspotConfig.history_hours`` of leads.

**Surge** (per level-1 category x town). At each lead of the pair, at its time t:

- count c = the pair's leads in the window (t - W, t], W = ``window_hours``;
- baseline: the pair's leads in the N windows before it, (t - W - N*W, t - W], N = ``baseline_windows``
  (fewer while the detector has seen less history: N_eff = the whole windows it has seen, at least 1).
  The expected count per window is lambda = (k + 1) / N_eff; the +1 (one pseudo-lead over the baseline
  period) keeps a pair with an empty history from making any count at all significant;
- test: one-sided Poisson, p = P(X >= c | lambda); a surge when c >= ``min_count`` and
  p <= ``p_threshold``.

A surge is one episode: later leads of the pair join it (count, last_seen, cases) while they come within
W of the last lead on which the test still fired; after that a new surge is a new hotspot. Its id is
stable per (kind, category, place, window start): the time of the earliest lead in the window that fired.

**Growing case**: at a lead of case K at time t, the case's reports in (t - H, t], H = ``case_hours``:
at least ``case_min_reports`` of them from at least ``case_min_channels`` channels. One hotspot per case
(its id from the case id); the case's later leads update it.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from scipy.special import pdtrc

from schemas.hotspots import CASE_IDS_CAP, LEAD_IDS_CAP, Hotspot, HotspotKind, HotspotWindow, hotspot_id
from schemas.leads import Lead

HOUR = 3600.0
PRUNE_EVERY = 512  # observations between two prunings of what fell out of the history


@dataclass(frozen=True)
class HotspotConfig:
    window_hours: float = 24.0
    baseline_windows: int = 14
    p_threshold: float = 0.001
    min_count: int = 5
    case_hours: float = 48.0
    case_min_reports: int = 5
    case_min_channels: int = 2

    @property
    def history_hours(self) -> float:
        """How much of the past the state needs (what ``warm`` should be given after a restart)."""
        return max(self.window_hours * (self.baseline_windows + 1), self.case_hours)


@dataclass(frozen=True)
class Detection:
    hotspot: Hotspot
    new: bool  # opened by this lead (notify), else an update of one already reported


def surge_p_value(count: int, expected: float) -> float:
    """One-sided Poisson test: P(X >= count) for X ~ Poisson(expected)."""
    if count <= 0:
        return 1.0
    return float(pdtrc(count - 1, expected))


def lead_time(lead: Lead) -> float:
    return (lead.published_at or lead.fetched_at).timestamp()


def _at(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


@dataclass
class _Item:
    t: float
    lead_id: str
    case_id: str | None
    channel: str


@dataclass
class _Series:
    """One pair's or case's leads in time order (times kept apart for bisect)."""

    times: list[float] = field(default_factory=list)
    items: list[_Item] = field(default_factory=list)

    def add(self, item: _Item) -> None:
        at = bisect.bisect_right(self.times, item.t)
        self.times.insert(at, item.t)
        self.items.insert(at, item)

    def between(self, start: float, end: float) -> list[_Item]:
        """Items with start < t <= end."""
        return self.items[bisect.bisect_right(self.times, start) : bisect.bisect_right(self.times, end)]

    def ends_holding(self, t: float, width: float) -> list[float]:
        """The ends of the windows of ``width`` that hold time t, each window ending at a lead: t and the
        later times before t + width. Leads come out of time order, so a window holding a lead may end
        at one that came before it."""
        return list(dict.fromkeys([t, *(i.t for i in self.between(t, t + width) if i.t < t + width)]))

    def count(self, start: float, end: float) -> int:
        return bisect.bisect_right(self.times, end) - bisect.bisect_right(self.times, start)

    def drop_before(self, t: float) -> None:
        cut = bisect.bisect_left(self.times, t)
        if cut:
            del self.times[:cut], self.items[:cut]


@dataclass
class _Episode:
    hotspot: Hotspot
    last_hit: float  # when the test last fired


def _joined(hotspot: Hotspot, item: _Item) -> Hotspot:
    """The hotspot with one more lead counted."""
    at = _at(item.t)
    cases = hotspot.case_ids
    if item.case_id and item.case_id not in cases and len(cases) < CASE_IDS_CAP:
        cases = [*cases, item.case_id]
    leads = hotspot.lead_ids if len(hotspot.lead_ids) >= LEAD_IDS_CAP else [*hotspot.lead_ids, item.lead_id]
    return hotspot.model_copy(update={
        "count": hotspot.count + 1, "first_seen": min(hotspot.first_seen, at), "last_seen": max(hotspot.last_seen, at),
        "case_ids": cases, "lead_ids": leads, "channels": sorted({*hotspot.channels, item.channel}),
    })  # fmt: skip


def _drop_before(store: dict[Any, _Series], horizon: float) -> None:
    for key in list(store):
        store[key].drop_before(horizon)
        if not store[key].times:
            del store[key]


class HotspotDetector:
    def __init__(self, config: HotspotConfig | None = None) -> None:
        self.config = config or HotspotConfig()
        self.window = self.config.window_hours * HOUR
        self.case_window = self.config.case_hours * HOUR
        self.pairs: dict[tuple[str, str], _Series] = {}
        self.cases: dict[str, _Series] = {}
        self.surges: dict[tuple[str, str], _Episode] = {}
        self.growing: dict[str, Hotspot] = {}
        self.seen: dict[str, float] = {}  # lead id -> time: a lead delivered twice counts once
        self.origin: float | None = None  # the earliest lead time seen: how much history there is
        self.clock = -math.inf  # the latest lead time seen
        self._since_prune = 0

    # --- feeding ---------------------------------------------------------------------------------

    def observe(self, lead: Lead) -> list[Detection]:
        """The hotspots this lead opens or updates (none for most leads)."""
        if lead.lead_id in self.seen:
            return []
        t = lead_time(lead)
        self.seen[lead.lead_id] = t
        self.origin = t if self.origin is None else min(self.origin, t)
        self.clock = max(self.clock, t)
        item = _Item(t, lead.lead_id, lead.case_id, lead.channel)
        found: list[Detection] = []
        category = lead.category.level1 if lead.category else None
        town = lead.place.town if lead.place else None
        if category and town:
            found += self._surge((category, town), item)
        if lead.case_id:
            found += self._growing(lead.case_id, category, town, item)
        self._since_prune += 1
        if self._since_prune >= PRUNE_EVERY:
            self.prune()
        return found

    def observe_many(self, leads: Iterable[Lead]) -> list[Detection]:
        return [found for lead in leads for found in self.observe(lead)]

    def warm(self, leads: Iterable[Lead]) -> int:
        """Rebuild the state from past leads (after a restart), in time order, reporting nothing:
        the hotspots they make were reported when those leads first came. Returns how many were read."""
        ordered = sorted(leads, key=lambda lead: (lead_time(lead), lead.lead_id))
        for lead in ordered:
            self.observe(lead)
        return len(ordered)

    # --- surges ----------------------------------------------------------------------------------

    def expected(self, series: _Series, t: float) -> float:
        """Leads per window the pair's own history predicts at t (see the module docstring)."""
        config, w = self.config, self.window
        seen_windows = (t - w - (self.origin if self.origin is not None else t)) / w
        windows = min(config.baseline_windows, max(1, math.floor(seen_windows)))
        past = series.count(t - w - windows * w, t - w)
        return (past + 1) / windows

    def _first_firing_end(self, series: _Series, t: float) -> tuple[float, list[_Item], float, float] | None:
        """The earliest window holding the lead at t that passes the test, as (end, its leads, expected, p).

        Windows end at a lead's time; those holding t end in [t, t + w). Leads reach the route stage out
        of time order (normalize runs per partition), so the window that fires may end at a lead that
        came before this one: testing only (t - w, t] missed a surge whose last lead to arrive was not
        its latest in time."""
        w, config = self.window, self.config
        for end in series.ends_holding(t, w):
            in_window = series.between(end - w, end)
            if len(in_window) < config.min_count:
                continue
            expected = self.expected(series, end)
            p = surge_p_value(len(in_window), expected)
            if p <= config.p_threshold:
                return end, in_window, expected, p
        return None

    def _surge(self, pair: tuple[str, str], item: _Item) -> list[Detection]:
        series = self.pairs.setdefault(pair, _Series())
        series.add(item)
        w = self.window
        fired_at = self._first_firing_end(series, item.t)
        episode = self.surges.get(pair)
        # A lead from before the episode's start is still its own when the window it fires in reaches
        # the episode (a burst whose later leads came first); else it would open a second hotspot.
        joins = episode is not None and item.t <= episode.last_hit + w and (
            item.t >= episode.hotspot.window.start.timestamp()
            or (fired_at is not None and fired_at[0] >= episode.hotspot.window.start.timestamp())
        )
        if joins and episode is not None:
            hotspot = _joined(episode.hotspot, item)
            if fired_at is not None:
                episode.last_hit = max(episode.last_hit, fired_at[0])
                hotspot = hotspot.model_copy(update={"p_value": min(hotspot.p_value or 1.0, fired_at[3])})
            episode.hotspot = hotspot
            return [Detection(hotspot, new=False)]
        if fired_at is None:
            return []
        t, in_window, expected, p = fired_at
        count = len(in_window)
        start = in_window[0].t
        hotspot = Hotspot(
            hotspot_id=hotspot_id(HotspotKind.surge, pair[0], pair[1], _at(start).isoformat()),
            kind=HotspotKind.surge, category=pair[0], place=pair[1], count=count, baseline=round(expected, 4),
            window=HotspotWindow(start=_at(start), end=_at(t), hours=self.config.window_hours),
            first_seen=_at(start), last_seen=_at(max(i.t for i in in_window)), detected_at=_at(t),
            case_ids=list(dict.fromkeys(i.case_id for i in in_window if i.case_id))[:CASE_IDS_CAP],
            lead_ids=[i.lead_id for i in in_window][:LEAD_IDS_CAP], channels=sorted({i.channel for i in in_window}),
            p_value=p, score=round(count / expected, 3),
        )  # fmt: skip
        self.surges[pair] = _Episode(hotspot, t)
        return [Detection(hotspot, new=True)]

    # --- growing cases ---------------------------------------------------------------------------

    def _growing(self, case_id: str, category: str | None, town: str | None, item: _Item) -> list[Detection]:
        series = self.cases.setdefault(case_id, _Series())
        series.add(item)
        known = self.growing.get(case_id)
        if known is not None:
            self.growing[case_id] = hotspot = _joined(known, item)
            return [Detection(hotspot, new=False)]
        h, config = self.case_window, self.config
        # As for surges: the reports that make a growing case may arrive out of time order.
        for t in series.ends_holding(item.t, h):
            recent = series.between(t - h, t)
            channels = sorted({i.channel for i in recent})
            if len(recent) >= config.case_min_reports and len(channels) >= config.case_min_channels:
                break
        else:
            return []
        start = recent[0].t
        hotspot = Hotspot(
            hotspot_id=hotspot_id(HotspotKind.growing_case, case_id), kind=HotspotKind.growing_case,
            category=category, place=town, count=len(recent), baseline=0.0,
            window=HotspotWindow(start=_at(start), end=_at(t), hours=config.case_hours),
            first_seen=_at(start), last_seen=_at(recent[-1].t), detected_at=_at(t), case_ids=[case_id],
            lead_ids=[i.lead_id for i in recent][:LEAD_IDS_CAP], channels=channels, score=float(len(recent)),
        )  # fmt: skip
        self.growing[case_id] = hotspot
        return [Detection(hotspot, new=True)]

    # --- memory ----------------------------------------------------------------------------------

    def prune(self) -> None:
        """Forget what no later test can look at: leads older than the history, finished episodes."""
        self._since_prune = 0
        horizon = self.clock - self.config.history_hours * HOUR
        for store in (self.pairs, self.cases):
            _drop_before(store, horizon)
        for pair in [p for p, e in self.surges.items() if e.last_hit + self.window < horizon]:
            del self.surges[pair]
        for case_id in [c for c, h in self.growing.items() if h.last_seen.timestamp() < horizon]:
            del self.growing[case_id]
        self.seen = {lead_id: t for lead_id, t in self.seen.items() if t >= horizon}
