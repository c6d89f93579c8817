"""Reporters' contacts leave leadhub only for those allowed to see them (leadhub.access): admins and
officers of the case's department. Used by the API, the web pages and the ``search`` CLI alike."""

from __future__ import annotations

from typing import Any

from leadhub.access import Permission, Principal, redact_lead
from leadhub.readers.contract import ReadStore


def case_departments(store: ReadStore, case_ids: set[str]) -> dict[str, str | None]:
    """The current department of each case (an officer's assignment may have moved it away from the
    department its leads were routed to); a case not found is absent. Read one by one with ``get``,
    which sees an assignment at once, where a search waits for the index to refresh: right after
    a case moves, its old department must already lose its contacts."""
    found = {case_id: store.get("cases", case_id) for case_id in sorted(case_ids)}
    return {case_id: case.get("department") for case_id, case in found.items() if case is not None}


def visible_leads(store: ReadStore, leads: list[dict[str, Any]], who: Principal) -> list[dict[str, Any]]:
    """Each lead as ``who`` may see it. Looks up cases only when a lead has a contact that ``who``
    might be allowed to see (an analyst's page costs no extra query)."""
    if not who.can(Permission.read_contacts) or not any(lead.get("contact") for lead in leads):
        return [redact_lead(lead, who, None) for lead in leads]
    wanted = {lead["case_id"] for lead in leads if lead.get("contact") and lead.get("case_id")}
    departments = case_departments(store, wanted)

    def department(lead: dict[str, Any]) -> str | None:
        # A lead not (yet) grouped into a case: its own routed department stands in for the case's.
        case_id = lead.get("case_id")
        return departments[case_id] if case_id in departments else lead.get("department")

    return [redact_lead(lead, who, department(lead)) for lead in leads]
