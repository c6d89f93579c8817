"""Open311 GeoReport v2 responses as records (the json_api kind's ``preset: open311``). Pure.

Servers answer in more than one shape: the spec's JSON list, its XML (``<service_requests><request>``),
FixMyStreet's wrapper (``{"service_requests": [...]}``, older versions ``{"requests": [{"request": [...]}]}``
with every value in a one-item list, as XML::Simple writes it), and an error list
(``[{"code", "description"}]``, ``<errors><error>``). Each becomes a list of flat records here.
XML from a server is untrusted: defusedxml parses it (no entities, no external references).
"""

from __future__ import annotations

import math
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

# What a record keeps beyond the mapped lead fields (the spec's names).
EXTRA_FIELDS = ("status", "status_notes", "service_code", "service_notice", "agency_responsible", "updated_datetime",
                "expected_datetime", "address_id", "zipcode", "lat", "long", "media_url")  # fmt: skip
WRAPPERS = ("service_requests", "requests")


class NotOpen311(ValueError):
    """The document is no list of service requests (an error list says the server's words)."""


def looks_like_xml(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<"


def _element(element: Any) -> Any:
    children = list(element)
    if not children:
        text = (element.text or "").strip()
        return text or None
    # A nested list, as FixMyStreet's <agency_responsible><recipient>…: the texts, in order.
    values = [_element(child) for child in children]
    return ", ".join(str(v) for v in values if v is not None) or None


def from_xml(data: bytes) -> list[dict[str, Any]]:
    try:
        root = SafeET.fromstring(data)
    except (SafeET.ParseError, DefusedXmlException) as exc:
        raise NotOpen311(f"not XML: {exc}") from None
    if root.tag == "errors":
        raise NotOpen311("the server answered with errors: " + _described([{c.tag: c.text for c in e} for e in root]))
    items = [root] if root.tag == "request" else list(root.iter("request"))
    if not items and root.tag not in WRAPPERS:
        raise NotOpen311(f"XML <{root.tag}> holds no <request> elements")
    return [{child.tag: _element(child) for child in item} for item in items]


def _described(errors: list[dict[str, Any]]) -> str:
    return "; ".join(f"{e.get('code')}: {e.get('description')}" for e in errors)[:500]


def _unwrap(value: Any) -> Any:
    """XML::Simple's JSON: a value in a one-item list, an empty element as {}."""
    if isinstance(value, list) and len(value) == 1 and not isinstance(value[0], dict):
        return value[0]
    if value == {}:
        return None
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
        inner = [v for v in value[0].values()]  # {"recipient": [...]} and the like
        flat = [x for v in inner for x in (v if isinstance(v, list) else [v]) if x not in (None, {})]
        return ", ".join(map(str, flat)) or None
    return value


def from_json(payload: Any) -> list[dict[str, Any]]:
    records = payload
    if isinstance(payload, dict):
        wrapped = next((payload[k] for k in WRAPPERS if k in payload), None)
        if wrapped is None:
            raise NotOpen311(f"no list of service requests (keys: {', '.join(list(payload)[:8])})")
        records = wrapped
        # FixMyStreet's older form: [{"request": [ ... ]}]
        if isinstance(records, list) and len(records) == 1 and isinstance(records[0], dict) and set(records[0]) == {"request"}:
            records = records[0]["request"]
    if not isinstance(records, list):
        raise NotOpen311("no list of service requests")
    if records and all(isinstance(r, dict) and "description" in r and set(r) <= {"code", "description"} for r in records):
        raise NotOpen311("the server answered with errors: " + _described(records))
    return [{k: _unwrap(v) for k, v in r.items()} if isinstance(r, dict) else r for r in records]


def geo(record: dict[str, Any]) -> dict[str, float] | None:
    """The source's own position (WGS84), if it gave a real one: 0,0 and out-of-range are none."""
    try:
        lat, lon = float(record.get("lat")), float(record.get("long"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)) or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if lat == 0 and lon == 0:
        return None
    return {"lat": lat, "lon": lon}


def media(record: dict[str, Any]) -> list[str]:
    """``media_url`` as links an attachment may hold (http or https)."""
    url = record.get("media_url")
    if isinstance(url, str) and url.strip().lower().startswith(("http://", "https://")):
        return [url.strip()]
    return []
