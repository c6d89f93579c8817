import json

import pytest
from pydantic import ValidationError

from ingestors.base import FetchContext, Problem
from ingestors.json_api import JsonApiOptions, dig, leads_from_page

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
    assert first.extra == {"lat": 29.301, "long": 120.091, "status": "open", "updated_datetime": "2024-05-02T09:00:00+08:00", "service_code": "006"}
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
