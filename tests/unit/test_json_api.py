import json

import pytest
from pydantic import ValidationError

from ingestors.base import FetchContext, Problem
from ingestors.json_api import JsonApiOptions, dig, leads_from_page
from schemas.leads import RawLead

OPEN311 = [
    {"service_request_id": "638344", "status": "open", "service_name": "路灯报修", "service_code": "006",
     "description": "江东街道某路段路灯不亮半个月。", "address": "义乌市江东街道宗泽路", "lat": 29.301, "long": 120.091,
     "requested_datetime": "2024-05-01T10:00:00+08:00", "updated_datetime": "2024-05-02T09:00:00+08:00"},
    {"service_request_id": "638345", "status": "closed", "service_name": "垃圾清运",
     "description": "佛堂镇某村垃圾三天未清运。", "requested_datetime": "2024-05-01 11:30:00"},
    {"status": "open", "description": "no id"},
]  # fmt: skip


def ctx():
    return FetchContext("dept-311", "department", "Asia/Shanghai", {})


def test_open311_preset_maps_georeport_requests():
    options = JsonApiOptions.model_validate({"url": "https://city.example/open311/v2/requests.json", "preset": "open311"})
    items = list(leads_from_page(OPEN311, options, ctx()))
    first, second, bad = items
    assert (first.external_id, first.title, first.location_text) == ("638344", "路灯报修", "义乌市江东街道宗泽路")
    assert first.extra == {"lat": 29.301, "long": 120.091, "status": "open", "updated_datetime": "2024-05-02T09:00:00+08:00", "service_code": "006",
                           "geo": {"lat": 29.301, "lon": 120.091}}  # fmt: skip
    assert second.published_at.isoformat() == "2024-05-01T11:30:00+08:00"
    assert isinstance(bad, Problem) and "external_id" in str(bad) and json.loads(bad.payload)["description"] == "no id"


def test_custom_mapping_with_dotted_paths():
    options = JsonApiOptions.model_validate(
        {"url": "https://h.example/api/orders", "records_path": "data.items",
         "fields": {"external_id": "order.no", "body": "content", "contact_phone": "caller.phone"}}
    )  # fmt: skip
    payload = {"data": {"items": [{"order": {"no": 7}, "content": "噪音扰民", "caller": {"phone": "13812345678"}}]}}
    (lead,) = leads_from_page(payload, options, ctx())
    assert lead.external_id == "7" and lead.contact.phone == "13812345678" and lead.body == "噪音扰民"


def test_mapping_must_name_known_fields():
    with pytest.raises(ValidationError, match="external_id"):
        JsonApiOptions.model_validate({"url": "https://x", "fields": {"body": "b"}})
    with pytest.raises(ValidationError, match="unknown RawLead fields"):
        JsonApiOptions.model_validate({"url": "https://x", "fields": {"external_id": "id", "colour": "c"}})


def test_dig():
    assert dig({"a": [{"b": 1}]}, "a.0.b") == 1
    assert dig({"a": 1}, "a.b") is None
    assert dig([1], "") == [1]


# --- Open311 as a client: documents in the shapes real servers send --------------------------------

# A GeoReport v2 answer as a city's server gives it: a photo link, the fields a department adds, a
# request whose position is 0,0 (no position at all), and one closed later.
REQUESTS = [
    {"service_request_id": "101", "status": "open", "status_notes": None, "service_name": "道路破损", "service_code": "road",
     "description": "宗泽路人行道地砖松动，下雨踩上去溅一身泥。", "agency_responsible": "市综合行政执法局",
     "service_notice": "3个工作日内处理", "requested_datetime": "2024-05-01T10:00:00+08:00",
     "updated_datetime": "2024-05-02T09:00:00+08:00", "expected_datetime": "2024-05-04T10:00:00+08:00",
     "address": "宗泽路18号, 江东街道", "address_id": "A-5521", "zipcode": "322000", "lat": 29.301, "long": 120.091,
     "media_url": "https://city.example/media/101.jpg"},
    {"service_request_id": "102", "status": "closed", "status_notes": "已清运", "service_name": "垃圾清运",
     "service_code": "trash", "description": "佛堂镇某村垃圾三天未清运。", "requested_datetime": "2024-05-01T11:30:00+08:00",
     "updated_datetime": "2024-05-03T08:00:00+08:00", "lat": 0, "long": 0, "media_url": ""},
]  # fmt: skip


def _xml(rows, root="service_requests", item="request") -> bytes:
    import xml.etree.ElementTree as ET

    top = ET.Element(root)
    for row in rows:
        element = ET.SubElement(top, item)
        for key, value in row.items():
            ET.SubElement(element, key).text = None if value is None else str(value)
    return ET.tostring(top, encoding="utf-8", xml_declaration=True)


def preset(**extra):
    return JsonApiOptions.model_validate({"url": "https://city.example/open311/v2/requests.json", "preset": "open311", **extra})


def parse(data: bytes, **extra):
    from ingestors.json_api import JsonApiKind

    return list(JsonApiKind(preset(**extra)).parse_document(data, ctx()))


def test_open311_keeps_every_field_the_photo_and_the_sources_position():
    first, second = parse(json.dumps(REQUESTS).encode())
    assert [a.url for a in first.attachments] == ["https://city.example/media/101.jpg"] and second.attachments == []
    assert first.extra["geo"] == {"lat": 29.301, "lon": 120.091} and "geo" not in second.extra  # 0,0 is no position
    assert {k: first.extra[k] for k in ("zipcode", "address_id", "expected_datetime", "agency_responsible", "service_notice")} == {
        "zipcode": "322000", "address_id": "A-5521", "expected_datetime": "2024-05-04T10:00:00+08:00",
        "agency_responsible": "市综合行政执法局", "service_notice": "3个工作日内处理"}  # fmt: skip
    assert second.extra["status_notes"] == "已清运" and second.extra["status"] == "closed"


def test_open311_xml_reads_as_its_json():
    from_json = parse(json.dumps(REQUESTS).encode())
    from_xml = parse(_xml(REQUESTS))
    assert len(from_xml) == 2 and all(isinstance(lead, RawLead) for lead in from_xml)
    for a, b in zip(from_json, from_xml, strict=True):
        assert (a.external_id, a.title, a.body, a.location_text, a.published_at, a.attachments) == (
            b.external_id, b.title, b.body, b.location_text, b.published_at, b.attachments)  # fmt: skip
        assert a.extra.get("geo") == b.extra.get("geo")


def test_fixmystreets_wrappers_are_known():
    wrapped = parse(json.dumps({"service_requests": REQUESTS}).encode())
    assert [lead.external_id for lead in wrapped] == ["101", "102"]
    # Older FixMyStreet: XML::Simple's JSON, every value in a one-item list, an empty one as {}.
    simple = [{k: [{}] if v in (None, "") else [v] for k, v in row.items()} for row in REQUESTS]
    simple[0]["agency_responsible"] = [{"recipient": ["市综合行政执法局", "江东街道"]}]
    old = parse(json.dumps({"requests": [{"request": simple}]}).encode())
    assert [lead.external_id for lead in old] == ["101", "102"] and old[0].extra["agency_responsible"] == "市综合行政执法局, 江东街道"
    assert [a.url for a in old[0].attachments] == ["https://city.example/media/101.jpg"]
    assert parse(_xml(REQUESTS, root="requests"))[0].external_id == "101"


@pytest.mark.parametrize("body", [
    json.dumps([{"code": 403, "description": "Invalid api_key"}]).encode(),
    b"<?xml version='1.0'?><errors><error><code>403</code><description>Invalid api_key</description></error></errors>",
], ids=["json", "xml"])  # fmt: skip
def test_an_open311_error_body_says_the_servers_words(body):
    from ingestors.base import SourceUnavailable

    with pytest.raises(SourceUnavailable, match="403: Invalid api_key"):
        parse(body)


def test_xml_entities_are_refused():
    from ingestors.base import SourceUnavailable

    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><service_requests><request><service_request_id>&b;</service_request_id></request></service_requests>'
    with pytest.raises(SourceUnavailable, match="not XML"):
        parse(bomb)


def test_preview_keeps_the_preset_without_a_url(tmp_path, capsys):
    from leadhub.cli import main

    saved = tmp_path / "requests.xml"
    saved.write_bytes(_xml(REQUESTS))
    assert main(["ingest", "preview", "--kind", "json_api", "--file", str(saved), "--options", '{"preset": "open311"}']) == 0
    leads = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [lead["external_id"] for lead in leads] == ["101", "102"] and leads[0]["extra"]["zipcode"] == "322000"


# --- Open311 polling, against a server on 127.0.0.1 that filters as the spec says -------------------

class Server:
    """Requests by requested_datetime (start_date, end_date: inclusive start, exclusive end), newest
    first, at most ``cap`` rows; ``updated_after`` where the test says the server has it."""

    def __init__(self, rows, cap=1000, updated_after=False):
        self.rows, self.cap, self.updated_after, self.asked = rows, cap, updated_after, []

    def handler(self):
        import datetime as dt
        from http.server import BaseHTTPRequestHandler
        from urllib.parse import parse_qs, urlsplit

        server = self

        def at(text):
            return dt.datetime.fromisoformat(text)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                server.asked.append(query)
                rows = server.rows
                if "start_date" in query:
                    rows = [r for r in rows if at(r["requested_datetime"]) >= at(query["start_date"])]
                if "end_date" in query:
                    rows = [r for r in rows if at(r["requested_datetime"]) < at(query["end_date"])]
                if server.updated_after and "updated_after" in query:
                    rows = [r for r in rows if at(r["updated_datetime"]) > at(query["updated_after"])]
                rows = sorted(rows, key=lambda r: at(r["requested_datetime"]), reverse=True)[: server.cap]
                body = _xml(rows)
                self.send_response(200)
                self.send_header("content-type", "text/xml; charset=utf-8")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


def rows(n, start="2024-05-01T00:00:00+08:00"):
    import datetime as dt

    first = dt.datetime.fromisoformat(start)
    return [{"service_request_id": f"r{i}", "status": "open", "service_name": "路灯", "description": f"第{i}盏路灯不亮",
             "requested_datetime": (first + dt.timedelta(hours=i)).isoformat(),
             "updated_datetime": (first + dt.timedelta(hours=i)).isoformat()} for i in range(n)]  # fmt: skip


def poll(server, state, **polling):
    from ingestors.json_api import JsonApiKind
    from tests.local_http import serve

    with serve(server.handler()) as base:
        kind = JsonApiKind(JsonApiOptions.model_validate({"url": f"{base}/requests.xml", "preset": "open311",
                                                           "allow_private_network": True, "open311": polling}))  # fmt: skip
        context = FetchContext("dept-311", "department", "Asia/Shanghai", state)
        leads = [item for item in kind.fetch(context) if isinstance(item, RawLead)]
    return leads, context


def test_a_full_page_pages_back_with_end_date():
    server = Server(rows(7), cap=3)
    leads, context = poll(server, {}, row_cap=3)
    assert sorted(lead.external_id for lead in leads) == [f"r{i}" for i in range(7)]
    assert [q.get("end_date") for q in server.asked] == [None, "2024-05-01T04:00:00+08:00", "2024-05-01T01:00:00+08:00"]
    assert context.state["since"] == "2024-05-01T06:00:00+08:00"


def test_without_updated_after_a_trailing_window_reads_a_request_closed_later():
    data = rows(3)
    server = Server(data)
    poll(server, state := {}, repoll_days=2)
    data[0] = {**data[0], "status": "closed", "updated_datetime": "2024-05-03T00:00:00+08:00"}
    leads, _ = poll(server, state, repoll_days=2)
    assert server.asked[-1]["start_date"] == "2024-04-29T02:00:00+08:00"  # two days before the newest request seen
    assert {lead.external_id: lead.extra["status"] for lead in leads}["r0"] == "closed"


def test_with_updated_after_the_cursor_follows_updated_datetime():
    data = rows(3)
    server = Server(data, updated_after=True)
    poll(server, state := {}, updated_after_param="updated_after")
    assert state["updated"] == "2024-05-01T02:00:00+08:00"
    data[0] = {**data[0], "status": "closed", "updated_datetime": "2024-05-03T00:00:00+08:00"}
    leads, _ = poll(server, state, updated_after_param="updated_after")
    assert server.asked[-1] == {"updated_after": "2024-05-01T02:00:00+08:00"}
    assert [(lead.external_id, lead.extra["status"]) for lead in leads] == [("r0", "closed")]
    assert state["updated"] == "2024-05-03T00:00:00+08:00"


def test_an_api_key_goes_in_the_query():
    server = Server(rows(1))
    poll(server, {}, api_key="k-123")
    assert server.asked[0]["api_key"] == "k-123"


@pytest.mark.parametrize("geo,expected", [
    ({"lat": 29.301, "lon": 120.091}, (29.301, 120.091)),  # the source's own position wins over the town's
    (None, "gazetteer"),
    ({"lat": 0, "lon": 0}, "gazetteer"),  # 0,0 is no position
    ({"lat": 123, "lon": 0}, "gazetteer"),
], ids=["given", "none", "zero", "out of range"])  # fmt: skip
def test_route_places_a_lead_at_the_position_its_source_gave(geo, expected):
    from enrichers.categorize import CategoryResult
    from enrichers.places import load_gazetteer
    from enrichers.route import reroute
    from schemas.leads import Lead

    (raw,) = parse(json.dumps(REQUESTS[:1]).encode())
    extra = {k: v for k, v in raw.extra.items() if k != "geo"} | ({"geo": geo} if geo else {})
    lead = Lead.from_raw(raw.model_copy(update={"extra": extra}))
    routed = reroute(lead, CategoryResult(None, None, None, 0.0, True), load_gazetteer())
    assert routed.place.town == "江东街道"
    point = (routed.place.geo.lat, routed.place.geo.lon)
    assert point == expected if expected != "gazetteer" else point != (29.301, 120.091)
