"""HotIssue: the leads about one concrete problem (the same named estate, company, school, road,
project, village or community and the same complaint), above the cases that group re-posts. The clusterer is
enrichers/hot_issues.py; the streams maintain it as leads arrive (streams/hot_issue_stage.py), and the
record goes to the compacted `hot_issues` topic and the `hot_issues` index."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from schemas.leads import Internal
from schemas.timezones import AwareDatetime

LEAD_IDS_CAP = 500  # a record names its first leads and cases; `leads` counts them all
CASE_IDS_CAP = 500
# The two lists of hot issues: hottest first (heat counts leads, people, likes, span and growth), or
# the raised-again list, the most repeats first (leads - reporters: one person writing again and again).
HotIssueOrder = Literal["heat", "repeats"]
HOT_ISSUE_ORDERS: tuple[HotIssueOrder, ...] = ("heat", "repeats")


def repeats_of(leads: int, reporters: int) -> int:
    """The leads about an issue from someone who had written about it before (leads beyond each
    reporter's first; a lead without an author is its own reporter, so never a repeat). One person
    writing again and again (再次反映) is a problem not yet solved, a signal heat, which counts people,
    ranks low: the raised-again list's order."""
    return max(0, leads - reporters)


def doc_repeats(doc: Mapping[str, Any]) -> int:
    """``repeats_of`` a stored hot issue (a record's JSON)."""
    return repeats_of(int(doc.get("leads") or 0), int(doc.get("reporters") or 0))


def raised_again_key(doc: Mapping[str, Any]) -> tuple[Any, ...]:
    """The raised-again list's order of stored hot issues (a record's JSON): the most repeats first, then
    the hottest, the latest lead newest, the id (the embedded store's SQL sorts the same way)."""
    last = doc.get("last_seen")
    at = dt.datetime.fromisoformat(last).timestamp() if isinstance(last, str) else 0.0
    return (-doc_repeats(doc), -float(doc.get("heat") or 0.0), -at, str(doc.get("issue_id")))


class HotIssue(Internal):
    issue_id: str = Field(..., description="Stable: the id of the hot issue's first lead.")
    title: str = Field("", description="Readable summary: the entity its leads name most, and the problem's heaviest terms.")
    entities: list[str] = Field(default_factory=list, description="Entity names as written, the most named first.")
    entity_keys: list[str] = Field(default_factory=list, description="The join keys it is found under (a lead's `entities` facet).")
    lead_ids: list[str] = Field(default_factory=list, description=f"Its leads (first {LEAD_IDS_CAP}).")
    case_ids: list[str] = Field(default_factory=list, description=f"Its cases (first {CASE_IDS_CAP}).")
    first_seen: AwareDatetime | None = Field(None, description="The earliest lead's time.")
    last_seen: AwareDatetime | None = Field(None, description="The latest lead's time.")
    heat: float = Field(0.0, ge=0, description="hot_issues.heat, as of its latest lead (enrichers/hot_issues_settings.py).")
    leads: int = Field(0, ge=0, description="Leads in it, all of them.")
    reporters: int = Field(0, ge=0, description="Distinct reporters (a lead without an author counts as one).")
    likes: int = Field(0, ge=0, description="Agreement (点赞数) summed over its leads.")

    @property
    def repeats(self) -> int:
        """Leads from someone who had written about it before (``repeats_of``; not in the record: the
        stores and the API work it out from its counts)."""
        return repeats_of(self.leads, self.reporters)
