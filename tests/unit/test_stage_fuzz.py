"""Hypothesis against every decoder and every stage handler: arbitrary and almost-valid records.

Decoders (every model in schemas.serialization.MODELS): DecodeError or a model, never anything else,
and whatever decodes can be encoded again and decodes back (a stage can always write what it read).
Handlers (NormalizeStage, RouteStage, CaseStatusTracker): never raise; normalize and route give
either their outputs or exactly one dead letter (with the record's bytes, key and a reason), the case
status tracker gives nothing. What normalize lets through has no tag and no control character left,
and route never dead-letters a lead that decodes.
"""

import datetime as dt
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enrichers.normalize import PLAIN_TEXT_CHANNELS
from leadhub.settings import RoutingSettings
from schemas.cases import Action, Case, CaseEvent
from schemas.dead_letters import DeadLetter
from schemas.hot_issues import HotIssue
from schemas.hotspots import Hotspot, HotspotWindow
from schemas.leads import CHANNELS, Lead, RawLead
from schemas.serialization import MODELS, DecodeError, decode, encode, schema_tag
from streams.local_runner import LocalRunner
from streams.records import Output, Record
from tests.bad_input import routed_text_problems

FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# One runner's handlers for the whole module: state builds up across examples, as in a stream.
_RUNNER = LocalRunner(RoutingSettings())
NORMALIZE = _RUNNER.consumers["leads.raw"]
ROUTE = _RUNNER.consumers["leads.clean"]
TRACKER = _RUNNER.consumers["cases.events"]

TAGS = [schema_tag(model).encode() for model, _ in MODELS.values()] + [b"RawLead/2", b"Lead", b"", b"\xff"]
header_lists = st.lists(
    st.tuples(st.sampled_from(["schema", "Schema", "trace"]), st.sampled_from(TAGS) | st.binary(max_size=12)), max_size=3
)
keys = st.none() | st.binary(max_size=30)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=15,
)
# Text as hostile sources write it: markup, entities, full-width and invisible forms, controls, emoji.
FRAGMENTS = [
    "<script>", "</script>", "<SCRIPT >", "<p>", "</p>", "<br>", "<div class='x'>", "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>", "<style>", "</style>", "<!--", "-->", "<![CDATA[", "]]>", "<", ">", "/", "!", "=", "\"",
    "'", "&lt;", "&gt;", "&lt;script&gt;", "&#60;", "&#x3c;", "&amp;", "&nbsp;", "＜", "＞", "﹤", "﹥", "\u200b",
    "\u200d", "\ufeff", "\u202e", "\u00ad", "\x00", "\x07", "\x1b", "\x7f", "\x85", "\t", "\r\n", "\r", "\n", " ",
    "\u3000", "script", "img", "a", "b", "alert(1)", "电梯坏了", "稠城街道", "13812345678", "😡", "👨\u200d👩", "🇨🇳",
]  # fmt: skip
hostile_text = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=8), max_size=40).map("".join)
times = st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2100, 1, 1), timezones=st.timezones() | st.none())
time_values = times.map(lambda t: t.isoformat()) | st.integers(min_value=-(10**12), max_value=10**13) | st.text(max_size=25)


def _obj_bytes(obj) -> st.SearchStrategy[bytes]:
    return st.booleans().map(lambda ascii_only: json.dumps(obj, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass"))


raw_objects = st.fixed_dictionaries(
    {
        "source": st.sampled_from(["forum-yiwu", "hotline-12345", "a"]) | st.text(max_size=8),
        "channel": st.sampled_from(CHANNELS) | st.text(max_size=6),
        "external_id": st.text(max_size=12),
    },
    optional={
        "title": hostile_text, "body": hostile_text, "location_text": hostile_text, "lang": st.sampled_from(["zh", "en", "fr", ""]),
        "url": st.sampled_from(["https://x.org/1", "javascript:alert(1)", ""]), "author": hostile_text,
        "published_at": time_values, "fetched_at": time_values,
        "contact": st.fixed_dictionaries({}, optional={"phone": st.text(max_size=14), "name": st.text(max_size=4), "email": st.text(max_size=12)}),
        "attachments": st.lists(st.fixed_dictionaries({"url": st.text(max_size=10)}, optional={"name": st.text(max_size=5)}), max_size=3),
        "extra": st.dictionaries(st.text(max_size=8), json_values, max_size=4),
        "lead_id": st.text(max_size=32), "unknown": json_values,
    },
)  # fmt: skip
lead_objects = st.fixed_dictionaries(
    {
        "lead_id": st.text(min_size=1, max_size=32), "source": st.sampled_from(["forum-yiwu", "hotline-12345"]),
        "channel": st.sampled_from(CHANNELS), "external_id": st.text(max_size=12), "fetched_at": times.map(lambda t: t.isoformat()),
    },
    optional={
        "title": st.text(max_size=200), "text": st.text(max_size=600) | hostile_text, "published_at": times.map(lambda t: t.isoformat()),
        "location_text": st.text(max_size=30), "priority": st.integers(-5, 105), "confidence": st.floats(-1, 2),
        "category": st.fixed_dictionaries({"level1": st.text(max_size=6)}), "case_id": st.text(max_size=32),
        "pii_types": st.lists(st.text(max_size=6), max_size=3), "fingerprint": st.none() | st.text(max_size=64),
        "extra": st.dictionaries(st.text(max_size=8), json_values, max_size=3), "is_primary": st.booleans(),
        "place": st.fixed_dictionaries({}, optional={"town": st.text(max_size=6), "geo": st.fixed_dictionaries({"lat": st.floats(-100, 100), "lon": st.floats(-200, 200)})}),
    },
)  # fmt: skip
event_objects = st.fixed_dictionaries(
    {"case_id": st.sampled_from(["case-1", "case-2"]) | st.text(max_size=70), "action": st.sampled_from([a.value for a in Action]) | st.text(max_size=6),
     "actor": st.text(max_size=10)},
    optional={"department": st.text(max_size=10), "note": st.text(max_size=20), "target_case_id": st.text(max_size=10),
              "lead_ids": st.lists(st.text(max_size=6), max_size=3), "event_id": st.text(max_size=70), "at": time_values, "assignee": st.text(max_size=5)},
)  # fmt: skip


def _mutated(value: bytes, data) -> bytes:
    """The bytes with a few byte-level edits: cut, insert, overwrite."""
    for _ in range(data.draw(st.integers(0, 3))):
        where = data.draw(st.integers(0, len(value)))
        edit = data.draw(st.sampled_from(["cut", "insert", "overwrite", "truncate"]))
        junk = data.draw(st.binary(min_size=1, max_size=4))
        if edit == "cut":
            value = value[:where] + value[where + len(junk) :]
        elif edit == "insert":
            value = value[:where] + junk + value[where:]
        elif edit == "overwrite":
            value = value[:where] + junk + value[where + len(junk) :]
        else:
            value = value[:where]
    return value


# --- decoders --------------------------------------------------------------------------------------

SAMPLES = {
    "RawLead": RawLead(source="forum-yiwu", channel="forum", external_id="1", title="电梯", body="<p>坏了</p>"),
    "Lead": Lead(lead_id="l1", source="forum-yiwu", channel="forum", external_id="1", text="坏了", fetched_at="2024-05-01T10:00:00+08:00"),
    "Case": Case(case_id="c1", title="电梯", report_count=2, channels=["forum"], lead_ids=["l1", "l2"]),
    "CaseEvent": CaseEvent(case_id="c1", action="assign", actor="o", department="住建局"),
    "DeadLetter": DeadLetter(stage="normalize", error_type="DecodeError", error="x", payload=b"\xff\x00", key=b"k"),
    "Hotspot": Hotspot(
        hotspot_id="surge-1", kind="surge", category="城乡建设", place="稠城街道", count=6, baseline=0.5,
        window=HotspotWindow(start="2024-05-01T00:00:00+08:00", end="2024-05-02T00:00:00+08:00", hours=24),
        first_seen="2024-05-01T09:00:00+08:00", last_seen="2024-05-01T20:00:00+08:00", detected_at="2024-05-01T18:00:00+08:00",
    ),
    "HotIssue": HotIssue(
        issue_id="l1", title="丽发新城：搅拌站 噪音", entities=["丽发新城小区"], entity_keys=["丽发新城"], lead_ids=["l1", "l2"],
        case_ids=["l1", "l2"], first_seen="2024-05-01T09:00:00+08:00", last_seen="2024-05-03T20:00:00+08:00", heat=3.2, leads=2,
        reporters=2,
    ),
}
assert set(SAMPLES) == set(MODELS)


def _check_decoder(model, value, headers) -> None:
    try:
        result = decode(value, headers, model)
    except DecodeError as exc:
        assert str(exc)
        return
    assert isinstance(result, model)
    again, again_headers = encode(result)  # what was read can be written
    assert isinstance(decode(again, again_headers, model), model)


@FUZZ
@given(name=st.sampled_from(sorted(MODELS)), data=st.data())
def test_every_decoder_on_mutated_valid_messages(name, data):
    model = MODELS[name][0]
    obj = json.loads(encode(SAMPLES[name])[0])
    edit = data.draw(st.sampled_from(["drop", "replace", "add", "none"]))
    field = data.draw(st.sampled_from(sorted(obj)))
    if edit == "drop":
        obj.pop(field)
    elif edit == "replace":
        obj[field] = data.draw(json_values)
    elif edit == "add":
        obj[data.draw(st.text(max_size=10))] = data.draw(json_values)
    value = _mutated(data.draw(_obj_bytes(obj)), data)
    headers = data.draw(st.just([("schema", schema_tag(model).encode())]) | header_lists)
    _check_decoder(model, value, headers)


@FUZZ
@given(name=st.sampled_from(sorted(MODELS)), value=st.none() | st.binary(max_size=500), headers=header_lists)
def test_every_decoder_on_arbitrary_bytes(name, value, headers):
    _check_decoder(MODELS[name][0], value, headers)


# --- handlers --------------------------------------------------------------------------------------


def _is_dead_letter_for(outputs: list[Output], stage: str, value: bytes | None, key: bytes | None) -> bool:
    if len(outputs) != 1 or outputs[0].topic != "leads.dlq":
        return False
    letter = decode(outputs[0].value, outputs[0].headers, DeadLetter)
    assert letter.stage == stage and letter.error.strip() and letter.error_type
    assert letter.payload == (value if value is not None else b"") and letter.key == key
    assert outputs[0].key == key
    return True


def _normalize(value: bytes | None, key: bytes | None, headers) -> None:
    outputs = NORMALIZE.handle(Record(value, key, headers, "leads.raw", 0, 1))
    if _is_dead_letter_for(outputs, "normalize", value, key):
        return
    (out,) = outputs
    assert out.topic == "leads.clean"
    lead = decode(out.value, out.headers, Lead)
    assert out.key == lead.lead_id.encode()
    assert routed_text_problems(lead.title, lead.text, html=lead.channel not in PLAIN_TEXT_CHANNELS) == []
    assert lead.title or lead.text


@FUZZ
@given(value=st.none() | st.binary(max_size=2000), key=keys, headers=header_lists)
def test_normalize_handles_arbitrary_bytes(value, key, headers):
    _normalize(value, key, headers)


@FUZZ
@given(obj=raw_objects, key=keys, data=st.data())
def test_normalize_handles_almost_valid_raw_leads(obj, key, data):
    value = data.draw(_obj_bytes(obj))
    if data.draw(st.booleans()):
        value = _mutated(value, data)
    headers = data.draw(st.sampled_from([[("schema", b"RawLead/1")], []]) | header_lists)
    _normalize(value, key, headers)


@FUZZ
@given(body=hostile_text, title=hostile_text)
def test_normalize_leaves_no_markup_and_no_control_characters(body, title):
    raw = RawLead(source="forum-yiwu", channel="forum", external_id="1", title=f"{title}t", body=body)
    _normalize(*encode(raw)[:1], b"k", [("schema", b"RawLead/1")])


def _route(value: bytes | None, key: bytes | None, headers) -> None:
    try:
        lead = decode(value, headers, Lead)
    except DecodeError:
        lead = None
    outputs = ROUTE.handle(Record(value, key, headers, "leads.clean", 0, 1))
    if lead is None:
        assert _is_dead_letter_for(outputs, "route", value, key)
        return
    # A lead that decodes is routed, never dead-lettered.
    assert [o.topic for o in outputs[:2]] == ["leads.routed", "cases.state"], outputs[0].value[:300]
    routed = decode(outputs[0].value, outputs[0].headers, Lead)
    assert routed.lead_id == lead.lead_id and routed.case_id
    assert decode(outputs[1].value, outputs[1].headers, Case).case_id == routed.case_id
    for out in outputs[2:]:
        assert out.topic == "cases.events" and isinstance(decode(out.value, out.headers, CaseEvent), CaseEvent)


@FUZZ
@given(value=st.none() | st.binary(max_size=2000), key=keys, headers=header_lists)
def test_route_handles_arbitrary_bytes(value, key, headers):
    _route(value, key, headers)


@FUZZ
@given(obj=lead_objects, key=keys, data=st.data())
def test_route_handles_almost_valid_leads(obj, key, data):
    value = data.draw(_obj_bytes(obj))
    if data.draw(st.booleans()):
        value = _mutated(value, data)
    headers = data.draw(st.sampled_from([[("schema", b"Lead/1")], []]) | header_lists)
    _route(value, key, headers)


def _track(value: bytes | None, key: bytes | None, headers) -> None:
    assert TRACKER.handle(Record(value, key, headers, "cases.events", 0, 1)) == []


@FUZZ
@given(value=st.none() | st.binary(max_size=1000), key=keys, headers=header_lists)
def test_case_status_tracker_handles_arbitrary_bytes(value, key, headers):
    _track(value, key, headers)


@FUZZ
@given(obj=event_objects, key=keys, data=st.data())
def test_case_status_tracker_handles_almost_valid_events(obj, key, data):
    value = data.draw(_obj_bytes(obj))
    if data.draw(st.booleans()):
        value = _mutated(value, data)
    headers = data.draw(st.sampled_from([[("schema", b"CaseEvent/1")], []]) | header_lists)
    _track(value, key, headers)
    try:
        event = decode(value, headers, CaseEvent)
    except DecodeError:
        return
    # A legal event moved the case on; an illegal one was skipped: either way it is now known.
    assert event.case_id in _RUNNER.statuses.cases or event.action not in (Action.accept, Action.reject, Action.note)
