"""What retention removes, as pure rules both stores share (leadhub/retention, sinks/embedded_retention.py).

- A lead's reporter contact goes once the lead was reported (published, else fetched) before the
  contact cutoff.
- A case goes once it is finished (closed or rejected) and nothing happened to it since the lead
  cutoff: no report (last_seen), no handling (history, feedback, ratings). Its leads go with it.
- A lead reported before the lead cutoff goes if no case keeps it (it has no case, or its case is gone
  or goes); leads of a case that is still open, or was touched since, stay with their case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FINISHED = ("closed", "rejected")
YEAR = dt.timedelta(days=365.25)


@dataclass(frozen=True)
class Cutoffs:
    """Before these instants data goes; None: that kind is kept."""

    contact: dt.datetime | None
    lead: dt.datetime | None

    @classmethod
    def at(cls, now: dt.datetime, contact_days: int | None, lead_years: float | None) -> Cutoffs:
        return cls(
            contact=now - dt.timedelta(days=contact_days) if contact_days else None,
            lead=now - lead_years * YEAR if lead_years else None,
        )


def _instant(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and value:
        try:
            found = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return found if found.tzinfo else found.replace(tzinfo=dt.UTC)
    return None


def reported_at(lead: Mapping[str, Any]) -> dt.datetime | None:
    """When the lead was reported: published, else fetched (the embedded index's `reported`)."""
    return _instant(lead.get("published_at")) or _instant(lead.get("fetched_at"))


def last_activity(case: Mapping[str, Any]) -> dt.datetime | None:
    """The latest thing that happened to a case: a report, an event, a feedback, a rating."""
    found: list[dt.datetime] = []
    for key in ("first_seen", "last_seen", "resolved_at", "accepted_at"):
        if (at := _instant(case.get(key))) is not None:
            found.append(at)
    for key in ("history", "feedback", "ratings"):
        for entry in case.get(key) or ():
            if isinstance(entry, Mapping) and (at := _instant(entry.get("at"))) is not None:
                found.append(at)
    return max(found) if found else None


def case_expired(case: Mapping[str, Any], cutoff: dt.datetime) -> bool:
    if case.get("status") not in FINISHED:
        return False
    latest = last_activity(case)
    return latest is not None and latest < cutoff


def stored_photos(lead: Mapping[str, Any]) -> list[str]:
    """Ids of the photos leadhub stores for a lead (attachments store), not outside links."""
    return [a["id"] for a in lead.get("attachments") or () if isinstance(a, Mapping) and a.get("id")]


def without_contact(doc: Mapping[str, Any]) -> dict[str, Any]:
    """An archived document: everything but the reporter's contact (archives outlive contact_days)."""
    return {key: value for key, value in doc.items() if key != "contact"}


def archive_line(kind: str, doc: Mapping[str, Any]) -> dict[str, Any]:
    return {"kind": kind, "doc": without_contact(doc)}

