"""Embedded mode's writer: the local runner's outputs into the embedded index, topic by topic, with
the search sink's rules (a record it cannot apply becomes a dead letter; the stream goes on).

A Sink (sinks/contract.py) that writes at once: an add is its own SQLite transaction, or, inside a
pipeline batch (EmbeddedIndex.batch), part of the batch's, durable when the batch ends; either way
flush() has nothing left to do (and the local runner has no positions to commit).
"""

from __future__ import annotations

import logging

from schemas.cases import Case, CaseEvent
from schemas.dead_letters import DeadLetter
from schemas.errors import RecordError
from schemas.hot_issues import HotIssue
from schemas.hotspots import Hotspot
from schemas.leads import Lead
from schemas.records import Output
from sinks.contract import Origin, deliver
from sinks.embedded_index import EmbeddedIndex

log = logging.getLogger("leadhub.embedded")


class EmbeddedSink:
    def __init__(self, index: EmbeddedIndex) -> None:
        self.index = index
        self.written = {"leads": 0, "cases": 0, "events": 0, "dead_letters": 0, "hotspots": 0, "hot_issues": 0}

    def handle(self, output: Output) -> None:
        origin = Origin(output.topic, output.value or b"", output.key)
        try:
            deliver(self, output.topic, origin, output.headers)
        except (RecordError, ValueError) as exc:  # a document the index cannot take
            self._dead(origin, exc)

    def _dead(self, origin: Origin, exc: Exception) -> None:
        log.warning("embedded sink: %s to dead letters: %s", origin.topic, exc)
        self.add_dead_letter(origin.letter(exc))

    # the Sink contract
    def add_lead(self, lead: Lead, origin: Origin) -> None:
        self.index.write_lead(lead)
        self.written["leads"] += 1

    def add_case_state(self, case: Case, origin: Origin) -> None:
        self.index.write_case_state(case, origin.offset)
        self.written["cases"] += 1

    def add_case_event(self, event: CaseEvent, origin: Origin) -> None:
        try:
            self.index.apply_event(event)
        except RecordError as exc:  # IllegalTransition, MergeRefused: nothing was written
            self._dead(origin, exc)
            return
        self.written["events"] += 1

    def add_dead_letter(self, letter: DeadLetter) -> None:
        self.index.write_dead_letter(letter)
        self.written["dead_letters"] += 1

    def add_hotspot(self, hotspot: Hotspot, origin: Origin) -> None:
        self.index.write_hotspot(hotspot)
        self.written["hotspots"] += 1

    def add_hot_issue(self, issue: HotIssue, origin: Origin) -> None:
        self.index.write_hot_issue(issue)
        self.written["hot_issues"] += 1

    def flush(self) -> None:
        """Nothing to do: every add is written by its own transaction or its batch's."""
