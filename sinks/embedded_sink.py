"""Embedded mode's writer: the local runner's outputs into the embedded index, topic by topic, with
the search sink's rules (a record it cannot apply becomes a dead letter; the stream goes on)."""

from __future__ import annotations

import logging

from schemas.cases import Case, CaseEvent
from schemas.dead_letters import DeadLetter
from schemas.errors import RecordError
from schemas.leads import Lead
from schemas.records import Output
from schemas.serialization import decode
from sinks.embedded_index import EmbeddedIndex

log = logging.getLogger("leadhub.embedded")


class EmbeddedSink:
    def __init__(self, index: EmbeddedIndex) -> None:
        self.index = index
        self.written = {"leads": 0, "cases": 0, "events": 0, "dead_letters": 0}

    def handle(self, output: Output) -> None:
        try:
            if output.topic == "leads.routed":
                self.index.write_lead(decode(output.value, output.headers, Lead))
                self.written["leads"] += 1
            elif output.topic == "cases.state":
                self.index.write_case_state(decode(output.value, output.headers, Case))
                self.written["cases"] += 1
            elif output.topic == "cases.events":
                self.index.apply_event(decode(output.value, output.headers, CaseEvent))
                self.written["events"] += 1
            elif output.topic == "leads.dlq":
                self.index.write_dead_letter(decode(output.value, output.headers, DeadLetter))
                self.written["dead_letters"] += 1
        except (RecordError, ValueError) as exc:  # undecodable, invalid, or an illegal transition
            self._dead(output, exc)

    def _dead(self, output: Output, exc: Exception) -> None:
        log.warning("embedded sink: %s to dead letters: %s", output.topic, exc)
        letter = DeadLetter.of("sink", exc, output.value or b"", key=output.key, topic=output.topic)
        self.index.write_dead_letter(letter)
        self.written["dead_letters"] += 1
