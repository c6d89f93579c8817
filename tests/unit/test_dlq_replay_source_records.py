"""Replaying a source's dead letter: it holds the source's own record (an export's row, an API's
record), so the record, or its fix, goes through that source's mapping into a RawLead for leads.raw;
a record the mapping still refuses is refused before anything is sent."""

from __future__ import annotations

import json

import pytest

from ingestors.sources import SourceConfig
from leadhub.dlq import build_replay
from schemas.dead_letters import DeadLetter
from schemas.leads import RawLead
from schemas.serialization import decode, encode

HOTLINE = SourceConfig(name="hotline-12345", kind="hotline_files", channel="hotline", options={
    "inbox": "/nonexistent/inbox", "columns": {"external_id": "工单编号", "published_at": "受理时间", "title": "标题", "body": "诉求内容"},
})  # fmt: skip
API = SourceConfig(name="dept-api", kind="json_api", channel="department", options={
    "url": "https://api.example.org/items", "fields": {"external_id": "id", "title": "subject", "body": "content"},
})  # fmt: skip
ROW = {"工单编号": "", "受理时间": "2026-11-26 17:40:02", "标题": "西楼村路灯不亮", "诉求内容": "义亭镇西楼村的路灯坏了半个多月"}


def _letter(source: str, record: dict) -> DeadLetter:
    return DeadLetter.of(f"ingest:{source}", ValueError("row 18: external_id: too short"), json.dumps(record, ensure_ascii=False).encode())


def test_the_original_row_is_judged_by_the_source_mapping_and_refused_before_sending():
    with pytest.raises(ValueError, match="still not a lead for source hotline-12345: external_id"):
        build_replay(_letter("hotline-12345", ROW), sources=[HOTLINE])


def test_a_fixed_row_becomes_the_rawlead_the_source_would_have_made():
    fixed = json.dumps(ROW | {"工单编号": "GD-18"}, ensure_ascii=False).encode()
    replay = build_replay(_letter("hotline-12345", ROW), fixed, sources=[HOTLINE])
    lead = decode(replay.value, replay.headers, RawLead)
    assert (replay.topic, replay.key) == ("leads.raw", b"hotline-12345:GD-18")
    assert (lead.source, lead.channel, lead.external_id, lead.title) == ("hotline-12345", "hotline", "GD-18", "西楼村路灯不亮")
    assert lead.published_at is not None and lead.published_at.utcoffset().total_seconds() == 8 * 3600  # the source's time zone


def test_a_json_api_record_goes_through_its_field_mapping():
    letter = _letter("dept-api", {"id": None, "subject": "s", "content": "c"})
    with pytest.raises(ValueError, match="still not a lead for source dept-api"):
        build_replay(letter, sources=[API])
    replay = build_replay(letter, json.dumps({"id": 7, "subject": "积水", "content": "城中路积水"}, ensure_ascii=False).encode(), sources=[API])
    lead = decode(replay.value, replay.headers, RawLead)
    assert (lead.source, lead.channel, lead.external_id, lead.body) == ("dept-api", "department", "7", "城中路积水")


def test_a_rawlead_given_for_a_source_letter_is_sent_as_it_is():
    fixed, _ = encode(RawLead(source="hotline-12345", channel="hotline", external_id="r1", body="路灯不亮"))
    replay = build_replay(_letter("hotline-12345", ROW), fixed, sources=[HOTLINE])
    assert replay.value == fixed and replay.key == b"hotline-12345:r1"


def test_a_source_that_is_not_configured_asks_for_a_rawlead():
    with pytest.raises(ValueError, match="source hotline-12345 is not in the sources file; give the fixed record as a RawLead"):
        build_replay(_letter("hotline-12345", ROW), json.dumps(ROW).encode(), sources=[])
