"""Open311 GeoReport v2 (read side): services from the taxonomy, service requests from cases, the
query's rules (dates, codes), errors, and the XML form of every answer. Pure.

A service code is ``level1.level2`` (or just ``level1`` for a case categorized only at level 1): safe
as a path segment (``services/{code}.json``), stable as long as the taxonomy's names are, and readable
without a lookup table. The older ``level1/level2`` form is still understood in queries.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from typing import Any

from enrichers.taxonomy import Taxonomy
from schemas.cases import Status
from schemas.status_machine import open311_status

SEPARATOR = "."
MAX_SPAN = dt.timedelta(days=90)  # GeoReport v2: at most 90 days between start_date and end_date
MAX_ROWS = 1000  # GeoReport v2: up to 1,000 requests unless a server says otherwise
MAX_CODES = 50  # service_code values in one query (each is one search)
# A "+08:00" a client left unencoded in the query arrives as " 08:00".
_DECODED_PLUS = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")

STATUS_NOTES = {
    Status.new: "Received, waiting to be accepted.",
    Status.accepted: "Accepted, waiting to be assigned.",
    Status.assigned: "Assigned to the responsible department.",
    Status.in_progress: "Being handled.",
    Status.resolved: "Handled; waiting for the reporter's feedback.",
    Status.closed: "Closed after feedback to the reporter.",
    Status.rejected: "Not accepted.",
}


class BadParameter(ValueError):
    """A query parameter an Open311 client got wrong: a 400 with this description."""


def service_code(level1: str, level2: str | None = None) -> str:
    return f"{level1}{SEPARATOR}{level2}" if level2 else level1


def code_index(taxonomy: Taxonomy) -> dict[str, tuple[str, str | None]]:
    """Every code a client may send (new and legacy forms, level 1 alone) -> (level1, level2).

    A lookup rather than a split, so a name holding the separator still parses."""
    index: dict[str, tuple[str, str | None]] = {}
    for sub in taxonomy.subcategories:
        index[sub.level1] = (sub.level1, None)
        index[f"{sub.level1}/{sub.name}"] = (sub.level1, sub.name)
        index[service_code(sub.level1, sub.name)] = (sub.level1, sub.name)
    return index


def parse_service_code(code: str, index: Mapping[str, tuple[str, str | None]] | None = None) -> tuple[str, str | None]:
    """(level1, level2) of a code; one the taxonomy does not know is split at its first separator."""
    if index and code in index:
        return index[code]
    for separator in (SEPARATOR, "/"):
        level1, found, level2 = code.partition(separator)
        if found:
            return level1, level2 or None
    return code, None


def parse_codes(text: str | None, index: Mapping[str, tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """``service_code``: comma-separated codes, any of which may match (OR), without repeats."""
    codes: list[tuple[str, str | None]] = []
    for raw in (text or "").split(","):
        if raw.strip() and (pair := parse_service_code(raw.strip(), index)) not in codes:
            codes.append(pair)
    if len(codes) > MAX_CODES:
        raise BadParameter(f"service_code: at most {MAX_CODES} codes")
    return codes


def services(taxonomy: Taxonomy) -> list[dict[str, Any]]:
    return [
        {
            "service_code": service_code(sub.level1, sub.name),
            "service_name": sub.name,
            "description": f"{sub.level1} / {sub.name} — {sub.department}",
            "metadata": False,
            "type": "realtime",
            "keywords": ",".join(sub.keywords[:10]),
            "group": sub.level1,
        }
        for sub in taxonomy.subcategories
    ]


def service_definition(code: str) -> dict[str, Any]:
    """GET services/{code}: no service asks for attributes (every one has metadata false)."""
    return {"service_code": code, "attributes": []}


# --- query parameters -------------------------------------------------------------------------------

def parse_date(name: str, text: str | None, tz: dt.tzinfo) -> dt.datetime | None:
    """A W3C date-time; an empty parameter counts as absent; a time without offset is local (tz)."""
    if text is None or not text.strip():
        return None
    try:
        value = dt.datetime.fromisoformat(_DECODED_PLUS.sub(r"\1+\2", text.strip()))
    except ValueError:
        raise BadParameter(f"{name}: not a W3C date-time (e.g. 2024-05-01T00:00:00+08:00): {text[:40]!r}") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def date_window(start: dt.datetime | None, end: dt.datetime | None, now: dt.datetime) -> tuple[dt.datetime, dt.datetime | None]:
    """The span a query reads: the last 90 days by default; one bound alone gets the other 90 days
    away (the spec's maximum), so no query reads more than that."""
    if start is None and end is None:
        return now - MAX_SPAN, None
    if start is None:
        assert end is not None
        return end - MAX_SPAN, end
    if end is None:
        return start, start + MAX_SPAN
    if end <= start:
        raise BadParameter("end_date must be after start_date")
    if end - start > MAX_SPAN:
        raise BadParameter(f"start_date to end_date spans {(end - start).days} days; at most {MAX_SPAN.days}")
    return start, end


def parse_statuses(text: str | None) -> set[str]:
    wanted = {s.strip() for s in (text or "").split(",") if s.strip()}
    if wanted - {"open", "closed"}:
        raise BadParameter("status must be open or closed (comma-separated)")
    return wanted


def parse_ids(text: str | None) -> list[str]:
    ids = list(dict.fromkeys(i.strip() for i in (text or "").split(",") if i.strip()))
    if len(ids) > MAX_ROWS:
        raise BadParameter(f"service_request_id: at most {MAX_ROWS} ids")
    return ids


# --- requests ---------------------------------------------------------------------------------------

def _iso(value: Any) -> str | None:
    if value in (None, ""):
        return None
    return dt.datetime.fromisoformat(str(value)).isoformat()


def status_notes(case: dict[str, Any]) -> str:
    """A merged case says where it went (the public follows that request); else the latest note an
    officer wrote (resolution first), or what the status means."""
    if case.get("merged_into"):
        return f"Merged into request {case['merged_into']}; follow that request. 已合并到 {case['merged_into']}。"
    if case.get("resolution"):
        return case["resolution"]
    for entry in reversed(case.get("history") or []):
        if entry.get("note"):
            return entry["note"]
    return STATUS_NOTES[Status(case.get("status", "new"))]


def address(place: Mapping[str, Any]) -> str | None:
    """Most specific first, as the spec's examples (street, then district): address, community, town."""
    parts = [place.get(k) for k in ("address", "community", "town")]
    return ", ".join(dict.fromkeys(p for p in parts if p)) or None


def first_photo(leads: Iterable[Mapping[str, Any]]) -> str | None:
    """The id of the first photo leadhub stores itself among a case's leads (outside links are not
    ours to vouch for)."""
    for lead in leads:
        for attachment in lead.get("attachments") or []:
            if attachment.get("id") and str(attachment.get("media_type") or "image/").startswith("image/"):
                return attachment["id"]
    return None


def media_path(attachment_id: str) -> str:
    return f"/open311/v2/media/{attachment_id}"


def service_request(case: dict[str, Any], *, media_url: str | None = None) -> dict[str, Any]:
    category = case.get("category") or {}
    place = case.get("place") or {}
    geo = place.get("geo") or {}
    history = case.get("history") or []
    updated = history[-1]["at"] if history else case.get("last_seen")
    return {
        "service_request_id": case["case_id"],
        "status": open311_status(Status(case.get("status", "new"))),
        "status_notes": status_notes(case),
        "service_name": category.get("level2") or category.get("level1"),
        "service_code": service_code(category["level1"], category.get("level2")) if category.get("level1") else None,
        "description": case.get("summary") or case.get("title"),
        "agency_responsible": case.get("department"),
        "service_notice": None,
        "requested_datetime": _iso(case.get("first_seen")),
        "updated_datetime": _iso(updated),
        "expected_datetime": _iso(case.get("due_at")),
        "address": address(place),
        "address_id": None,
        "zipcode": None,
        "lat": geo.get("lat"),
        "long": geo.get("lon"),
        "media_url": media_url,
    }


def error_list(code: int, description: str) -> list[dict[str, Any]]:
    return [{"code": code, "description": description}]


# --- XML: the JSON's direct mapping -----------------------------------------------------------------

# Root and item element of each answer, as the spec's examples name them.
XML_SHAPES = {
    "services": ("services", "service"),
    "requests": ("service_requests", "request"),
    "errors": ("errors", "error"),
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(parent: ET.Element, item: Mapping[str, Any]) -> None:
    for key, value in item.items():
        child = ET.SubElement(parent, key)
        if isinstance(value, Mapping):
            _fill(child, value)
        elif isinstance(value, list):
            for entry in value:
                if isinstance(entry, Mapping):
                    _fill(ET.SubElement(child, "attribute"), entry)
        else:
            child.text = _text(value)


def to_xml(shape: str, rows: list[Mapping[str, Any]]) -> bytes:
    """A list answer as XML: one item element per row, one child per field (null is empty)."""
    root_name, item_name = XML_SHAPES[shape]
    root = ET.Element(root_name)
    for row in rows:
        _fill(ET.SubElement(root, item_name), row)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def definition_xml(definition: Mapping[str, Any]) -> bytes:
    root = ET.Element("service_definition")
    _fill(root, definition)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
