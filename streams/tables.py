"""The route stage's state in faust tables (changelog-backed: a restarted worker resumes)."""

from __future__ import annotations

import base64
from array import array
from collections.abc import Sequence
from typing import Any

from enrichers.dedup import MemoryDedupState, Sketch
from schemas.cases import Case, Status

# A changelog entry holds the sketches of this many leads at most (~600 bytes each as JSON: ~120 KB, well
# under Kafka's 1 MB message limit whatever streams.batch_size is).
SKETCHES_PER_ENTRY = 200


class TableDedupState:
    """DedupState kept in a faust table of sketches, written once per batch (``flush``).

    The lookup structures (fingerprints, anchor postings) are derived, so they live in memory and are
    rebuilt from the sketches, in their original order, whenever the table holds entries the memory
    has not seen: after a restart or a rebalance. Persisting the postings themselves cost a changelog
    message per anchor per lead (dozens per lead), which throttled the whole worker.

    A table entry holds the sketches of a run of up to SKETCHES_PER_ENTRY leads, in order (key
    ``seq:<seq of the first>``, value ``{"seq": first, "sketches": [[lead_id, case_id, fingerprint,
    anchors, at], ...]}``): a changelog message a lead, through faust's table machinery, was about 7 %
    of the worker's CPU in a burst. Entries of one sketch keyed by lead id (workers before) are read
    too. Until ``flush`` a batch's sketches are in memory only; a crash before then loses them, and the
    replayed batch (its offsets were not committed) puts them again, as with the case book.
    """

    def __init__(self, sketches: Any, max_postings: int) -> None:
        self.sketches = sketches
        self.max_postings = max_postings
        self.memory = MemoryDedupState()
        self._next_seq = 0
        self._entries = 0  # the table entries the memory was built from or wrote
        self._pending: list[Sketch] = []

    def _current(self) -> MemoryDedupState:
        if len(self.sketches) != self._entries:
            self._rebuild()
        return self.memory

    def _rebuild(self) -> None:
        stored: list[tuple[int, Sketch]] = []
        for key, data in self.sketches.items():
            if "sketches" in data:
                stored += [(data["seq"] + n, _row_sketch(row)) for n, row in enumerate(data["sketches"])]
            else:  # one sketch keyed by its lead; those written before the seq field existed come first
                stored.append((data.get("seq", -1), _sketch(key, data)))
        stored.sort(key=lambda item: item[0])  # stable: the seq-less keep table order
        self.memory = MemoryDedupState()
        for _seq, sketch in stored:
            self.memory.put(sketch, self.max_postings)
        for sketch in self._pending:  # the batch in progress is not in the table yet
            self.memory.put(sketch, self.max_postings)
        self._next_seq = max(stored[-1][0] + 1, 0) if stored else 0
        self._entries = len(self.sketches)

    def lead_with_fingerprint(self, fingerprint: str) -> str | None:
        return self._current().lead_with_fingerprint(fingerprint)

    def candidates(self, anchors: Sequence[int], floor: int, limit: int, votes: int) -> list[Sketch]:
        return self._current().candidates(anchors, floor, limit, votes)

    def get(self, lead_id: str) -> Sketch | None:
        return self._current().get(lead_id)

    def put(self, sketch: Sketch, max_postings: int) -> None:
        memory = self._current()
        self._pending.append(sketch)
        memory.put(sketch, max_postings)

    def flush(self) -> None:
        """The sketches put since the last flush into the table, in entries of SKETCHES_PER_ENTRY."""
        self._current()  # an entry the memory has not seen is read before the count moves on
        pending, self._pending = self._pending, []
        for start in range(0, len(pending), SKETCHES_PER_ENTRY):
            run = pending[start : start + SKETCHES_PER_ENTRY]
            self.sketches[f"seq:{self._next_seq}"] = {"seq": self._next_seq, "sketches": [_row(sketch) for sketch in run]}
            self._next_seq += len(run)
            self._entries += 1


def _row(sketch: Sketch) -> list[Any]:
    anchors = base64.b64encode(array("I", sketch.anchors).tobytes()).decode("ascii")
    return [sketch.lead_id, sketch.case_id, sketch.fingerprint, anchors, sketch.at]


def _row_sketch(row: list[Any]) -> Sketch:
    lead_id, case_id, fingerprint, anchors, at = row
    return _sketch(lead_id, {"case_id": case_id, "fingerprint": fingerprint, "anchors": anchors, "at": at})


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

    ``flush`` puts the cases into the table's store and returns their changelog records, which the
    worker sends with the batch's outputs: the key and value bytes faust's table would send, to the
    same topic and partition, without its path for each entry (a future message, its buffer and the
    task draining it, sensors), which cost about as much CPU as the rest of a lead's messages. A
    restart reads them back as faust's own.
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

    def flush(self) -> list[tuple[Any, Any]]:
        """The pending cases into the table; their (key, value) changelog records, for the caller to send
        (none for a table without a changelog, such as a dict)."""
        changelog = getattr(self.table, "changelog_topic", None)
        records = []
        for case_id, case in self.pending.items():
            data = case.model_dump(mode="json")
            if changelog is None:
                self.table[case_id] = data
                continue
            key, headers = changelog.prepare_key(case_id, self.table.key_serializer, None, None)
            value, _ = changelog.prepare_value(data, self.table.value_serializer, None, headers)
            self.table.data[case_id] = data  # the store, as Table.__setitem__ does after sending
            records.append((key, value))
        self.pending.clear()
        return records


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
