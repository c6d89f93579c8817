"""Retention on the search engine (the rules are schemas/retention.py).

No script runs in the engine (the Elasticsearch build here has no painless, nor the reindex module
that _update_by_query/_delete_by_query live in): the matching documents are read page by page
(search_after on their id field, through the alias, so every time-based index behind it is covered),
and changed by _bulk on the concrete index each hit names. A contact is removed by a partial update
(`contact: null`) guarded by the hit's _seq_no/_primary_term: a lead the sink rewrote meanwhile is
read again and tried once more, never overwritten blindly.

The contact is stored, never indexed (schemas/index_templates.py), so it cannot be queried: every lead
before the cutoff is read with only its contact in _source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from adapters.search_backend import SearchBackend
from schemas.index_templates import alias_name
from schemas.retention import FINISHED, Cutoffs, case_expired, stored_photos

Archive = Callable[[str, dict[str, Any]], None]
PAGE = 500
CONFLICT_TRIES = 3


@dataclass
class ClusterOutcome:
    contacts: int = 0
    cases: int = 0
    leads: int = 0
    photos: list[str] = field(default_factory=list)
    doomed: set[str] = field(default_factory=set)  # ids of the leads lead_years removes (a dry run counts their contacts out)
    errors: list[str] = field(default_factory=list)


def _iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat()


def reported_before(at: dt.datetime) -> dict[str, Any]:
    """Leads reported before ``at``: published before it, or (no publication time) fetched before it."""
    return {"bool": {"minimum_should_match": 1, "should": [
        {"range": {"published_at": {"lt": _iso(at)}}},
        {"bool": {"must_not": [{"exists": {"field": "published_at"}}], "filter": [{"range": {"fetched_at": {"lt": _iso(at)}}}]}},
    ]}}  # fmt: skip


def finished_before(at: dt.datetime) -> dict[str, Any]:
    """Candidates for case_expired: finished and first seen before ``at`` (the rule reads the rest)."""
    return {"bool": {"filter": [{"terms": {"status": list(FINISHED)}}, {"range": {"first_seen": {"lt": _iso(at)}}}]}}


def _pages(backend: SearchBackend, index: str, query: dict[str, Any], key: str, source: list[str] | bool,
           *, versions: bool = False) -> Iterator[list[dict[str, Any]]]:  # fmt: skip
    after: list[Any] | None = None
    while True:
        body: dict[str, Any] = {"query": query, "size": PAGE, "sort": [{key: "asc"}], "_source": source,
                                "track_total_hits": False}  # fmt: skip
        if versions:
            body["seq_no_primary_term"] = True
        if after is not None:
            body["search_after"] = after
        hits = backend.search(index, body)["hits"]["hits"]
        if not hits:
            return
        yield hits
        after = hits[-1]["sort"]


def _bulk_errors(result: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    """(succeeded, failed items) of a _bulk answer; a delete of a document already gone counts as done."""
    done, failed = 0, []
    for item in result.get("items", []):
        ((op, answer),) = item.items()
        if answer.get("status", 500) < 300 or (op == "delete" and answer.get("status") == 404):
            done += 1
        else:
            failed.append(answer)
    return done, failed


def _one_line(answer: dict[str, Any]) -> str:
    error = answer.get("error") or {}
    reason = error.get("reason", error) if isinstance(error, dict) else error
    return f"{answer.get('_index')}/{answer.get('_id')}: {answer.get('status')} {reason}"


def _clear_contacts(backend: SearchBackend, leads: str, before: dt.datetime, apply: bool, out: ClusterOutcome) -> None:
    for hits in _pages(backend, leads, reported_before(before), "lead_id", ["contact"], versions=True):
        holding = [hit for hit in hits if (hit.get("_source") or {}).get("contact") and hit["_id"] not in out.doomed]
        if not apply:
            out.contacts += len(holding)
            continue
        for _ in range(CONFLICT_TRIES):
            if not holding:
                break
            ops: list[dict[str, Any]] = []
            for hit in holding:
                ops += [{"update": {"_index": hit["_index"], "_id": hit["_id"], "if_seq_no": hit["_seq_no"],
                                    "if_primary_term": hit["_primary_term"]}}, {"doc": {"contact": None}}]  # fmt: skip
            done, failed = _bulk_errors(backend.bulk(ops))
            out.contacts += done
            conflicts = {a["_id"] for a in failed if a.get("status") == 409}
            out.errors += [_one_line(a) for a in failed if a.get("status") != 409]
            holding = _reread(backend, [hit for hit in holding if hit["_id"] in conflicts])
        out.errors += [f"{hit['_index']}/{hit['_id']}: still changing after {CONFLICT_TRIES} tries; run again" for hit in holding]


def _reread(backend: SearchBackend, hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conflicted leads as they are now, those that still hold a contact."""
    fresh = []
    for hit in hits:
        found = backend.get(hit["_index"], hit["_id"])
        if found is not None and (found.get("_source") or {}).get("contact"):
            fresh.append(found)
    return fresh


def _delete(backend: SearchBackend, hits: list[dict[str, Any]], out: ClusterOutcome) -> int:
    if not hits:
        return 0
    done, failed = _bulk_errors(backend.bulk([{"delete": {"_index": h["_index"], "_id": h["_id"]}} for h in hits]))
    out.errors += [_one_line(a) for a in failed]
    return done


def _expire(backend: SearchBackend, prefix: str, before: dt.datetime, apply: bool, archive: Archive | None,
            out: ClusterOutcome) -> None:  # fmt: skip
    leads, cases = alias_name(prefix, "leads"), alias_name(prefix, "cases")
    # Whole documents only when they are archived; else what the deletion needs (case, stored photos).
    wanted: list[str] | bool = True if archive is not None else ["case_id", "attachments"]
    # Finished cases untouched since the cutoff, with all their leads. Collected first: deleting while
    # paging would move search_after's ground.
    expired: list[dict[str, Any]] = []
    for hits in _pages(backend, cases, finished_before(before), "case_id", True):
        expired += [hit for hit in hits if case_expired(hit["_source"], before)]
    doomed: dict[str, dict[str, Any]] = {}
    ids = [hit["_id"] for hit in expired]
    for start in range(0, len(ids), PAGE):
        query = {"terms": {"case_id": ids[start : start + PAGE]}}
        for hits in _pages(backend, leads, query, "lead_id", wanted):
            doomed.update((hit["_id"], hit) for hit in hits)
    # Leads before the cutoff that no case keeps: no case, or a case that is gone or goes.
    gone = set(ids)
    for hits in _pages(backend, leads, reported_before(before), "lead_id", wanted):
        named = {hit["_source"].get("case_id") for hit in hits} - {None} - gone
        present = set()
        if named:
            found = backend.search(cases, {"query": {"terms": {"case_id": sorted(named)}}, "size": len(named), "_source": False})
            present = {hit["_id"] for hit in found["hits"]["hits"]}
        for hit in hits:
            if hit["_source"].get("case_id") not in present:
                doomed.setdefault(hit["_id"], hit)
    out.doomed = set(doomed)
    for hit in doomed.values():
        out.photos += stored_photos(hit["_source"])
    if not apply:
        out.cases, out.leads = len(expired), len(doomed)
        return
    if archive is not None:
        for hit in expired:
            archive("case", hit["_source"])
        for hit in doomed.values():
            archive("lead", hit["_source"])
    batch = list(doomed.values())
    for start in range(0, len(batch), PAGE):
        out.leads += _delete(backend, batch[start : start + PAGE], out)
    for start in range(0, len(expired), PAGE):
        out.cases += _delete(backend, expired[start : start + PAGE], out)


def apply_retention(backend: SearchBackend, prefix: str, cutoffs: Cutoffs, *, apply: bool,
                    archive: Archive | None = None) -> ClusterOutcome:  # fmt: skip
    out = ClusterOutcome()
    leads, cases = alias_name(prefix, "leads"), alias_name(prefix, "cases")
    # Deletions first, so the contacts counted are those of the leads that stay.
    if cutoffs.lead is not None:
        _expire(backend, prefix, cutoffs.lead, apply, archive, out)
        if apply:
            backend.refresh(leads)
    if cutoffs.contact is not None:
        _clear_contacts(backend, leads, cutoffs.contact, apply, out)
    if apply:
        backend.refresh(leads)
        backend.refresh(cases)
        if out.contacts or out.leads or out.cases:
            for index in (leads, cases):
                backend.expunge_deletes(index)
    return out
