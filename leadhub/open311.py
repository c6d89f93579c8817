"""Open311 GeoReport v2 (read side): services from the taxonomy, service requests from cases. Pure.

A service code is ``level1/level2`` (or just ``level1`` for a case categorized only at level 1):
stable as long as the taxonomy's names are, and readable without a lookup table.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from enrichers.taxonomy import Taxonomy
from schemas.cases import Status
from schemas.status_machine import open311_status

STATUS_NOTES = {
    Status.new: "Received, waiting to be accepted.",
    Status.accepted: "Accepted, waiting to be assigned.",
    Status.assigned: "Assigned to the responsible department.",
    Status.in_progress: "Being handled.",
    Status.resolved: "Handled; waiting for the reporter's feedback.",
    Status.closed: "Closed after feedback to the reporter.",
    Status.rejected: "Not accepted.",
}


def service_code(level1: str, level2: str | None = None) -> str:
    return f"{level1}/{level2}" if level2 else level1


def parse_service_code(code: str) -> tuple[str, str | None]:
    level1, _, level2 = code.partition("/")
    return level1, level2 or None


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


def service_request(case: dict[str, Any], *, base_url: str | None = None) -> dict[str, Any]:
    category = case.get("category") or {}
    place = case.get("place") or {}
    geo = place.get("geo") or {}
    history = case.get("history") or []
    updated = history[-1]["at"] if history else case.get("last_seen")
    address = " ".join(p for p in (place.get("town"), place.get("community"), place.get("address")) if p) or None
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
        "address": address,
        "address_id": None,
        "zipcode": None,
        "lat": geo.get("lat"),
        "long": geo.get("lon"),
        "media_url": f"{base_url.rstrip('/')}/cases/{case['case_id']}" if base_url else None,
    }
