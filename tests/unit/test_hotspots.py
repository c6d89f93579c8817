"""The hotspot detector (enrichers/hotspots.py) on hand-built streams of routed leads."""

from __future__ import annotations

import datetime as dt

import pytest

from enrichers.hotspots import HotspotConfig, HotspotDetector, surge_p_value
from schemas.hotspots import HotspotKind
from schemas.leads import Category, Lead, Place

T0 = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
CONFIG = HotspotConfig(window_hours=24, baseline_windows=7, p_threshold=0.001, min_count=5,
                       case_hours=48, case_min_reports=4, case_min_channels=2)  # fmt: skip


def lead(n: int, hours: float, *, category="城乡建设", town="稠城街道", case_id=None, channel="complaint_platform") -> Lead:
    at = T0 + dt.timedelta(hours=hours)
    return Lead(
        lead_id=f"l{n}", source="board", channel=channel, external_id=str(n), title="t", text="x",
        published_at=at, fetched_at=at, category=Category(level1=category) if category else None,
        place=Place(town=town) if town else None, case_id=case_id or f"c{n}",
    )  # fmt: skip


def baseline(detector: HotspotDetector, days: int = 8, per_day: int = 1, start: int = 0) -> int:
    """One lead a day of the pair for ``days`` days (and a little of another pair): an ordinary history."""
    n = start
    for day in range(days):
        for k in range(per_day):
            assert detector.observe(lead(n, day * 24 + 1 + k)) == []
            n += 1
        detector.observe(lead(n, day * 24 + 2, category="交通运输", town="佛堂镇"))
        n += 1
    return n


def test_a_burst_far_above_the_pairs_baseline_is_one_surge_with_its_numbers():
    detector = HotspotDetector(CONFIG)
    n = baseline(detector)
    found = []
    for k in range(8):  # day 8: eight leads in six hours where one a day is usual
        found += detector.observe(lead(n + k, 8 * 24 + 3 + k * 0.75))
    new = [d.hotspot for d in found if d.new]
    assert len(new) == 1
    surge = new[0]
    assert (surge.kind, surge.category, surge.place) == (HotspotKind.surge, "城乡建设", "稠城街道")
    assert surge.count >= CONFIG.min_count
    assert surge.baseline == pytest.approx((7 + 1) / 7, abs=1e-4)  # seven of the pair's leads in the seven windows before, +1
    assert surge.p_value is not None and surge.p_value <= CONFIG.p_threshold
    # later leads of the burst update the same hotspot
    assert {d.hotspot.hotspot_id for d in found} == {surge.hotspot_id}
    assert found[-1].hotspot.count == 8  # the whole burst
    assert set(found[-1].hotspot.case_ids) >= set(surge.case_ids)


@pytest.mark.parametrize("order", [[6, 0, 1, 2, 3, 4, 5], [5, 6, 4, 2, 0, 1, 3], [1, 0, 3, 2, 6, 5, 4]])
def test_a_burst_arriving_out_of_time_order_is_the_same_surge(order):
    # Normalize runs per partition, so the route stage may see a burst's latest lead before its others.
    in_order, shuffled = HotspotDetector(CONFIG), HotspotDetector(CONFIG)
    n = baseline(in_order)
    assert baseline(shuffled) == n
    burst = [lead(n + k, 8 * 24 + 3 + k * 0.5) for k in range(7)]
    expected = [d.hotspot for d in in_order.observe_many(burst) if d.new]
    found = shuffled.observe_many([burst[k] for k in order])
    new = [d.hotspot for d in found if d.new]
    assert len(expected) == 1 and len(new) == 1
    assert new[0].hotspot_id == expected[0].hotspot_id
    assert {d.hotspot.hotspot_id for d in found} == {expected[0].hotspot_id} and found[-1].hotspot.count == 7


def test_a_burst_whose_later_leads_arrive_first_is_one_surge_of_all_its_leads():
    # The later two thirds fire first; the early leads arriving after them are that surge's, not a second one.
    detector = HotspotDetector(CONFIG)
    n = baseline(detector)
    burst = [lead(n + k, 8 * 24 + 3 + k * 0.5) for k in range(12)]
    found = detector.observe_many([burst[k] for k in [*range(4, 12), *range(4)]])
    assert len([d for d in found if d.new]) == 1
    assert len({d.hotspot.hotspot_id for d in found}) == 1 and found[-1].hotspot.count == 12


def test_a_growing_case_whose_reports_arrive_out_of_order_is_found():
    detector = HotspotDetector(CONFIG)
    channels = ["hotline", "hotline", "forum", "hotline"]
    reports = [lead(k, k, case_id="lift", channel=channel, category=None, town=None) for k, channel in enumerate(channels)]
    found = detector.observe_many([reports[3], reports[0], reports[2], reports[1]])
    assert [d.new for d in found] == [True]
    assert found[0].hotspot.count == 4 and found[0].hotspot.channels == ["forum", "hotline"]


def test_leads_at_the_pairs_own_baseline_make_no_surge():
    detector = HotspotDetector(CONFIG)
    n = 0
    found = []
    for day in range(30):  # four a day, every day: busy, but as busy as always
        for k in range(4):
            found += detector.observe(lead(n, day * 24 + k * 5))
            n += 1
    assert [d for d in found if d.hotspot.kind is HotspotKind.surge] == []


def test_a_significant_count_below_min_count_is_not_a_surge():
    detector = HotspotDetector(HotspotConfig(window_hours=24, baseline_windows=7, min_count=5, p_threshold=0.01))
    n = 20
    for day in range(10):  # a pair that is never reported ...
        detector.observe(lead(day, day * 24, category="交通运输", town="佛堂镇"))
    found = []
    for k in range(4):  # ... then four times in a day: p is tiny, but four is under min_count
        found += detector.observe(lead(n + k, 10 * 24 + k))
    assert surge_p_value(4, 1 / 7) < 0.01
    assert found == []
    assert [d.new for d in detector.observe(lead(n + 4, 10 * 24 + 5))] == [True]  # the fifth makes it one


def test_a_replayed_lead_counts_once():
    detector = HotspotDetector(CONFIG)
    n = baseline(detector)
    burst = [lead(n + k, 8 * 24 + 3 + k) for k in range(4)]
    for item in burst + burst:
        assert detector.observe(item) == []  # four distinct leads, each seen twice: under min_count


def test_a_growing_case_needs_enough_reports_from_two_channels():
    detector = HotspotDetector(CONFIG)
    one_channel = [lead(k, k, case_id="lift", channel="hotline", category=None, town=None) for k in range(6)]
    assert detector.observe_many(one_channel) == []
    detector = HotspotDetector(CONFIG)
    channels = ["hotline", "hotline", "forum", "hotline", "news"]
    found = detector.observe_many(
        [lead(k, k, case_id="lift", channel=channel, category=None, town=None) for k, channel in enumerate(channels)]
    )
    assert [d.new for d in found] == [True, False]  # the fourth report opens it, the fifth updates it
    hotspot = found[-1].hotspot
    assert hotspot.kind is HotspotKind.growing_case and hotspot.case_ids == ["lift"]
    assert hotspot.count == 5 and hotspot.channels == ["forum", "hotline", "news"]


def test_reports_spread_wider_than_the_case_window_are_not_a_growing_case():
    detector = HotspotDetector(CONFIG)
    spread = [lead(k, k * 30, case_id="slow", channel=("hotline", "forum")[k % 2], category=None) for k in range(6)]
    assert detector.observe_many(spread) == []


def test_ids_are_stable_and_warm_rebuilds_the_state_without_reporting():
    leads = [lead(k, (k // 2) * 24 + 1) for k in range(16)] + [lead(100 + k, 8 * 24 + 3 + k) for k in range(12)]
    first = HotspotDetector(CONFIG).observe_many(leads)
    again = HotspotDetector(CONFIG).observe_many(leads)
    assert [d.hotspot for d in first] == [d.hotspot for d in again] and any(d.new for d in first)
    # a restart in the middle of the burst: warm on what came before, go on with the rest
    restarted = HotspotDetector(CONFIG)
    assert restarted.warm(leads[:-3]) == len(leads) - 3
    rest = restarted.observe_many(leads[-3:])
    assert [d.new for d in rest] == [False] * 3
    assert rest[-1].hotspot == first[-1].hotspot


def test_the_stage_sends_each_hotspot_once_per_batch_announces_new_ones_and_skips_what_is_not_a_lead():
    from schemas.hotspots import Hotspot
    from schemas.serialization import decode, encode
    from streams.hotspot_stage import HotspotStage
    from streams.records import Record

    announced = []
    stage = HotspotStage(CONFIG, announced.append, clock=lambda: T0.timestamp() + 3600 * 10)
    channels = ["hotline", "forum", "hotline", "news", "forum"]
    records = [Record(b"\xff not json", b"k", [("schema", b"Lead/1")], "leads.routed")]
    for k, channel in enumerate(channels):
        value, headers = encode(lead(k, k, case_id="lift", channel=channel, category=None, town=None))
        records.append(Record(value, b"k", headers, "leads.routed"))
    outputs = stage.handle_many(records)
    assert [out.topic for out in outputs] == ["hotspots"]  # opened at the fourth report, updated by the fifth: one record
    hotspot = decode(outputs[0].value, outputs[0].headers, Hotspot)
    assert hotspot.count == 5 and outputs[0].key == hotspot.hotspot_id.encode()
    assert [h.hotspot_id for h in announced] == [hotspot.hotspot_id]


def test_a_hotspot_of_the_past_is_recorded_but_not_announced():
    from schemas.serialization import encode
    from streams.hotspot_stage import HotspotStage
    from streams.records import Record

    announced = []
    stage = HotspotStage(CONFIG, announced.append, announce_within_hours=48, clock=lambda: T0.timestamp() + 3600 * 24 * 30)
    records = []
    for k, channel in enumerate(["hotline", "forum", "hotline", "news"]):  # a backfill: a month-old growing case
        value, headers = encode(lead(k, k, case_id="lift", channel=channel, category=None, town=None))
        records.append(Record(value, b"k", headers, "leads.routed"))
    assert [out.topic for out in stage.handle_many(records)] == ["hotspots"]
    assert announced == []
