"""Hot issues of the stored leads: read a period's leads from either store and cluster them on demand.

The clustering (enrichers/hot_issues.py) runs over the leads as stored, with their cases; nothing is
kept between calls, so the store stays the one source of truth. At most MAX_WINDOW (10,000) leads of a
period are read, the newest; a longer period's older leads are left out and the answer says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from enrichers.hot_issues import HotIssue, HotIssueClusterer, HotLead
from enrichers.hot_issues_settings import HotIssueSettings
from leadhub.queries import MAX_WINDOW, Filters, SearchRequest, Sort
from leadhub.readers.contract import ReadStore
from schemas.hot_issues import repeats_of

PAGE = 1000


@dataclass(frozen=True)
class StoredHotIssues:
    issues: list[dict[str, Any]]
    leads_read: int
    truncated: bool  # the period held more leads than were read


def issue_json(issue: HotIssue, heat: float, zone: ZoneInfo) -> dict[str, Any]:
    """One hot issue as the command prints it and the API returns it."""

    def when(ts: float | None) -> str | None:
        return None if ts is None else dt.datetime.fromtimestamp(ts, zone).isoformat()

    return {
        "issue_id": issue.issue_id,
        "title": issue.title(),
        "entities": [name for name, _ in issue.names.most_common()],
        "lead_ids": issue.lead_ids,
        "case_ids": issue.case_ids,
        "first_seen": when(issue.first_seen),
        "last_seen": when(issue.last_seen),
        "heat": round(heat, 3),
        "leads": len(issue.lead_ids),
        "reporters": len(issue.reporters),
        "likes": issue.likes,
        "repeats": repeats_of(len(issue.lead_ids), len(issue.reporters)),
    }


def likes_of(extra: dict[str, Any]) -> int:
    """Agreement a source records with a lead (点赞数): extra's likes, else 点赞数; 0 when absent or not a number."""
    value = extra.get("likes", extra.get("点赞数", 0))
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def stored_hot_issues(
    store: ReadStore, settings: HotIssueSettings, since: dt.datetime, until: dt.datetime, top: int, zone: ZoneInfo
) -> StoredHotIssues:
    """The top hot issues among the leads reported in [since, until)."""
    hits: list[dict[str, Any]] = []
    total = 0
    for page in range(1, MAX_WINDOW // PAGE + 1):
        request = SearchRequest(
            kind="leads", filters=Filters(since=since, until=until), sort=Sort.newest, page=page, size=PAGE, facets=False, full=True
        )
        found = store.search(request)
        total = found.total
        hits.extend(found.hits)
        if not found.hits or len(hits) >= total:
            break
    leads = [_lead(hit) for hit in reversed(hits)]  # oldest first: as they arrived
    leads.sort(key=lambda lead: (lead.published_at is None, lead.published_at or since, lead.lead_id))
    clusterer = HotIssueClusterer(settings)
    learned = [clusterer.learn(lead.title, lead.text) for lead in leads]  # names first; each text segmented once
    for lead, prepared in zip(leads, learned, strict=True):
        clusterer.add(lead, prepared)
    issues = [issue_json(issue, clusterer.heat(issue), zone) for issue in clusterer.top(top)]
    return StoredHotIssues(issues, len(leads), total > len(leads))


def _lead(hit: dict[str, Any]) -> HotLead:
    published = hit.get("published_at") or hit.get("fetched_at")
    when = dt.datetime.fromisoformat(published) if isinstance(published, str) else published
    return HotLead(
        lead_id=str(hit["lead_id"]), title=hit.get("title") or "", text=hit.get("text") or "", published_at=when,
        case_id=hit.get("case_id"), author=hit.get("author"), likes=likes_of(hit.get("extra") or {}),
    )  # fmt: skip
