"""open_runtime in embedded mode, without services: the store, publisher and outlet over one file, a
reader that never makes an empty index, and the one scheduler loop sending into the runtime's outlet."""

from __future__ import annotations

import time

import pytest

from ingestors.scheduler import run_in_background, schedule_sources
from ingestors.sources import SourceConfig
from ingestors.state import IngestState
from leadhub.embedded import EmbeddedPipeline
from leadhub.queries import SearchRequest
from leadhub.runtime import open_runtime
from leadhub.settings import build_settings, parse_overrides
from schemas.cases import CaseEvent
from schemas.errors import StartupError
from schemas.leads import RawLead
from schemas.serialization import encode
from tests.ingest_fixtures import HOTLINE_COLUMNS, hotline_csv

POST = "稠城街道绣湖社区幸福小区3号楼的电梯已经停运一周了，物业一直说在等配件，希望督促物业尽快维修电梯。"


def settings_for(tmp_path):
    return build_settings(overrides=parse_overrides(["mode=embedded", f"embedded.path={tmp_path / 'e.sqlite'}"]))


def send(outlet, lead: RawLead) -> None:
    value, headers = encode(lead)
    outlet.send("leads.raw", value, key=lead.key.encode(), headers=headers)


def test_embedded_runtime_ingests_publishes_and_reads_one_file(tmp_path):
    settings = settings_for(tmp_path)
    lead = RawLead(source="forum-yiwu", channel="forum", external_id="1", body=POST)
    runtime = open_runtime(settings)
    assert runtime.mode == "embedded" and runtime.serves_schedule
    outlet = runtime.open_outlet()
    send(outlet, lead)
    outlet.close()  # records reach the stages on flush
    routed = runtime.store.get("leads", lead.lead_id)
    assert routed is not None and routed["case_id"] == lead.lead_id
    runtime.publisher.publish_event(CaseEvent(case_id=routed["case_id"], action="accept", actor="t"))
    assert runtime.store.get("cases", routed["case_id"])["status"] == "accepted"
    runtime.close()

    # A reader's runtime on the same file sees it all, and builds no stages just to read.
    reader = open_runtime(settings, existing=True)
    assert reader.store.get("cases", routed["case_id"])["status"] == "accepted"
    assert "pipeline" not in vars(reader)
    # Sending through a reader's runtime builds the stages over the index it already has open.
    reader.publisher.publish_event(CaseEvent(case_id=routed["case_id"], action="assign", actor="t", department="市住建局"))
    assert reader.store.get("cases", routed["case_id"])["status"] == "assigned"
    reader.close()


def test_a_reader_runtime_never_makes_an_empty_index(tmp_path):
    settings = settings_for(tmp_path)
    with pytest.raises(StartupError, match="no store at .*e.sqlite; run `leadhub demo`"):
        open_runtime(settings, existing=True)
    assert not (tmp_path / "e.sqlite").exists()


def test_a_pipeline_handed_in_is_left_open_for_its_owner(tmp_path):
    pipeline = EmbeddedPipeline(settings_for(tmp_path))
    runtime = open_runtime(settings_for(tmp_path), pipeline)
    assert runtime.store is pipeline.store
    runtime.close()
    assert pipeline.store.search(SearchRequest(kind="leads")).total == 0  # still open
    pipeline.close()


def test_the_scheduler_loop_runs_sources_into_the_runtimes_outlet(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "export-0501.csv").write_bytes(hotline_csv("gbk"))
    source = SourceConfig(name="hotline-12345", kind="hotline_files", channel="hotline", schedule="every 1h",
                          options={"inbox": str(inbox), "columns": HOTLINE_COLUMNS})  # fmt: skip
    runtime = open_runtime(settings_for(tmp_path))
    state = IngestState(tmp_path / "ingest-state.sqlite")
    scheduler = schedule_sources([source], runtime.open_outlet, state)
    stop = run_in_background(scheduler, poll_s=0.05)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not scheduler.clocks["hotline-12345"].history:
            time.sleep(0.05)
    finally:
        stop()
        state.close()
    (report,) = scheduler.clocks["hotline-12345"].history  # due once (every 1h), run once
    assert report.ok and report.new >= 3
    found = runtime.store.search(SearchRequest(kind="leads", q="电梯"))
    assert found.total == 1 and found.hits[0]["channel"] == "hotline"
    assert (inbox / "done" / "export-0501.csv").exists()
    runtime.close()
