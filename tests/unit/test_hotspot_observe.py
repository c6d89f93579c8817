"""The worker's route agent hands the hotspot stage the leads it routed (HotspotStage.observe) instead of
their records: the same hotspots come out either way."""

from __future__ import annotations

import datetime as dt

from enrichers.hotspots import HotspotConfig
from schemas.leads import Lead
from schemas.serialization import encode
from streams.hotspot_stage import HotspotStage
from streams.records import Record

T0 = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
CONFIG = HotspotConfig(window_hours=24, baseline_windows=7, p_threshold=0.001, min_count=5,
                       case_hours=48, case_min_reports=4, case_min_channels=2)  # fmt: skip


def _leads() -> list[Lead]:
    channels = ["hotline", "forum", "hotline", "news", "forum", "officer"]
    return [
        Lead(lead_id=f"l{k}", source="board", channel=channel, external_id=str(k), title="电梯停运", text="小区电梯停运",
             published_at=T0 + dt.timedelta(hours=k), fetched_at=T0 + dt.timedelta(hours=k), case_id="lift")
        for k, channel in enumerate(channels)
    ]  # fmt: skip


def test_observing_the_routed_leads_gives_the_same_hotspot_records_and_announcements_as_their_records():
    clock = lambda: T0.timestamp() + 3600 * 10  # noqa: E731
    by_records, by_leads = [], []
    from_records = HotspotStage(CONFIG, by_records.append, clock=clock)
    from_leads = HotspotStage(CONFIG, by_leads.append, clock=clock)
    records = [Record(*encode(lead)[:1], b"k", encode(lead)[1], "leads.routed") for lead in _leads()]

    sent = from_records.handle_many(records)
    assert sent, "the growing case is a hotspot"
    assert from_leads.observe(_leads()) == sent
    assert by_leads == by_records and len(by_leads) == 1
