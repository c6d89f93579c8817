"""Figures of a case's handling kept on the case itself, so that dashboards (Kibana, OpenSearch
Dashboards) and plain filters can count them without reading the nested history: when it was
accepted and resolved, how long resolving took, whether it was on time, how often it was returned
(退单) or reopened, and the reporter's latest verdict. Pure; worked out again after every event
(schemas.status_machine), so both stores carry the same values.

The department performance page (leadhub.performance) reads the history itself, with working-day
rules from settings; these are the plain, setting-free versions of the same facts.
"""

from __future__ import annotations

from typing import Any

from schemas.cases import Action, Case, Status

DONE = frozenset({Status.resolved, Status.closed})
FIELDS = ("accepted_at", "resolved_at", "hours_to_resolve", "resolved_on_time", "returns", "reopens", "last_rating")


def handling_figures(case: Case) -> dict[str, Any]:
    """The figures of ``case`` as its history stands (field name -> value)."""
    accepted = [e.at for e in case.history if e.action is Action.accept]
    resolves = [e.at for e in case.history if e.action is Action.resolve]
    # Only a case that is resolved now has a resolution time: a reopened one is being handled again.
    resolved_at = resolves[-1] if resolves and case.status in DONE else None
    hours = None
    if resolved_at is not None and case.first_seen is not None:
        hours = round(max(0.0, (resolved_at - case.first_seen).total_seconds() / 3600), 2)
    on_time = None if resolved_at is None or case.due_at is None else resolved_at <= case.due_at
    return {
        "accepted_at": accepted[0] if accepted else None,
        "resolved_at": resolved_at,
        "hours_to_resolve": hours,
        "resolved_on_time": on_time,
        "returns": sum(e.action is Action.return_ for e in case.history),
        "reopens": sum(e.action is Action.reopen for e in case.history),
        "last_rating": case.ratings[-1].rating if case.ratings else None,
    }
