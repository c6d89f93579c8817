"""Experience officers' field reports: what they send (FieldReport) and the RawLead it becomes. Pure."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid

from pydantic import Field, field_validator

from schemas.leads import Attachment, RawLead, Strict
from schemas.timezones import AwareDatetime, now

INTAKE_SOURCE = "officer-intake"

_LABELS = {
    "zh": ("体验地点", "体验时间", "办理事项", "遇到的问题"),
    "en": ("Place", "Visited", "What I tried", "What went wrong"),
}


class FieldReport(Strict):
    """One visit by an experience officer (体验官): where, when, what they tried, what went wrong."""

    report_id: str = Field(
        default_factory=lambda: uuid.uuid4().hex, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Your id for this report; sending the same id again never makes a second lead.",
    )  # fmt: skip
    title: str = Field(..., min_length=1, max_length=200)
    place: str = Field(..., min_length=1, max_length=500, description="Office, hall, counter or address visited.")
    visited_at: AwareDatetime = Field(..., description="When the visit was (naive times are local time).")
    tried: str = Field(..., min_length=1, max_length=5000, description="What the officer tried to get done.")
    went_wrong: str = Field(..., min_length=1, max_length=20_000, description="What went wrong.")
    evidence: list[str] = Field(default_factory=list, max_length=20, description="Links to photos, recordings, documents.")
    lang: str | None = Field(None, pattern=r"^(zh|en)$", description="zh or en; detected when missing.")
    activity: str | None = Field(
        None, min_length=1, max_length=64, description="The themed activity (主题体验) of the visit: an id of reports.activities."
    )

    @field_validator("evidence")
    @classmethod
    def _links(cls, links: list[str]) -> list[str]:
        for link in links:
            if not link.startswith(("http://", "https://")) or len(link) > 2048:
                raise ValueError(f"evidence must be http(s) links of at most 2048 characters: {link[:80]!r}")
        return links

    @field_validator("visited_at")
    @classmethod
    def _not_future(cls, value: dt.datetime) -> dt.datetime:
        if value > now() + dt.timedelta(hours=1):
            raise ValueError("visited_at is in the future")
        return value


def report_external_id(officer: str, report_id: str) -> str:
    """The lead's external id (its ``lead_id`` is ``lead_id_for(INTAKE_SOURCE, this)``): per officer,
    so two officers' report ids never collide and one officer's retry is the same lead.

    ``officer:report_id``, with ``%`` and ``:`` in the officer's name percent-encoded, so the first
    ``:`` always ends the name: officer "a:b" with report "c" and officer "a" with report "b:c" are
    two leads (a plain join made both "a:b:c"). For a name without ``%`` or ``:`` (every name
    `leadhub api key create` suggests) this is the plain join that ids stored before were made
    with, so a retry of an earlier report still finds its lead.
    """
    return f"{officer.replace('%', '%25').replace(':', '%3A')}:{report_id}"


def report_digest(report: FieldReport) -> str:
    """A hash of what the report says (everything but its id). A report_id sent again with another
    digest is a different report under a used id, which the API refuses (409): the lead and its
    case would otherwise disagree (the case keeps the first version's title)."""
    # A field added later (activity) counts only when given: an earlier report sent again is the same report.
    content = report.model_dump(mode="json", exclude={"report_id", *({"activity"} if report.activity is None else ())})
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def report_to_raw_lead(report: FieldReport, officer: str, group: str | None = None,
                       received_at: dt.datetime | None = None) -> RawLead:  # fmt: skip
    """The lead an officer's report becomes; ``group`` is the officer's (their key's) group;
    ``received_at`` when it reached leadhub (default now; the demo files one dated in its past)."""
    labels = _LABELS["en" if report.lang == "en" else "zh"]
    body = "\n\n".join(
        f"{label}: {value}"
        for label, value in zip(labels, (report.place, report.visited_at.isoformat(sep=" ", timespec="minutes"), report.tried, report.went_wrong), strict=True)
    )
    return RawLead(
        source=INTAKE_SOURCE,
        channel="officer",
        external_id=report_external_id(officer, report.report_id),
        title=report.title,
        body=body,
        author=officer,
        location_text=report.place,
        published_at=report.visited_at,
        lang=report.lang,
        attachments=[Attachment(url=link) for link in report.evidence],
        **({"fetched_at": received_at} if received_at else {}),
        extra={"tried": report.tried, "went_wrong": report.went_wrong, "report_id": report.report_id,
               "report_digest": report_digest(report),
               **({"reporter_group": group} if group else {}),
               **({"activity": report.activity} if report.activity else {})},  # fmt: skip
    )
