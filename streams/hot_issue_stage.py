"""leads.routed -> hot_issues: the hot-issue clusterer (enrichers/hot_issues.py) as a stage.

It runs on the route stage's outputs, in both runtimes (the worker's route agent; the local runner's
leads.clean consumer, ``RouteWithHotIssues``): leads.clean has one partition, so one clusterer sees
every lead, as grouping them needs. Each routed lead leaves with its named entities (``Lead.entities``,
the join keys: a search facet), so the clusterer's one extraction serves both. Each hot issue a batch
changes goes out once, as it stands after the batch, as a HotIssue record keyed by its id; an issue
of fewer than ``min_leads`` leads is not listed, so it is not sent either.

The clusterer's state is in memory and rebuilt at start from the leads of the last ``history_days``
(``warm``): the worker reads them back from leads.routed, embedded mode from its index. What is rebuilt
is not sent again. A rebuilt issue may start from another lead than the stored one did (the history
is cut, or read in another order than the leads arrived), so ``adopt`` takes the stored records: a
rebuilt issue goes on under the id of the stored issue that holds most of its leads, and keeps the
stored leads and cases the history no longer reaches.

The per-lead work that needs no state (the suffix rules' entities, the complaint terms: segmenting the
text, most of the cost) is done ahead, in the normalize stage, which runs per partition: ``HotIssueHints``
puts it on the clean lead in a header (``HINT_HEADER``), and ``process`` takes the route stage's input
records to read it back. The one global stage then only looks names up in its dictionary and places the
lead. A lead without the header (a replay, an older normalize stage) is worked out here, as before; the
placement is the same either way.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from enrichers.entities import Entity
from enrichers.hot_issues import HotIssue as Cluster
from enrichers.hot_issues import HotIssueClusterer, HotLead, Prepared, prepare
from enrichers.hot_issues_settings import HotIssueSettings
from schemas.cases import Case
from schemas.errors import RecordError
from schemas.hot_issues import CASE_IDS_CAP, LEAD_IDS_CAP, HotIssue
from schemas.leads import Lead
from schemas.serialization import decode, encode
from streams.records import Output, Record

log = logging.getLogger("leadhub.streams")

CASE_ENTITIES_CAP = 20  # a case names few places; a cap keeps its snapshot small
HINT_HEADER = "leadhub-hot-issue"  # on leads.clean and leads.routed: the lead's Prepared, as JSON
HINT_MAX_BYTES = 16_000  # a bigger one is left off (the lead plus its headers must stay under Kafka's 1 MB)


def hint_header(prepared: Prepared) -> bytes:
    """A Prepared as header bytes (JSON floats keep their exact value)."""
    return json.dumps(
        {"v": 1, "crc": prepared.text_crc, "top": prepared.top, "found": [[e.name, e.key, e.kind] for e in prepared.found],
         "weights": prepared.weights},
        ensure_ascii=False, separators=(",", ":"),
    ).encode("utf-8")  # fmt: skip


def hint_of(headers: Iterable[tuple[str, Any]] | None) -> Prepared | None:
    """The Prepared in a record's headers; None when absent or unreadable (then the stage works it out)."""
    raw = _hint_bytes(headers)
    return None if raw is None else _parse_hint(raw)


def _hint_bytes(headers: Iterable[tuple[str, Any]] | None) -> Any:
    return next((value for name, value in headers or () if name == HINT_HEADER), None)


def _parse_hint(raw: Any) -> Prepared | None:
    try:
        data = json.loads(raw)
        if data.get("v") != 1:
            return None
        found = tuple(Entity(name=str(n), key=str(k), kind=str(kind)) for n, k, kind in data["found"])
        weights = None if data["weights"] is None else {str(t): float(w) for t, w in data["weights"].items()}
        return Prepared(found, weights, int(data["top"]), int(data["crc"]))
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


class HotIssueHints:
    """The normalize stage's ``annotate``: the clean lead's Prepared in a header. Never fails the lead:
    on an error the header is left off and the hot-issue stage does the work itself."""

    def __init__(self, settings: HotIssueSettings) -> None:
        self.top = settings.terms_per_lead

    def __call__(self, lead: Lead) -> list[tuple[str, bytes]]:
        try:
            header = hint_header(prepare(lead.title, lead.text, self.top))
            return [(HINT_HEADER, header)] if len(header) <= HINT_MAX_BYTES else []
        except Exception:  # noqa: BLE001 - logged; the lead matters more
            log.exception("hot issues: preparing lead %s failed", lead.lead_id)
            return []


def hints_by_lead(records: Iterable[Record]) -> dict[str, tuple[Prepared, bytes]]:
    """The Prepared (and its header bytes) of each leads.clean record that carries one, by lead id (the record's key)."""
    found: dict[str, tuple[Prepared, bytes]] = {}
    for record in records:
        raw = _hint_bytes(record.headers) if record.key is not None else None
        if raw is not None and record.key is not None and (prepared := _parse_hint(raw)) is not None:
            found[record.key.decode("utf-8", "replace")] = (prepared, bytes(raw))
    return found


def likes_of(extra: dict[str, Any]) -> int:
    """Agreement a source records with a lead (点赞数): extra's likes, else 点赞数; 0 when absent or not a number."""
    value = extra.get("likes", extra.get("点赞数", 0))
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def hot_lead(lead: Lead) -> HotLead:
    return HotLead(
        lead_id=lead.lead_id, title=lead.title, text=lead.text, published_at=lead.published_at or lead.fetched_at,
        case_id=lead.case_id, author=lead.author, likes=likes_of(lead.extra),
    )  # fmt: skip


def issue_record(issue: Cluster, heat: float, adopted: Adopted | None = None) -> HotIssue:
    """The record of a cluster; ``adopted``: the stored record it goes on from (its id, and the leads,
    cases, reporters and likes the rebuilt state no longer holds)."""

    def when(ts: float | None) -> dt.datetime | None:
        return None if ts is None else dt.datetime.fromtimestamp(ts, dt.UTC)

    lead_ids, case_ids = issue.lead_ids, issue.case_ids
    first_seen, leads, reporters, likes = when(issue.first_seen), len(issue.lead_ids), len(issue.reporters), issue.likes
    issue_id = issue.issue_id
    if adopted is not None:
        stored = adopted.record
        issue_id = stored.issue_id
        lead_ids = list(dict.fromkeys([*stored.lead_ids, *lead_ids]))
        case_ids = list(dict.fromkeys([*stored.case_ids, *case_ids]))
        # the leads the record counted beyond those it named (capped) are still its leads
        leads = len(lead_ids) + max(0, stored.leads - len(stored.lead_ids))
        # A rebuilt state knows the reporters and likes of its history's leads only; the stored counts knew
        # them all: what came since the rebuild is added to them. A reporter new to the rebuilt state may
        # have written before its history began: counted anew (repeats err low, never high).
        reporters = stored.reporters + len(issue.reporters - adopted.reporters)
        likes = stored.likes + max(0, issue.likes - adopted.likes)
        if stored.first_seen is not None and (first_seen is None or stored.first_seen < first_seen):
            first_seen = stored.first_seen
    return HotIssue(
        issue_id=issue_id, title=issue.title(),
        entities=[name for name, _ in issue.names.most_common()], entity_keys=list(issue.entity_keys),
        lead_ids=lead_ids[:LEAD_IDS_CAP], case_ids=case_ids[:CASE_IDS_CAP], first_seen=first_seen,
        last_seen=when(issue.last_seen), heat=round(heat, 3), leads=leads, reporters=reporters, likes=likes,
    )  # fmt: skip


@dataclass(frozen=True)
class Adopted:
    """The stored record a rebuilt cluster goes on from (HotIssueStage.adopt), and the cluster's reporters
    and likes when it took it: only what comes since is added to the record's counts."""

    record: HotIssue
    reporters: frozenset[str]
    likes: int


class HotIssueStage:
    name = "hot_issues"

    def __init__(self, settings: HotIssueSettings) -> None:
        self.settings = settings
        self.clusterer = HotIssueClusterer(settings)
        self.adopted: dict[str, Adopted] = {}  # cluster id -> the stored record it goes on from (adopt)
        self.case_entities: dict[str, list[str]] = {}  # case id -> the entity keys its leads name

    def warm(self, leads: Iterable[Lead], hints: Mapping[str, Prepared] | None = None) -> int:
        """Rebuild the clusterer from stored leads (any order), each placed in time order as the live
        clusterer placed them (it, too, knew only the names of the leads before). Sends nothing.
        ``hints``: the Prepared of leads that carry the work done ahead, by lead id; looked up only once
        ``leads`` are all read (``routed_hints`` fills it as they are)."""
        found = sorted((hot_lead(lead) for lead in leads), key=_arrival)
        hints = hints if hints is not None else {}
        for lead in found:
            self._case_named(lead.case_id, [e.key for e in self.clusterer.add(lead, hints.get(lead.lead_id)).entities])
        return len(found)

    def _case_named(self, case_id: str | None, keys: list[str]) -> None:
        if case_id and keys:
            known = self.case_entities.setdefault(case_id, [])
            known += [k for k in keys if k not in known and len(known) < CASE_ENTITIES_CAP]

    def adopt(self, stored: Iterable[HotIssue]) -> int:
        """After ``warm``: each rebuilt issue goes on from the stored record holding most of its leads
        (ties: the record with more leads); a stored record is adopted once. Returns how many were."""
        records = {record.issue_id: record for record in stored}
        holder = {lead_id: record.issue_id for record in records.values() for lead_id in record.lead_ids}
        taken: set[str] = set()
        for cluster_id, issue in self.clusterer.issues.items():
            votes: dict[str, int] = {}
            for lead_id in issue.lead_ids:
                if (found := holder.get(lead_id)) is not None and found not in taken:
                    votes[found] = votes.get(found, 0) + 1
            if votes:
                best = max(votes, key=lambda i: (votes[i], records[i].leads, i))
                taken.add(best)
                self.adopted[cluster_id] = Adopted(records[best], frozenset(issue.reporters), issue.likes)
        return len(taken)

    def process(
        self, outputs: Sequence[Output], inputs: Sequence[Record] = (), *, leads: Sequence[Lead] = (), cases: Mapping[str, Case] | None = None
    ) -> list[Output]:
        """The route stage's outputs, its routed leads and case snapshots carrying their entities, then
        the hot issues they changed. A lead the clusterer fails on goes on without entities (the lead
        matters more). The route stage sends a batch's leads before its case snapshots. ``inputs``:
        the route stage's input records, for the work done ahead (``HINT_HEADER``). ``leads`` and
        ``cases``: the models the route stage encoded its leads.routed records from (in their order)
        and its cases.state records from (by id), so as not to decode them again (RouteStage.route_batch);
        a record without its model is decoded."""
        hints = hints_by_lead(inputs) if inputs else {}
        no_hint: tuple[Prepared | None, bytes | None] = (None, None)
        changed: dict[str, None] = {}
        result: list[Output] = []
        models = iter(leads)
        for out in outputs:
            if out.topic == "cases.state":
                result.append(self._case_with_entities(out, cases))
                continue
            if out.topic != "leads.routed":
                result.append(out)
                continue
            lead = next(models, None)
            if lead is None or out.key is None or out.key.decode("utf-8", "replace") != lead.lead_id:
                models = iter(())  # out of step with the records: every later one is decoded
                try:
                    lead = decode(out.value, out.headers, Lead)
                except RecordError:
                    result.append(out)
                    continue
            try:
                prepared, header = hints.get(lead.lead_id, no_hint)
                placed = self.clusterer.add(hot_lead(lead), prepared)
            except Exception:  # noqa: BLE001 - logged; the lead is routed all the same
                log.exception("hot issues: placing lead %s failed", lead.lead_id)
                result.append(out)
                continue
            keys = list(dict.fromkeys(e.key for e in placed.entities))
            self._case_named(lead.case_id, keys)
            if keys != lead.entities:
                value, headers = encode(lead.model_copy(update={"entities": keys}))
                out = Output(out.topic, out.key, value, headers)
            if header is not None:  # kept with the routed lead: a restart's rebuild (warm) reads it back
                out = Output(out.topic, out.key, out.value, [*out.headers, (HINT_HEADER, header)])
            result.append(out)
            if placed.issue_id is not None:
                changed.pop(placed.issue_id, None)
                changed[placed.issue_id] = None
        for issue_id in changed:
            issue = self.clusterer.issues[issue_id]
            if len(issue.lead_ids) >= self.settings.min_leads or issue_id in self.adopted:
                record = issue_record(issue, self.clusterer.heat(issue), self.adopted.get(issue_id))
                value, headers = encode(record)
                result.append(Output("hot_issues", record.issue_id.encode("utf-8"), value, headers))
        return result


    def _case_with_entities(self, out: Output, cases: Mapping[str, Case] | None = None) -> Output:
        case = cases.get(out.key.decode("utf-8", "replace")) if cases and out.key is not None else None
        if case is None:
            try:
                case = decode(out.value, out.headers, Case)
            except RecordError:
                return out
        keys = self.case_entities.get(case.case_id, [])
        if keys == case.entities:
            return out
        value, headers = encode(case.model_copy(update={"entities": list(keys)}))
        return Output(out.topic, out.key, value, headers)


def routed_hints(records: Iterable[tuple[Lead, list[tuple[str, bytes]]]], into: dict[str, Prepared]) -> Iterable[Lead]:
    """The leads of (lead, headers) pairs read back from leads.routed, keeping the Prepared they carry
    ``into`` (by lead id) for ``warm``."""
    for lead, headers in records:
        if (prepared := hint_of(headers)) is not None:
            into[lead.lead_id] = prepared
        yield lead


def _arrival(lead: HotLead) -> tuple[bool, float, str]:
    return (lead.published_at is None, lead.published_at.timestamp() if lead.published_at else 0.0, lead.lead_id)


class RouteWithHotIssues:
    """The route stage followed by the hot-issue stage on its outputs (the local runner's leads.clean
    consumer; the worker's route agent does the same with its batches)."""

    def __init__(self, route: Any, hot_issues: HotIssueStage) -> None:  # route: streams.stages.RouteStage
        self.route = route
        self.hot_issues = hot_issues
        self.name = route.name

    def handle(self, record: Record) -> list[Output]:
        return self.handle_many([record])

    def handle_many(self, records: Sequence[Record]) -> list[Output]:
        outputs, leads, cases = self.route.route_batch(records)
        return self.hot_issues.process(outputs, records, leads=leads, cases=cases)

