"""Embedded mode without services: the stages into the SQLite index, state across restarts, the text
query language, and `leadhub demo` on the bundled samples."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import time

import httpx
import pytest

from leadhub import embedded
from leadhub.cli import main
from leadhub.embedded import EmbeddedPipeline, EmbeddedPublisher
from leadhub.queries import Interval, SearchRequest
from leadhub.readers.embedded import TextQuery, count_series, parse_text
from leadhub.settings import build_settings, parse_overrides
from schemas.cases import CaseEvent
from schemas.leads import RawLead
from schemas.status_machine import IllegalTransition

POST = (
    "稠城街道绣湖社区幸福小区3号楼的电梯已经停运一周了，物业一直说在等配件。楼里住着很多老人，"
    "上下楼非常困难，希望有关部门督促物业尽快维修电梯。联系电话13812345678。"
)


def settings_for(tmp_path):
    return build_settings(overrides=parse_overrides(["mode=embedded", f"embedded.path={tmp_path / 'e.sqlite'}"]))


def raw(external_id, body, channel="forum", source="forum-yiwu", **kw):
    return RawLead(source=source, channel=channel, external_id=external_id, body=body, **kw)


def test_leads_are_routed_into_the_index_and_state_survives_a_restart(tmp_path):
    settings = settings_for(tmp_path)
    first = EmbeddedPipeline(settings)
    first.submit_raw([raw("1", POST, title="电梯停运一周", contact={"phone": "13900001111"})])
    lead = first.store.get("leads", raw("1", POST).lead_id)
    assert lead["case_id"] == lead["lead_id"] and "13812345678" not in lead["text"]
    EmbeddedPublisher(first).publish_event(CaseEvent(case_id=lead["case_id"], action="accept", actor="t"))
    first.close()

    # A new process on the same file: a hotline transcript of the same problem joins the case.
    second = EmbeddedPipeline(settings)
    second.submit_raw([raw("WO-7", "市民来电反映：" + POST[:60], channel="hotline", source="hotline-12345")])
    case = second.store.get("cases", lead["case_id"])
    assert case["report_count"] == 2 and case["channels"] == ["forum", "hotline"]
    assert case["status"] == "accepted"  # the event applied before the restart is kept
    page = second.store.search(SearchRequest(kind="leads", q="电梯"))
    assert page.total == 2 and {h["channel"] for h in page.hits} == {"forum", "hotline"}
    second.close()


def test_illegal_events_are_refused_and_bad_records_are_dead_letters(tmp_path):
    pipeline = EmbeddedPipeline(settings_for(tmp_path))
    pipeline.submit_raw([raw("1", POST)])
    case_id = raw("1", POST).lead_id
    with pytest.raises(IllegalTransition):
        pipeline.index.apply_event(CaseEvent(case_id=case_id, action="resolve", actor="t", note="x"))
    from streams.records import Record

    pipeline.submit([Record(b"\x00\xff", b"k", [("schema", b"RawLead/1")], "leads.raw")])
    (letter,) = pipeline.index.dead_letters()
    assert letter.stage == "normalize" and letter.payload == b"\x00\xff"
    assert pipeline.store.get("cases", case_id)["status"] == "new"
    pipeline.close()


def test_a_large_submit_commits_a_batch_of_records_at_a_time(tmp_path, monkeypatch):
    # An ingest run's flush submits everything it fetched: one transaction of it all would hold the
    # file's write lock for the whole run.
    monkeypatch.setattr(embedded, "BATCH_RECORDS", 2)
    pipeline = EmbeddedPipeline(settings_for(tmp_path))
    statements: list[str] = []
    pipeline.index.db.set_trace_callback(statements.append)
    pipeline.submit_raw([raw(str(i), f"{i}号" + POST) for i in range(5)])
    pipeline.index.db.set_trace_callback(None)
    assert statements.count("COMMIT") == 3
    assert pipeline.store.search(SearchRequest(kind="leads")).total == 5
    pipeline.close()


def test_text_queries_have_no_syntax_but_words_phrases_and_exclusions():
    assert parse_text('电梯 "停运 一周" -物业') == TextQuery(("电梯", "停运 一周"), ("物业",))
    parsed = parse_text('a "b c" -d -"e f" - AND (x) {"q":1}')
    assert parsed.must == ("a", "b c", "AND", "(x)", "q", ":1}") and parsed.must_not == ("d", "e f")


def test_count_series_buckets_by_week_starting_monday_in_city_time():
    wednesday = dt.datetime(2024, 5, 1, 23, 30, tzinfo=dt.UTC)  # Thursday 07:30 in Yiwu
    series = count_series([(wednesday.timestamp(), "A"), ((wednesday + dt.timedelta(days=14)).timestamp(), None)], Interval.week)
    assert series.buckets == ["2024-04-29", "2024-05-06", "2024-05-13"]
    assert series.series == {"A": [1, 0, 0], "未分类": [0, 0, 1]}


def test_demo_processes_the_samples_and_reports_counts(tmp_path, capsys):
    assert main(["demo", "--no-serve", "--dir", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    leads, cases, multi = map(int, re.search(r"(\d+) leads -> (\d+) cases \((\d+) reported more than once\)", out).groups())
    assert leads == 58 and cases == 46 and multi == 6  # the samples and the demo officer's own report
    assert "1 dead letter(s)" in out and "城乡建设" in out
    assert re.search(r"^statuses: new 17, accepted 8, .*; \d+ overdue", out, re.M)  # handled, not all new


def test_demo_serves_the_api_and_pages(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "leadhub", "demo", "--dir", str(tmp_path / "demo"), "--port", "18765"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        output = ""
        deadline = time.monotonic() + 120
        while "admin" not in output and time.monotonic() < deadline:
            output += process.stdout.readline()
        key = re.search(r"admin\s+(lh_\S+)", output).group(1)
        for _ in range(100):
            try:
                health = httpx.get("http://127.0.0.1:18765/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health.json()["store"].startswith("embedded")
        cases = httpx.get("http://127.0.0.1:18765/api/v1/cases", params={"q": "自来水"}, headers={"Authorization": f"Bearer {key}"})
        assert cases.status_code == 200 and cases.json()["hits"][0]["report_count"] == 4
        with httpx.Client(base_url="http://127.0.0.1:18765") as browser:
            login = browser.post("/login", data={"key": key, "next": "/search"}, follow_redirects=True)
            assert login.status_code == 200 and "塘西村" in login.text  # the session cookie opened the search page
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_a_batch_that_fails_halfway_leaves_nothing_in_the_file_or_the_stages_memory(tmp_path, monkeypatch):
    pipeline = EmbeddedPipeline(settings_for(tmp_path))
    pipeline.submit_raw([raw("1", POST)])
    failing = raw("2", "佛堂镇老街的排水沟堵了半个月，下雨天整条街积水，商户进出都很困难，希望尽快疏通。")
    detector = pipeline.hotspots
    assert detector is not None
    observe = detector.handle

    def disk_full_after_counting(record):  # the detector has counted the lead, then the write fails
        observe(record)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(detector, "handle", disk_full_after_counting)
    with pytest.raises(OSError):
        pipeline.submit_raw([failing])
    assert pipeline.store.get("leads", failing.lead_id) is None
    # The stages' memory was rebuilt from the file: the detector has not seen the lead, so it counts it
    # when it comes again (it would skip it as a lead delivered twice).
    assert pipeline.hotspots is not detector and failing.lead_id not in pipeline.hotspots.detector.seen
    pipeline.submit_raw([failing])  # sent again: the ingest run did not mark it seen
    lead = pipeline.store.get("leads", failing.lead_id)
    assert lead is not None and pipeline.store.get("cases", lead["case_id"]) is not None
    assert failing.lead_id in pipeline.hotspots.detector.seen
    assert pipeline.store.search(SearchRequest(kind="leads")).total == 2
    pipeline.close()
