import datetime as dt

import pytest
from pydantic import ValidationError

from schemas.cases import Case, CaseEvent, Status
from schemas.dead_letters import DeadLetter
from schemas.leads import Category, GeoPoint, Lead, Place, RawLead, lead_id_for
from schemas.serialization import decode, encode

SHANGHAI = dt.timezone(dt.timedelta(hours=8))

BODY = (
    "<p>稠城街道某小区3号楼电梯已经停运一周，物业说在等配件。</p>"
    "<p>楼里住着很多老人，爬18楼非常困难😡，希望有关部门尽快督促维修！</p>"
)


def raw(**changes):
    fields = dict(
        source="yiwu-12345",
        channel="hotline",
        external_id="WO-2024-000123",
        title="小区电梯停运一周无人修 🚧",
        body=BODY,
        author="王女士",
        contact={"name": "王女士", "phone": "13812345678"},
        location_text="义乌市稠城街道",
        published_at="2024-05-01 09:30:00",
        attachments=[{"url": "https://example.org/a.jpg", "media_type": "image/jpeg"}],
        extra={"工单类型": "投诉", "urgent": True},
    )
    return RawLead(**(fields | changes))


def roundtrip(record):
    value, headers = encode(record)
    return decode(value, headers, type(record))


def test_lead_id_is_stable_across_versions():
    # These values are fixed forever: changing them would duplicate every lead on re-ingestion.
    assert lead_id_for("yiwu-12345", "WO-2024-000123") == "9c60e312e402bd2e1dab424db8a65a62"
    assert lead_id_for("论坛", "帖子/1") == "21d0d8be98ffbebba62d9b24c25bb72f"
    assert raw().lead_id == "9c60e312e402bd2e1dab424db8a65a62"
    assert raw(external_id="other").lead_id != raw().lead_id
    assert raw().key == "yiwu-12345:WO-2024-000123"


def test_source_and_external_id_cannot_collide_through_concatenation():
    assert lead_id_for("a", "b:c") != lead_id_for("a:b", "c")


def test_rawlead_roundtrip_with_chinese_and_emoji():
    lead = raw()
    assert roundtrip(lead) == lead
    assert roundtrip(lead).title.endswith("🚧")


def test_rawlead_roundtrip_with_a_body_of_several_megabytes():
    lead = raw(body="市民反映：噪音扰民，夜间施工不停。🔊\n" * 200_000)
    assert len(lead.body.encode()) > 5_000_000
    assert roundtrip(lead) == lead


def test_naive_datetimes_are_read_in_the_sources_time_zone():
    assert raw().published_at == dt.datetime(2024, 5, 1, 9, 30, tzinfo=SHANGHAI)
    assert raw().published_at.utcoffset() == dt.timedelta(hours=8)
    other = RawLead.model_validate(
        raw().model_dump() | {"published_at": "2024-05-01T09:30:00"}, context={"timezone": "Europe/Berlin"}
    )
    assert other.published_at.utcoffset() == dt.timedelta(hours=2)


def test_aware_datetimes_keep_their_offset():
    lead = raw(published_at="2024-05-01T01:30:00Z")
    assert lead.published_at == dt.datetime(2024, 5, 1, 9, 30, tzinfo=SHANGHAI)
    assert roundtrip(lead).published_at == lead.published_at
    assert lead.fetched_at.tzinfo is not None


def test_unknown_fields_from_outside_are_rejected():
    with pytest.raises(ValidationError, match="Extra inputs"):
        RawLead(**(raw().model_dump() | {"phone_number": "138"}))
    with pytest.raises(ValidationError):
        CaseEvent(case_id="c", action="accept", actor="a", colour="red")


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"channel": "fax"}, "channel"),
        ({"source": "Has Spaces"}, "source"),
        ({"external_id": ""}, "external_id"),
        ({"url": "javascript:alert(1)"}, "http"),
        ({"title": " ", "body": ""}, "title or a body"),
        ({"published_at": "not a date"}, "published_at"),
    ],
)
def test_invalid_rawleads_say_what_is_wrong(changes, message):
    with pytest.raises(ValidationError, match=message):
        raw(**changes)


def test_written_lead_id_must_match_its_derivation():
    lead = raw()
    data = lead.model_dump(mode="json")
    assert data["lead_id"] == lead.lead_id
    assert RawLead.model_validate(data) == lead
    data["lead_id"] = "0" * 32
    with pytest.raises(ValidationError, match="lead_id does not match"):
        RawLead.model_validate(data)


def test_lead_roundtrip():
    lead = Lead.from_raw(
        raw(),
        text="稠城街道某小区3号楼电梯已经停运一周。联系电话[电话]",
        pii_types=["phone"],
        category=Category(level1="城乡建设", level2="物业管理"),
        department="市住建局",
        confidence=0.83,
        place=Place(town="稠城街道", geo=GeoPoint(lat=29.31, lon=120.07)),
        priority=70,
        priority_reasons=["elderly", "repeated"],
        case_id="c1",
        is_primary=True,
    )
    assert lead.lead_id == raw().lead_id
    assert roundtrip(lead) == lead


def test_case_and_event_roundtrip():
    event = CaseEvent(case_id="c1", action="assign", actor="调度中心", department="市住建局", note="请尽快处理")
    assert roundtrip(event) == event
    case = Case(
        case_id="c1", title="电梯停运", report_count=3, channels=["hotline", "forum"], sources=["a", "b"],
        first_seen="2024-05-01 09:30:00", status=Status.assigned, lead_ids=["l1", "l2", "l3"],
    )  # fmt: skip
    assert roundtrip(case) == case
    assert case.first_seen.utcoffset() == dt.timedelta(hours=8)


@pytest.mark.parametrize("payload", [b"", b"\xff\xfe\x00garbage", "电梯".encode("gbk"), b"{" * 10_000, bytes(range(256))])
def test_dead_letter_keeps_any_bytes_exactly(payload):
    letter = DeadLetter.of("normalize", ValueError("bad"), payload, key=b"\x80k", topic="leads.raw", partition=2, offset=7)
    back = roundtrip(letter)
    assert back.payload == payload
    assert back.key == b"\x80k"
    assert (back.error_type, back.error, back.offset) == ("ValueError", "bad", 7)
