"""The worker's producer partitioner: Kafka's own (murmur2 of the key), remembering recent keys' hashes.

aiokafka's default partitioner hashes every key in pure Python (about 1.5 % of the worker in a
burst). A lead's id is the key of its record on leads.clean and again on leads.routed, and a new
case's id is its first lead's, the key of its cases.state snapshot and of its events: of the three
or four hashes a lead costs, all but the first are of a key hashed moments before.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from aiokafka.partitioner import murmur2

KEYS_KEPT = 10_000  # two batches of 500 leads have fewer keys; emptied when full (a miss costs one hash)


class RememberingPartitioner:
    """aiokafka's DefaultPartitioner, with the same answer for every key (a keyless record: random)."""

    def __init__(self, keep: int = KEYS_KEPT) -> None:
        self.keep = keep
        self.hashes: dict[bytes, int] = {}

    def __call__(self, key: bytes | None, all_partitions: Sequence[int], available: Sequence[int]) -> int:
        if key is None:
            return random.choice(available or all_partitions)
        found = self.hashes.get(key)
        if found is None:
            if len(self.hashes) >= self.keep:
                self.hashes.clear()
            found = self.hashes[key] = murmur2(key) & 0x7FFFFFFF
        return all_partitions[found % len(all_partitions)]
