"""The worker's partitioner gives Kafka's own partition for every key (no broker: the partitioner only)."""

from __future__ import annotations

import os

from aiokafka.partitioner import DefaultPartitioner

from streams.partitioner import RememberingPartitioner


def test_the_remembering_partitioner_picks_kafkas_partition_for_every_key_again_and_after_emptying():
    remembering, kafka = RememberingPartitioner(keep=50), DefaultPartitioner()
    keys = [os.urandom(n % 40) for n in range(400)] + [b"8f14e45fceea167a5a36dedd4bea2543"]
    for key in keys + keys:  # the second round from the cache (and from a refilled one: keep=50)
        for count in (1, 3, 6):
            partitions = list(range(count))
            assert remembering(key, partitions, partitions) == kafka(key, partitions, partitions)
    assert len(remembering.hashes) <= 50


def test_the_remembering_partitioner_spreads_keyless_records_over_the_available_partitions():
    assert {RememberingPartitioner()(None, [0, 1, 2], [2]) for _ in range(20)} == {2}
