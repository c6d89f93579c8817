"""Hotspots in embedded mode: leads through the embedded pipeline (the same stages as the worker) make
hotspots in the index, and the detector's state is rebuilt from the index after a restart."""

from __future__ import annotations

import datetime as dt

from leadhub.embedded import EmbeddedPipeline
from leadhub.settings import build_settings, parse_overrides
from schemas.leads import RawLead

T = dt.datetime(2024, 5, 1, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))
ROADS = ["工人北路", "宾王路", "稠州中路", "城中中路", "丹溪北路", "篁园路", "江滨北路"]


def _settings(path):
    overrides = ["mode=embedded", f"embedded.path={path}", "hotspots.p_threshold=0.01", "hotspots.min_count=5",
                 "hotspots.case_min_reports=3", "hotspots.case_hours=24"]  # fmt: skip
    return build_settings(overrides=parse_overrides(overrides))


def street_light(i: int, channel: str = "hotline", start: dt.datetime = T) -> RawLead:
    road = ROADS[i]
    return RawLead(
        source=f"{channel}-x", channel=channel, external_id=f"light-{i}", title=f"{road}路灯不亮",
        body=f"稠城街道{road}第{i + 3}段的路灯已经坏了{i + 2}天，晚上一片漆黑，行人走路很不安全，请尽快派人维修。",
        published_at=start + dt.timedelta(hours=i),
    )  # fmt: skip


def test_leads_through_the_embedded_pipeline_make_a_surge_in_the_index(tmp_path):
    pipeline = EmbeddedPipeline(_settings(tmp_path / "e.sqlite"))
    try:
        pipeline.submit_raw([street_light(i) for i in range(4)])
        assert pipeline.index.hotspot_documents() == []  # four leads: under min_count
        pipeline.submit_raw([street_light(4)])
        (surge,) = pipeline.index.hotspot_documents(kind="surge")
        assert (surge["category"], surge["place"], surge["count"], surge["status"]) == ("城乡建设", "稠城街道", 5, "new")
        assert surge["p_value"] <= 0.01 and surge["case_ids"]
        routed_cases = {row[0] for row in pipeline.index.db.execute("SELECT case_id FROM leads")}
        assert set(surge["case_ids"]) == routed_cases
    finally:
        pipeline.close()


def test_a_case_reported_on_two_channels_grows_into_a_hotspot(tmp_path):
    pipeline = EmbeddedPipeline(_settings(tmp_path / "e.sqlite"))
    same = "稠城街道绣湖社区幸福小区3号楼的电梯已经停运一周了，物业一直说在等配件，老人上下楼非常困难，请督促维修。"

    def report(n: int, channel: str) -> RawLead:
        return RawLead(source=f"{channel}-x", channel=channel, external_id=f"lift-{n}", title="电梯停运", body=same,
                       published_at=T + dt.timedelta(hours=n))  # fmt: skip

    try:
        pipeline.submit_raw([report(0, "hotline"), report(1, "hotline"), report(2, "hotline")])
        assert pipeline.index.hotspot_documents(kind="growing_case") == []  # three reports, one channel
        pipeline.submit_raw([report(3, "forum")])
        (growing,) = pipeline.index.hotspot_documents(kind="growing_case")
        assert growing["count"] == 4 and growing["channels"] == ["forum", "hotline"]
        (case_id,) = {row[0] for row in pipeline.index.db.execute("SELECT case_id FROM leads")}
        assert growing["case_ids"] == [case_id]
    finally:
        pipeline.close()


def test_a_restarted_pipeline_rebuilds_the_detector_from_the_index_and_goes_on_with_the_same_hotspot(tmp_path):
    settings = _settings(tmp_path / "e.sqlite")
    recent = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=8)  # young enough to announce
    first = EmbeddedPipeline(settings)
    first.submit_raw([street_light(i, start=recent) for i in range(5)])
    (before,) = first.index.hotspot_documents(kind="surge")
    first.close()
    announced = []
    again = EmbeddedPipeline(settings)
    try:
        assert again.hotspots is not None
        again.hotspots.on_new = announced.append
        again.submit_raw([street_light(5, start=recent)])
        (after,) = again.index.hotspot_documents(kind="surge")
        assert after["hotspot_id"] == before["hotspot_id"] and after["count"] == before["count"] + 1
        assert announced == []  # the same surge, recent enough to announce: not announced again
    finally:
        again.close()
