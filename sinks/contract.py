"""The sink contract: what a store's writer does with the pipeline's outputs.

In the spirit of Quix Streams' sinks: records are *added*, then *flushed*, and whatever feeds a sink
commits its input positions only after ``flush()`` returned (at-least-once). A crash before that
replays the records, and every write is idempotent (documents keyed by lead/case id, case snapshots
guarded by their offset, events skipped when the history holds them), so a replay changes nothing.

Two implementations: the search-engine writer (sinks/search_writer.py, fed by the Kafka consumer loop
of sinks/consumer.py) and the embedded SQLite index (sinks/embedded_sink.py, fed by the local runner).
Both write case documents by the same rules (sinks/documents.py), which tests/sink_suite.py checks on
the two with the same inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from schemas.cases import Case, CaseEvent
from schemas.dead_letters import DeadLetter
from schemas.hot_issues import HotIssue
from schemas.hotspots import Hotspot
from schemas.leads import Lead
from schemas.serialization import DecodeError, decode

STAGE = "sink"


class StoppedWhileRetrying(Exception):
    """A stop was asked for while ``flush()`` waited for the store; nothing of the batch may be committed."""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an added record came from: its bytes (for a dead letter) and its position, if any."""

    topic: str  # as read, with any prefix
    value: bytes
    key: bytes | None = None
    partition: int | None = None
    offset: int | None = None  # a cases.state snapshot's offset guards against older snapshots

    def letter(self, error: BaseException, **details: Any) -> DeadLetter:
        """This record as a dead letter: its original bytes, where it was read, and why."""
        return DeadLetter.of(
            STAGE, error, self.value, key=self.key, topic=self.topic,
            partition=self.partition, offset=self.offset, details=details,
        )  # fmt: skip


class Sink(Protocol):
    """A store's writer. ``add_*`` may write at once or batch; ``flush()`` returns once everything
    added so far is written, or dead-lettered with its reason and original bytes. It raises if it
    could not (the caller then commits nothing of it), and StoppedWhileRetrying on a stop."""

    def add_lead(self, lead: Lead, origin: Origin) -> None:
        """A lead document, under its id (the same lead again is the same document)."""

    def add_case_state(self, case: Case, origin: Origin) -> None:
        """The route stage's snapshot of a case's membership (see documents.apply_case_state)."""

    def add_case_event(self, event: CaseEvent, origin: Origin) -> None:
        """Handling, through the status machine; an illegal event becomes a dead letter."""

    def add_dead_letter(self, letter: DeadLetter) -> None:
        """A record that failed before it reached the sink (or in another stage), kept with its reason."""

    def add_hotspot(self, hotspot: Hotspot, origin: Origin) -> None:
        """A hotspot record of the detector (sinks/hotspot_documents.py: people's handling is kept)."""

    def add_hot_issue(self, issue: HotIssue, origin: Origin) -> None:
        """A hot-issue record of the clusterer (sinks/hot_issue_documents.py: an older one never shrinks it)."""

    def flush(self) -> None:
        """Return once everything added is written or dead-lettered; raise if it could not be."""


def deliver(sink: Sink, topic: str, origin: Origin, headers: Any = None) -> None:
    """Decode a record of ``topic`` (the name without prefix) into the sink's call for it; a record
    that does not decode becomes a dead letter. Topics the sink does not take are ignored."""
    try:
        if topic == "leads.routed":
            sink.add_lead(decode(origin.value, headers, Lead), origin)
        elif topic == "cases.state":
            sink.add_case_state(decode(origin.value, headers, Case), origin)
        elif topic == "cases.events":
            sink.add_case_event(decode(origin.value, headers, CaseEvent), origin)
        elif topic == "leads.dlq":
            sink.add_dead_letter(decode(origin.value, headers, DeadLetter))
        elif topic == "hotspots":
            sink.add_hotspot(decode(origin.value, headers, Hotspot), origin)
        elif topic == "hot_issues":
            sink.add_hot_issue(decode(origin.value, headers, HotIssue), origin)
    except DecodeError as exc:
        sink.add_dead_letter(origin.letter(exc))
