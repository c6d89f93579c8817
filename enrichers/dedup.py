"""Group leads that report the same problem into cases.

Exact duplicates share a fingerprint (hash of the normalized content). Near duplicates are found
through *anchors*: the character shingles whose hash falls in a fixed 1-in-``sample`` slice. The
choice depends only on the shingle, so when one text contains another (a truncated preview, a
hotline operator's extract of a forum post, a repost with a prefix) its anchors are a subset of the
other's. Anchors are the index keys (candidates share some) and the evidence (Jaccard and
containment are estimated from them). A posting keeps only the newest ``max_postings`` leads, and a
lookup reads a bounded number of entries, the postings of the lead's rarest anchors first, so the
cost and memory per lead stay bounded as the state grows; an older lead is still found through its
rarer anchors, whose postings have not moved on.

Not MinHash-LSH (datasketch): Jaccard between a 60-character summary or preview and the post it
comes from is far below any threshold that keeps different complaints apart. On the re-post set, at
Jaccard 0.45 it found 6 % of summaries and 43 % of previews (recall 0.66), and at 0.1, where recall
reached 0.92, precision fell to 0.51 (``python -m benchmarks.dedup_quality --method minhash``).

The state sits behind ``DedupState``, four calls wide, so the memory, faust-table and later
band-partitioned implementations (DESIGN §9) are interchangeable.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from enrichers.text import content_key


@dataclass(frozen=True)
class DedupConfig:
    shingle: int = 3
    sample: int = 3  # one shingle in `sample` becomes an anchor
    max_postings: int = 32  # newest leads kept per anchor
    # Posting entries read per anchor of the lead, rarest anchors first: bounds the cost per lead
    # once the postings are full, while a rare anchor is still read 32 leads deep.
    votes_per_anchor: int = 16
    max_candidates: int = 20
    window_days: float = 30.0  # leads further apart than this never join
    jaccard: float = 0.45  # near duplicate when the anchor sets overlap this much …
    containment: float = 0.70  # … or the smaller text's anchors lie this much inside the larger's
    min_anchors: int = 5  # containment needs this much evidence in the smaller text


@dataclass(frozen=True, slots=True)
class Sketch:
    lead_id: str
    case_id: str
    fingerprint: str
    anchors: Sequence[int]  # sorted
    at: float | None  # POSIX seconds of publication, if known


@dataclass(frozen=True)
class DedupResult:
    case_id: str
    is_primary: bool  # this lead opened the case
    kind: str  # new | exact | near | replay (this lead was assigned before)
    matched_lead: str | None = None
    similarity: float = 0.0


class DedupState(Protocol):
    def lead_with_fingerprint(self, fingerprint: str) -> str | None: ...
    def candidates(self, anchors: Sequence[int], floor: int, limit: int, votes: int) -> list[Sketch]:
        """The leads that share at least `floor` of these anchors in the kept postings, most shared
        first (newer first among equals), at most `limit`: one call per lead. At most about `votes`
        posting entries are read, those of the anchors fewest leads ever had first."""
        ...
    def get(self, lead_id: str) -> Sketch | None: ...
    def put(self, sketch: Sketch, max_postings: int) -> None:
        """Records a lead (each lead once); it enters the postings of its anchors, which keep their
        newest `max_postings` leads."""
        ...


class MemoryDedupState:
    """The state in memory: the local runner, offline `leadhub dedup`, tests and benchmarks; the
    faust-table and SQLite states rebuild one of these from their sketches.

    Kept in columns indexed by lead number (the order leads are put), not as a Sketch object a lead:
    postings hold lead numbers in 4-byte arrays, so a lookup gathers its votes with C-level copies
    and counts them in numpy, and recording a lead compares case numbers in one dense array. With an
    object a lead, that comparison read a Sketch and its case-id string for every anchor, scattered
    over a heap that grows with the state: the cost per lead grew 1.45x from 10k to 1M leads, and
    the garbage collector walked every sketch. Sketches are built only for the few leads a lookup
    returns.
    """

    def __init__(self) -> None:
        self._number: dict[str, int] = {}  # lead id -> lead number
        self._lead_ids: list[str] = []
        self._fingerprint_of: list[str] = []
        self._fingerprints: dict[str, int] = {}  # fingerprint -> number of its first lead
        self._case_of = array("i")  # lead number -> case number
        self._case_ids: list[str] = []  # case number -> case id
        self._case_number: dict[str, int] = {}
        self._at = array("d")  # NaN: unknown
        self._anchors = array("I")  # every lead's sorted anchors, one after another
        self._starts = array("q", (0,))  # lead number -> where its anchors start; one past the end last
        # anchor -> [leads it ever had, then the kept lead numbers, newest last]; or the number of the
        # one lead it has had
        self._postings: dict[int, array[int] | int] = {}

    def lead_with_fingerprint(self, fingerprint: str) -> str | None:
        number = self._fingerprints.get(fingerprint)
        return None if number is None else self._lead_ids[number]

    def candidates(self, anchors: Sequence[int], floor: int, limit: int, votes: int) -> list[Sketch]:
        # Votes: first the leads of the anchors only one lead ever had (the rarest), then the postings.
        gathered = array("i")
        postings: list[array[int]] = []
        for posting in map(self._postings.get, anchors):
            if isinstance(posting, int):
                gathered.append(posting)
            elif posting is not None:
                postings.append(posting)
        if len(gathered) >= votes:
            del gathered[votes:]
        else:
            if len(gathered) + sum(map(len, postings)) - len(postings) > votes:
                # The rarest anchors first: they tell cases apart, and their postings reach furthest
                # back. Reading a bounded number keeps the cost flat once every posting is full.
                postings.sort(key=lambda p: p[0])
            for posting in postings:
                gathered.extend(posting[1:])
                if len(gathered) >= votes:
                    break
        if len(gathered) < max(floor, 1):
            return []
        numbers, counts = np.unique(np.frombuffer(gathered, dtype=np.int32), return_counts=True)
        enough = counts >= floor
        numbers, counts = numbers[enough], counts[enough]
        best = np.lexsort((-numbers, -counts))[:limit]
        return [self._sketch(n) for n in numbers[best].tolist()]

    def get(self, lead_id: str) -> Sketch | None:
        number = self._number.get(lead_id)
        return None if number is None else self._sketch(number)

    def _sketch(self, number: int) -> Sketch:
        at = self._at[number]
        return Sketch(
            self._lead_ids[number], self._case_ids[self._case_of[number]], self._fingerprint_of[number],
            self._anchors[self._starts[number] : self._starts[number + 1]], None if math.isnan(at) else at,
        )  # fmt: skip

    def put(self, sketch: Sketch, max_postings: int) -> None:
        number = len(self._lead_ids)
        case = self._case_number.setdefault(sketch.case_id, len(self._case_ids))
        if case == len(self._case_ids):
            self._case_ids.append(sketch.case_id)
        self._number[sketch.lead_id] = number
        self._lead_ids.append(sketch.lead_id)
        self._fingerprint_of.append(sketch.fingerprint)
        self._fingerprints.setdefault(sketch.fingerprint, number)
        self._case_of.append(case)
        self._at.append(math.nan if sketch.at is None else sketch.at)
        self._anchors.extend(sketch.anchors)
        self._starts.append(len(self._anchors))
        postings, case_of = self._postings, self._case_of
        for anchor in sketch.anchors:
            posting = postings.get(anchor)
            if posting is None:
                # Most anchors only ever have one lead: a bare lead number until a second comes costs
                # a fraction of an array's time and memory.
                postings[anchor] = number
            elif isinstance(posting, int):
                if case_of[posting] != case:
                    postings[anchor] = array("i", (2, posting, number))
            elif case_of[posting[-1]] != case:  # a popular case must not fill its own anchors
                posting[0] += 1
                posting.append(number)
                if len(posting) > max_postings + 1:
                    del posting[1]

    def __len__(self) -> int:
        return len(self._lead_ids)


def fingerprint(title: str, text: str) -> str:
    return _fingerprint_of(content_key(title, text))


def _fingerprint_of(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


_P1, _P2 = np.uint64(0x100000001B3), np.uint64(0x100000001B3 * 0x100000001B3 % 2**64)
_MIX = np.uint64(0xFF51AFD7ED558CCD)


def anchors(title: str, text: str, config: DedupConfig) -> tuple[int, ...]:
    return _anchors_of(content_key(title, text), config)


def _anchors_of(key: str, config: DedupConfig) -> tuple[int, ...]:
    """Hashes of the key's character n-grams that fall in the 1-in-``sample`` slice, sorted.

    A fixed polynomial hash over code points (numpy, wrapping at 2**64) then a finalizer mix:
    stable across processes and machines, unlike hash().
    """
    codes = np.frombuffer(key.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = config.shingle
    if len(codes) < n:
        return ()
    # Array arithmetic wraps at 2**64 silently (only numpy scalars warn), which is what a hash wants.
    h = np.zeros(len(codes) - n + 1, dtype=np.uint64)
    for offset in range(n):
        h = h * _P1 + codes[offset : len(codes) - n + 1 + offset]
    h ^= h >> np.uint64(33)
    h *= _MIX
    h ^= h >> np.uint64(33)
    h32 = (h >> np.uint64(32)).astype(np.uint32)
    return tuple(np.unique(h32[h32 % config.sample == 0]).tolist())


def similarity(a: Sequence[int] | set[int], b: Sequence[int]) -> tuple[float, float]:
    """(Jaccard, containment of the smaller in the larger) of two anchor sets."""
    if not a or not b:
        return 0.0, 0.0
    shared = len((a if isinstance(a, set) else set(a)).intersection(b))
    return shared / (len(a) + len(b) - shared), shared / min(len(a), len(b))


def _timestamp(when: dt.datetime | None) -> float | None:
    return when.timestamp() if when is not None else None


class Deduplicator:
    def __init__(self, state: DedupState, config: DedupConfig | None = None) -> None:
        self.state = state
        self.config = config or DedupConfig()

    def assign(self, lead_id: str, title: str, text: str, published_at: dt.datetime | None = None) -> DedupResult:
        """The case of this lead; records the lead so later duplicates find it. Replays are stable."""
        known = self.state.get(lead_id)
        if known is not None:  # a replayed message: same answer as the first time
            return DedupResult(known.case_id, known.case_id == lead_id, "replay")
        cfg = self.config
        key = content_key(title, text)
        fp = _fingerprint_of(key)
        at = _timestamp(published_at)
        mine = _anchors_of(key, cfg)

        result = self._exact(fp, at) or self._near(mine, at) or DedupResult(lead_id, True, "new")
        self.state.put(Sketch(lead_id, result.case_id, fp, mine, at), cfg.max_postings)
        return result

    def _within_window(self, a: float | None, b: float | None) -> bool:
        return a is None or b is None or abs(a - b) <= self.config.window_days * 86400

    def _exact(self, fp: str, at: float | None) -> DedupResult | None:
        other = self.state.lead_with_fingerprint(fp)
        sketch = self.state.get(other) if other else None
        if sketch and self._within_window(at, sketch.at):
            return DedupResult(sketch.case_id, False, "exact", sketch.lead_id, 1.0)
        return None

    def _near(self, mine: tuple[int, ...], at: float | None) -> DedupResult | None:
        cfg = self.config
        if not mine:
            return None
        # A candidate must share enough anchors to pass either test below: half of a small text's
        # anchors (Jaccard), or 70 % of at least min_anchors (containment of a smaller one).
        floor = max(2, min(math.ceil(cfg.jaccard * len(mine)), math.ceil(cfg.containment * cfg.min_anchors)))
        # The lead's rarest anchors vote, as many as the budget allows. Skipping every posting that
        # had reached a fixed length (a "stock phrase") looked cheaper, but once the state is large
        # nearly every anchor is that common, and recall on the re-post set fell to 0.38 with 1M
        # other leads in the state; rarity relative to the lead's own anchors does not run out.
        found = self.state.candidates(mine, floor, cfg.max_candidates, cfg.votes_per_anchor * len(mine))
        best: DedupResult | None = None
        mine_set = set(mine)
        for sketch in found:
            if not self._within_window(at, sketch.at):
                continue
            jac, cont = similarity(mine_set, sketch.anchors)
            smaller = min(len(mine), len(sketch.anchors))
            score = max(jac, cont if smaller >= cfg.min_anchors else 0.0)
            if (jac >= cfg.jaccard or (smaller >= cfg.min_anchors and cont >= cfg.containment)) and (
                best is None or score > best.similarity
            ):
                best = DedupResult(sketch.case_id, False, "near", sketch.lead_id, round(score, 4))
        return best
