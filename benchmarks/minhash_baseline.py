"""The textbook near-duplicate method, as the comparison for leadhub's anchors: datasketch's
MinHash-LSH over the same character trigrams of the same content key, with its estimated Jaccard as
the verification step.

Used by ``python -m benchmarks.dedup_quality --method minhash``. A lead joins the case of the
candidate with the highest estimated Jaccard at or above the threshold, else opens a case. There is
no time window (the re-post set's dates all fall within leadhub's 30 days).
"""

from __future__ import annotations

import numpy as np
from datasketch import MinHash, MinHashLSH

from enrichers.text import content_key

NUM_PERM = 128


class MinHashAssigner:
    def __init__(self, threshold: float, shingle: int = 3) -> None:
        self.threshold = threshold
        self.shingle = shingle
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._sketches: dict[str, MinHash] = {}
        self._case_of: dict[str, str] = {}

    def _sketch(self, title: str, text: str) -> MinHash:
        key = content_key(title, text)
        grams = {key[i : i + self.shingle] for i in range(max(len(key) - self.shingle + 1, 1))}
        sketch = MinHash(num_perm=NUM_PERM)
        sketch.update_batch([g.encode() for g in grams])
        return sketch

    def assign(self, lead_id: str, title: str, text: str, published_at: object = None) -> str:
        if lead_id in self._case_of:
            return self._case_of[lead_id]
        sketch = self._sketch(title, text)
        candidates = self._lsh.query(sketch)
        scores = [self._sketches[c].jaccard(sketch) for c in candidates]
        best = int(np.argmax(scores)) if scores else -1
        case_id = self._case_of[candidates[best]] if best >= 0 and scores[best] >= self.threshold else lead_id
        self._lsh.insert(lead_id, sketch)
        self._sketches[lead_id] = sketch
        self._case_of[lead_id] = case_id
        return case_id
