"""The route stage's state in faust tables (changelog-backed: a restarted worker resumes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from enrichers.dedup import Sketch
from schemas.cases import Case, Status


class TableDedupState:
    """DedupState over three faust tables; every value is JSON so the changelog can carry it."""

    def __init__(self, fingerprints: Any, postings: Any, sketches: Any) -> None:
        self.fingerprints = fingerprints
        self.postings_table = postings
        self.sketches = sketches

    def lead_with_fingerprint(self, fingerprint: str) -> str | None:
        return self.fingerprints.get(fingerprint)

    def postings(self, anchor: int) -> Sequence[str]:
        return self.postings_table.get(str(anchor)) or ()

    def get(self, lead_id: str) -> Sketch | None:
        data = self.sketches.get(lead_id)
        if data is None:
            return None
        return Sketch(lead_id, data["case_id"], data["fingerprint"], tuple(data["anchors"]), data["at"])

    def put(self, sketch: Sketch, max_postings: int) -> None:
        self.sketches[sketch.lead_id] = {
            "case_id": sketch.case_id, "fingerprint": sketch.fingerprint,
            "anchors": list(sketch.anchors), "at": sketch.at,
        }  # fmt: skip
        if self.fingerprints.get(sketch.fingerprint) is None:
            self.fingerprints[sketch.fingerprint] = sketch.lead_id
        for anchor in sketch.anchors:
            key = str(anchor)
            posting = list(self.postings_table.get(key) or ())
            latest = self.sketches.get(posting[-1]) if posting else None
            if latest is not None and latest["case_id"] == sketch.case_id:
                continue  # as in MemoryDedupState.put: a popular case must not fill its anchors
            posting.append(sketch.lead_id)
            self.postings_table[key] = posting[-max_postings:]


class TableCaseBook:
    def __init__(self, table: Any) -> None:
        self.table = table

    def get(self, case_id: str) -> Case | None:
        data = self.table.get(case_id)
        return Case.model_validate(data) if data is not None else None

    def put(self, case: Case) -> None:
        self.table[case.case_id] = case.model_dump(mode="json")


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
