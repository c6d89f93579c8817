"""The route stage's state in faust tables (changelog-backed: a restarted worker resumes)."""

from __future__ import annotations

import base64
from array import array
from collections.abc import Sequence
from typing import Any

from enrichers.dedup import MemoryDedupState, Sketch
from schemas.cases import Case, Status


class TableDedupState:
    """DedupState kept in one faust table of sketches (one changelog message per lead).

    The lookup structures (fingerprints, anchor postings) are derived, so they live in memory and are
    rebuilt from the sketches, in their original order, whenever the table holds sketches the memory
    has not seen: after a restart or a rebalance. Persisting the postings themselves cost a changelog
    message per anchor per lead (dozens per lead), which throttled the whole worker.
    """

    def __init__(self, sketches: Any, max_postings: int) -> None:
        self.sketches = sketches
        self.max_postings = max_postings
        self.memory = MemoryDedupState()
        self._next_seq = 0

    def _current(self) -> MemoryDedupState:
        if len(self.sketches) != len(self.memory):
            self.memory = MemoryDedupState()
            # Sketches written before the seq field existed come first, in table order.
            stored = sorted(((data.get("seq", -1), lead_id, data) for lead_id, data in self.sketches.items()), key=lambda item: item[0])
            for _seq, lead_id, data in stored:
                self.memory.put(_sketch(lead_id, data), self.max_postings)
            self._next_seq = max(stored[-1][0] + 1, 0) if stored else 0
        return self.memory

    def lead_with_fingerprint(self, fingerprint: str) -> str | None:
        return self._current().lead_with_fingerprint(fingerprint)

    def candidates(self, anchors: Sequence[int], floor: int, limit: int, votes: int) -> list[Sketch]:
        return self._current().candidates(anchors, floor, limit, votes)

    def get(self, lead_id: str) -> Sketch | None:
        return self._current().get(lead_id)

    def put(self, sketch: Sketch, max_postings: int) -> None:
        memory = self._current()
        self.sketches[sketch.lead_id] = {
            "seq": self._next_seq, "case_id": sketch.case_id, "fingerprint": sketch.fingerprint,
            "anchors": base64.b64encode(array("I", sketch.anchors).tobytes()).decode("ascii"), "at": sketch.at,
        }  # fmt: skip
        self._next_seq += 1
        memory.put(sketch, max_postings)


def _sketch(lead_id: str, data: dict[str, Any]) -> Sketch:
    anchors = array("I")
    if isinstance(data["anchors"], list):  # the older format: a JSON list of ints
        anchors.extend(data["anchors"])
    else:
        anchors.frombytes(base64.b64decode(data["anchors"]))
    return Sketch(lead_id, data["case_id"], data["fingerprint"], anchors, data["at"])


class TableCaseBook:
    """The case book in a faust table, written back once per batch.

    A case that several leads of one batch join is stored (and sent to its changelog) once, as it
    stands after the batch. Until ``flush`` the newest states are in ``pending``; a crash before then
    loses them, and the replayed batch rebuilds them (the route stage counts a lead its case lacks).
    """

    def __init__(self, table: Any) -> None:
        self.table = table
        self.pending: dict[str, Case] = {}

    def get(self, case_id: str) -> Case | None:
        case = self.pending.get(case_id)
        if case is not None:
            return case
        data = self.table.get(case_id)
        return Case.model_validate(data) if data is not None else None

    def put(self, case: Case) -> None:
        self.pending[case.case_id] = case

    def flush(self) -> None:
        for case_id, case in self.pending.items():
            self.table[case_id] = case.model_dump(mode="json")
        self.pending.clear()


class TableStatuses:
    def __init__(self, table: Any) -> None:
        self.table = table

    def load(self, case_id: str) -> Case | None:
        data = self.table.get(case_id)
        return Case.model_validate(data) if data is not None else None

    def store(self, case: Case) -> None:
        self.table[case.case_id] = case.model_dump(mode="json", include={"case_id", "status", "history"})

    def status(self, case_id: str) -> Status | None:
        data = self.table.get(case_id)
        return Status(data["status"]) if data else None
