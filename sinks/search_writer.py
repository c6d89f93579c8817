"""The search-engine Sink: batches what is added, and flush() writes it — bulk for leads and case
snapshots, the status machine for case events, dead letters to leads.dlq — retrying while the engine
cannot take writes. Knows nothing of Kafka but the dead-letter producer; sinks/consumer.py feeds it.

Case snapshots are written by the one rule of documents.apply_case_state: the documents are read
(one mget), the snapshots applied in Python, and written back guarded by their sequence number; a
concurrent change (an officer's event, the API) makes an item a 409, and that case is read again.
Hotspots the same way (hotspot_documents.apply_hotspot): no script anywhere, so any Elasticsearch 9 takes
these writes, the local one without painless included.
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

from adapters.search_backend import SearchBackend
from schemas.cases import Case, CaseEvent
from schemas.dead_letters import DeadLetter
from schemas.hot_issues import HotIssue
from schemas.hotspots import Hotspot
from schemas.leads import Lead
from schemas.serialization import encode
from sinks.bulk import Part, call_until_available, send_until_acknowledged
from sinks.case_events import MAX_CONFLICT_RETRIES, apply_case_events
from sinks.contract import Origin, StoppedWhileRetrying
from sinks.documents import apply_case_state, guarded_case_action, lead_actions
from sinks.hot_issue_documents import hot_issue_actions
from sinks.hotspot_documents import apply_hotspot
from sinks.metrics import SinkMetrics

log = logging.getLogger("leadhub.sink")


class LetterOutlet(Protocol):
    """Where dead letters go (adapters.producer.CheckedProducer): send, then flush checks them."""

    def send(self, topic: str, value: bytes, key: bytes | None = None, headers: Any = ()) -> Any: ...

    def flush(self, timeout_s: float = ...) -> Any: ...

    def close(self) -> Any: ...


@dataclass
class _Batch:
    leads: list[tuple[list[Part], Origin]] = field(default_factory=list)
    states: list[tuple[Case, Origin]] = field(default_factory=list)
    events: list[tuple[CaseEvent, Origin]] = field(default_factory=list)
    letters: list[DeadLetter] = field(default_factory=list)
    hotspots: list[tuple[Hotspot, Origin]] = field(default_factory=list)
    hot_issues: list[tuple[list[Part], Origin]] = field(default_factory=list)
    undated: list[int] = field(default_factory=list)  # positions in leads of leads filed by their fetch time

    def __bool__(self) -> bool:
        return bool(self.leads or self.states or self.events or self.letters or self.hotspots or self.hot_issues)


class SearchWriter:
    def __init__(
        self, backend: SearchBackend, leads_index: str, cases_index: str, letters: LetterOutlet, *,
        metrics: SinkMetrics | None = None, stopping: threading.Event | None = None, hotspots_index: str | None = None,
        hot_issues_index: str | None = None,
    ) -> None:  # fmt: skip
        self.backend = backend
        self.leads_index = leads_index
        self.cases_index = cases_index
        # <prefix>-hotspots beside <prefix>-cases unless named
        self.hotspots_index = hotspots_index or cases_index.removesuffix("cases") + "hotspots"
        self.hot_issues_index = hot_issues_index or cases_index.removesuffix("cases") + "hot_issues"
        self.letters = letters
        self.metrics = metrics or SinkMetrics()
        self.stopping = stopping or threading.Event()
        self._batch = _Batch()
        # add_* run in the consumer's thread while flush() may write the previous batch in another.
        self._lock = threading.Lock()

    # the Sink contract
    def add_lead(self, lead: Lead, origin: Origin) -> None:
        # The message's own JSON is sent as is (it was validated into ``lead``).
        actions = lead_actions(lead, self.leads_index, origin.value)
        with self._lock:
            if lead.published_at is None:
                self._batch.undated.append(len(self._batch.leads))
            self._batch.leads.append((actions, origin))

    def add_case_state(self, case: Case, origin: Origin) -> None:
        with self._lock:
            self._batch.states.append((case, origin))

    def add_case_event(self, event: CaseEvent, origin: Origin) -> None:
        with self._lock:
            self._batch.events.append((event, origin))

    def add_dead_letter(self, letter: DeadLetter) -> None:
        with self._lock:
            self._batch.letters.append(letter)

    def add_hotspot(self, hotspot: Hotspot, origin: Origin) -> None:
        with self._lock:
            self._batch.hotspots.append((hotspot, origin))

    def add_hot_issue(self, issue: HotIssue, origin: Origin) -> None:
        actions = hot_issue_actions(issue, self.hot_issues_index)
        with self._lock:
            self._batch.hot_issues.append((actions, origin))

    def flush(self) -> None:
        with self._lock:
            batch, self._batch = self._batch, _Batch()
        if batch:
            self._write(batch)

    def close(self) -> None:
        try:
            self.letters.close()
        finally:
            self.backend.close()

    # writing
    def _write(self, batch: _Batch) -> None:
        """Bulk, case events, dead letters; returns once all are acknowledged."""
        letters = list(batch.letters)
        by_case: dict[str, list[tuple[Case, Origin]]] = {}
        for case, origin in batch.states:
            by_case.setdefault(case.case_id, []).append((case, origin))
        found = self._mget(list(by_case)) if by_case else {}
        if batch.undated:
            self._keep_in_place([batch.leads[i][0] for i in batch.undated])
        lead_parts = [actions for actions, _ in batch.leads]
        case_ids, case_parts = self._case_actions(by_case, found)
        # Hot issues go at the end, so a position past the leads and cases is one of theirs.
        first_hot_issue = len(lead_parts) + len(case_parts)
        refused = send_until_acknowledged(
            self.backend, lead_parts + case_parts + [actions for actions, _ in batch.hot_issues],
            wait=self._backoff, on_retry=self._retrying,
        )  # fmt: skip
        conflicts = []
        refused_records = 0
        for item in refused:
            if item.position >= first_hot_issue:
                if item.status != 409:  # 409: the index holds a newer record of the issue (more leads)
                    letters.append(self._refused_letter(batch.hot_issues[item.position - first_hot_issue][1], item))
                    refused_records += 1
            elif item.position < len(lead_parts):
                letters.append(self._refused_letter(batch.leads[item.position][1], item))
                refused_records += 1
            elif item.status == 409:
                conflicts.append(case_ids[item.position - len(lead_parts)])
            else:
                for _, origin in by_case[case_ids[item.position - len(lead_parts)]]:
                    letters.append(self._refused_letter(origin, item))
                    refused_records += 1
        for case_id, item in self._rewrite_conflicts(conflicts, by_case):
            for _, origin in by_case[case_id]:
                letters.append(self._refused_letter(origin, item))
                refused_records += 1
        if batch.hotspots:
            hotspot_letters = self._write_hotspots(batch.hotspots)
            letters += hotspot_letters
            refused_records += len(hotspot_letters)
        for rejected in apply_case_events(self.backend, self.cases_index, batch.events, self.leads_index):
            assert isinstance(rejected.token, Origin)
            letters.append(rejected.token.letter(rejected.error))
        for letter in letters:
            value, headers = encode(letter)
            self.letters.send("leads.dlq", value, letter.key, headers)
        self.letters.flush()
        self.metrics.documents += len(batch.leads) + len(batch.states) + len(batch.hotspots) + len(batch.hot_issues) - refused_records
        self.metrics.case_events += len(batch.events)
        self.metrics.dead_letters += len(letters)
        self.metrics.batches += 1

    def _keep_in_place(self, parts: list[list[Part]]) -> None:
        """Leads without a published date are filed by when they were fetched, and a source's item that
        changed is fetched again, perhaps in a later month: such a lead is written where the index already
        holds it, or it would be there twice (two totals, and retention clearing one copy)."""
        meta = {action["index"]["_id"]: action["index"] for action, *_ in parts if isinstance(action, dict)}
        held = call_until_available(
            lambda: self.backend.find(self.leads_index, meta, source=False), wait=self._backoff, on_retry=self._retrying
        )
        for doc_id, hit in held.items():
            meta[doc_id]["_index"] = hit["_index"]

    def _case_actions(
        self, by_case: dict[str, list[tuple[Case, Origin]]], found: dict[str, dict[str, Any]]
    ) -> tuple[list[str], list[list[Part]]]:
        """One guarded write per case with every snapshot of the batch applied in order; none for a
        case they leave as it was (a replay)."""
        ids: list[str] = []
        parts: list[list[Part]] = []
        for case_id, snapshots in by_case.items():
            hit = found.get(case_id)
            before: dict[str, Any] | None = hit["_source"] if hit else None
            doc = before
            for case, origin in snapshots:
                doc = apply_case_state(doc, case, origin.offset)
            if doc is None or doc == before:  # (never None: there is a snapshot)
                continue
            ids.append(case_id)
            parts.append(list(guarded_case_action(self.cases_index, case_id, doc, hit)))
        return ids, parts

    def _rewrite_conflicts(self, conflicts: list[str], by_case: dict[str, list[tuple[Case, Origin]]]) -> list[tuple[str, Any]]:
        """Read the cases that changed under the write and apply their snapshots again; what still
        conflicts after MAX_CONFLICT_RETRIES rounds, or is refused, is returned with its item."""
        failed: list[tuple[str, Any]] = []
        for _ in range(MAX_CONFLICT_RETRIES):
            if not conflicts:
                return failed
            subset = {case_id: by_case[case_id] for case_id in conflicts}
            ids, parts = self._case_actions(subset, self._mget(conflicts))
            conflicts = []
            for item in send_until_acknowledged(self.backend, parts, wait=self._backoff, on_retry=self._retrying):
                if item.status == 409:
                    conflicts.append(ids[item.position])
                else:
                    failed.append((ids[item.position], item))
        return failed + [(case_id, _KeptChanging()) for case_id in conflicts]

    def _write_hotspots(self, hotspots: list[tuple[Hotspot, Origin]]) -> list[DeadLetter]:
        """Each hotspot read (one mget), its records applied by apply_hotspot and written back guarded;
        one that changed meanwhile (a person acknowledged it) is read again. The refused' letters."""
        by_id: dict[str, list[tuple[Hotspot, Origin]]] = {}
        for hotspot, origin in hotspots:
            by_id.setdefault(hotspot.hotspot_id, []).append((hotspot, origin))
        pending = list(by_id)
        failed: list[tuple[str, Any]] = []
        for _ in range(MAX_CONFLICT_RETRIES + 1):
            if not pending:
                break
            found = call_until_available(
                functools.partial(self.backend.mget, self.hotspots_index, pending), wait=self._backoff, on_retry=self._retrying
            )
            ids: list[str] = []
            parts: list[list[Part]] = []
            for hotspot_id in pending:
                hit = found.get(hotspot_id)
                before: dict[str, Any] | None = hit["_source"] if hit else None
                doc = before
                for hotspot, _ in by_id[hotspot_id]:
                    doc = apply_hotspot(doc, hotspot)
                if doc is not None and doc != before:  # an older record replayed changes nothing
                    ids.append(hotspot_id)
                    parts.append(list(guarded_case_action(self.hotspots_index, hotspot_id, doc, hit)))
            pending = []
            for item in send_until_acknowledged(self.backend, parts, wait=self._backoff, on_retry=self._retrying):
                if item.status == 409:
                    pending.append(ids[item.position])
                else:
                    failed.append((ids[item.position], item))
        failed += [(hotspot_id, _KeptChanging(error="the hotspot kept changing under the sink")) for hotspot_id in pending]
        return [self._refused_letter(origin, item) for hotspot_id, item in failed for _, origin in by_id[hotspot_id]]

    def _mget(self, case_ids: list[str]) -> dict[str, dict[str, Any]]:
        return call_until_available(lambda: self.backend.mget(self.cases_index, case_ids), wait=self._backoff, on_retry=self._retrying)

    def _refused_letter(self, origin: Origin, item: Any) -> DeadLetter:
        error = RuntimeError(f"the search engine refused the document ({item.status})")
        return origin.letter(error, status=item.status, response=item.error)

    def _backoff(self, seconds: float) -> None:
        if self.stopping.wait(seconds):
            raise StoppedWhileRetrying()

    def _retrying(self, reason: str) -> None:
        self.metrics.retries += 1
        log.warning("search engine not taking writes (%s); consumer paused, retrying", reason)


@dataclass(frozen=True)
class _KeptChanging:
    """The refusal of a case that kept changing under the writer (as the engine's retry_on_conflict ran out)."""

    status: int = 409
    error: Any = "the case kept changing under the sink"

