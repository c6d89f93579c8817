"""Group leads that report the same problem into cases.

Exact duplicates share a fingerprint (hash of the normalized content). Near duplicates are found
through *anchors*: the character shingles whose hash falls in a fixed 1-in-``sample`` slice. The
choice depends only on the shingle, so when one text contains another (a truncated preview, a
hotline operator's extract of a forum post, a repost with a prefix) its anchors are a subset of the
other's. Anchors are the index keys (candidates share some) and the evidence (Jaccard and
containment are estimated from them). Posting lists are capped to the most recent leads, so the
cost per lead stays flat as the state grows.

The state sits behind ``DedupState``, four calls wide, so the memory, faust-table and later
band-partitioned implementations (DESIGN §9) are interchangeable.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from enrichers.text import content_key


@dataclass(frozen=True)
class DedupConfig:
    shingle: int = 3
    sample: int = 3  # one shingle in `sample` becomes an anchor
    max_postings: int = 400  # most recent leads kept per anchor
    max_candidates: int = 50
    window_days: float = 30.0  # leads further apart than this never join
    jaccard: float = 0.5  # near duplicate when the anchor sets overlap this much …
    containment: float = 0.70  # … or the smaller text's anchors lie this much inside the larger's
    min_anchors: int = 5  # containment needs this much evidence in the smaller text


@dataclass(frozen=True)
class Sketch:
    lead_id: str
    case_id: str
    fingerprint: str
    anchors: tuple[int, ...]  # sorted
    at: float | None  # POSIX seconds of publication, if known


@dataclass(frozen=True)
class DedupResult:
    case_id: str
    is_primary: bool  # this lead opened the case
    kind: str  # new | exact | near
    matched_lead: str | None = None
    similarity: float = 0.0


class DedupState(Protocol):
    def lead_with_fingerprint(self, fingerprint: str) -> str | None: ...
    def postings(self, anchor: int) -> Sequence[str]: ...
    def get(self, lead_id: str) -> Sketch | None: ...
    def put(self, sketch: Sketch, max_postings: int) -> None: ...


class MemoryDedupState:
    """The state in dicts: the local runner, offline `leadhub dedup`, tests and benchmarks."""

    def __init__(self) -> None:
        self._fingerprints: dict[str, str] = {}
        self._postings: dict[int, list[str]] = {}
        self._sketches: dict[str, Sketch] = {}

    def lead_with_fingerprint(self, fingerprint: str) -> str | None:
        return self._fingerprints.get(fingerprint)

    def postings(self, anchor: int) -> Sequence[str]:
        return self._postings.get(anchor, ())

    def get(self, lead_id: str) -> Sketch | None:
        return self._sketches.get(lead_id)

    def put(self, sketch: Sketch, max_postings: int) -> None:
        self._sketches[sketch.lead_id] = sketch
        self._fingerprints.setdefault(sketch.fingerprint, sketch.lead_id)
        for anchor in sketch.anchors:
            posting = self._postings.setdefault(anchor, [])
            posting.append(sketch.lead_id)
            if len(posting) > max_postings:
                del posting[: len(posting) - max_postings]

    def __len__(self) -> int:
        return len(self._sketches)


def fingerprint(title: str, text: str) -> str:
    return hashlib.sha256(content_key(title, text).encode("utf-8")).hexdigest()[:32]


def anchors(title: str, text: str, config: DedupConfig) -> tuple[int, ...]:
    key = content_key(title, text)
    n = config.shingle
    chosen = set()
    for i in range(max(1, len(key) - n + 1)):
        h = zlib.crc32(key[i : i + n].encode("utf-8"))  # stable across processes, unlike hash()
        if h % config.sample == 0:
            chosen.add(h)
    return tuple(sorted(chosen))


def similarity(a: Sequence[int], b: Sequence[int]) -> tuple[float, float]:
    """(Jaccard, containment of the smaller in the larger) of two anchor sets."""
    if not a or not b:
        return 0.0, 0.0
    shared = len(set(a).intersection(b))
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
            return DedupResult(known.case_id, known.case_id == lead_id, "new" if known.case_id == lead_id else "replay")
        cfg = self.config
        fp = fingerprint(title, text)
        at = _timestamp(published_at)
        mine = anchors(title, text, cfg)

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
        votes: dict[str, int] = {}
        for anchor in mine:
            for lead in self.state.postings(anchor):
                votes[lead] = votes.get(lead, 0) + 1
        # Candidates must share enough anchors to possibly pass either test below.
        floor = max(2, min(cfg.min_anchors, len(mine)) * min(cfg.jaccard, cfg.containment) // 1)
        ranked = sorted((v, lead) for lead, v in votes.items() if v >= floor)[-cfg.max_candidates :]
        best: DedupResult | None = None
        for _, lead in reversed(ranked):
            sketch = self.state.get(lead)
            if sketch is None or not self._within_window(at, sketch.at):
                continue
            jac, cont = similarity(mine, sketch.anchors)
            smaller = min(len(mine), len(sketch.anchors))
            score = max(jac, cont if smaller >= cfg.min_anchors else 0.0)
            if (jac >= cfg.jaccard or (smaller >= cfg.min_anchors and cont >= cfg.containment)) and (
                best is None or score > best.similarity
            ):
                best = DedupResult(sketch.case_id, False, "near", sketch.lead_id, round(score, 4))
        return best
