"""leads.routed -> hotspots: the hotspot detector (enrichers/hotspots.py) as a stage.

It runs right behind the route stage, on the leads that stage routed: in the worker inside the route
agent (leads.clean has one partition, so one detector sees every lead, as a surge's count needs), in
the local runner as a tap on leads.routed. Each hotspot a lead opens or updates goes out as a Hotspot
record keyed by its id; a newly opened one is also handed to ``on_new`` (the notifications).

The detector's state is in memory and rebuilt at start from the last ``config.history_hours`` of routed
leads (``warm``): the worker reads them back from leads.routed, embedded mode from its index. The ids
are deterministic, so a rebuilt state goes on with the same hotspots, and what it rebuilt is not
announced again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence

from enrichers.hotspots import HotspotConfig, HotspotDetector
from schemas.errors import RecordError
from schemas.hotspots import Hotspot
from schemas.leads import Lead
from schemas.serialization import decode, encode
from streams.records import Output, Record

log = logging.getLogger("leadhub.streams")

NewHotspot = Callable[[Hotspot], None]


class HotspotStage:
    name = "hotspots"

    def __init__(
        self, config: HotspotConfig, on_new: NewHotspot | None = None, *, announce_within_hours: float = 48.0,
        clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self.detector = HotspotDetector(config)
        self.on_new = on_new
        # The detector counts by the leads' own times; a source that delivers last year's posts today (a
        # first crawl, a backfill) makes last year's surges. They are recorded, but nobody is called about them.
        self.announce_within = announce_within_hours * 3600
        self.clock = clock

    def warm(self, leads: Iterable[Lead]) -> int:
        return self.detector.warm(leads)

    def handle(self, record: Record) -> list[Output]:
        return self.handle_many([record])

    def handle_many(self, records: Sequence[Record]) -> list[Output]:
        """Hotspot records for a batch of routed leads; each hotspot goes out once, as it stands after
        the batch. A record that is not a lead was the route stage's own output: it is skipped, never
        dead-lettered twice."""
        leads = []
        for record in records:
            try:
                leads.append(decode(record.value, record.headers, Lead))
            except RecordError:
                continue
        return self.observe(leads)

    def observe(self, leads: Iterable[Lead]) -> list[Output]:
        """``handle_many`` for leads already decoded (the worker's route agent has them as it routed them)."""
        latest: dict[str, Hotspot] = {}
        opened: list[Hotspot] = []
        for lead in leads:
            for found in self.detector.observe(lead):
                latest.pop(found.hotspot.hotspot_id, None)
                latest[found.hotspot.hotspot_id] = found.hotspot
                if found.new:
                    opened.append(found.hotspot)
        for hotspot in opened:
            self._announce(hotspot)
        return [self._out(hotspot) for hotspot in latest.values()]

    def _announce(self, hotspot: Hotspot) -> None:
        if self.on_new is None or hotspot.detected_at.timestamp() < self.clock() - self.announce_within:
            return
        try:
            self.on_new(hotspot)
        except Exception:  # noqa: BLE001 - a channel that fails must not stop the stream; it is logged
            log.exception("hotspots: notifying %s failed", hotspot.hotspot_id)

    @staticmethod
    def _out(hotspot: Hotspot) -> Output:
        value, headers = encode(hotspot)
        return Output("hotspots", hotspot.hotspot_id.encode("utf-8"), value, headers)
