"""How both sinks write a hot-issue record: the whole record, unless the stored one counts more leads.

The clusterer sends an issue's whole state each time it grows, so the newest record says everything.
At least once, an older record may come again after a newer one: it never shrinks the stored issue.
The engine does it without a script, with the lead count as an external version (``external_gte``:
the same count again is the same record, and is written); the refusal of an older one is a 409, which
the writer counts as done.
"""

from __future__ import annotations

from typing import Any

from schemas.hot_issues import HotIssue
from sinks.bulk import Part


def apply_hot_issue(doc: dict[str, Any] | None, issue: HotIssue) -> dict[str, Any]:
    """The hot-issue document after the record ``issue``; ``doc`` (the stored one, if any) is not changed."""
    if doc is not None and int(doc.get("leads") or 0) > issue.leads:
        return dict(doc)  # an older record of it, replayed
    return issue.model_dump(mode="json")


def hot_issue_actions(issue: HotIssue, index: str) -> list[Part]:
    """One bulk index action, versioned by the lead count (the engine's side of apply_hot_issue)."""
    meta = {"_index": index, "_id": issue.issue_id, "version": issue.leads, "version_type": "external_gte"}
    return [{"index": meta}, issue.model_dump(mode="json")]
