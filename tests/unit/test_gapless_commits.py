"""The worker's consumer (faust's aiokafka Consumer with streams/offsets.GaplessCommits) never commits past
a record it did not hand to a stage: faust's own bookkeeping, driven without a broker (nothing connects
until the consumer starts)."""

from __future__ import annotations

import asyncio

import faust
from faust.types import TP, Message

from streams.app import fetch_tuned_transport
from streams.offsets import head_gap
from streams.settings import StreamsSettings


def test_head_gap_is_the_records_missing_before_the_first_acknowledged():
    assert head_gap([], None, 0) is None
    assert head_gap([0, 1, 2], None, 0) is None  # a first run, every record handled
    assert head_gap([4613, 4614], None, 397) == (397, 4612)  # the first run of 2026-12-07: 397-4,612 dropped
    assert head_gap([398, 399], None, 397) == (397, 397)  # one record is one too many
    assert head_gap([397, 398], 397, 0) is None  # committed: the next offset to read
    assert head_gap([4613], 397, None) == (397, 4612)
    assert head_gap([5], None, None) is None  # nothing handed over since the assignment: nothing to judge by


def consumer_with(skipped: list[str]):
    app = faust.App("leadhub-test-gapless", broker="kafka://127.0.0.1:9092")
    handed: list[int] = []

    async def on_message(message: Message) -> None:
        handed.append(message.offset)

    async def no_op(*_args) -> None:
        return None

    transport = fetch_tuned_transport(app, StreamsSettings())
    consumer = transport.create_consumer(callback=on_message, on_partitions_revoked=no_op, on_partitions_assigned=no_op)
    consumer.on_skipped = skipped.append  # the worker's own stops the process
    return consumer, handed


def message(tp: TP, offset: int) -> Message:
    return Message(tp.topic, tp.partition, offset, 0.0, 0, [], b"k", b"v", None)


def test_a_first_run_does_not_commit_past_records_handed_over_and_never_acknowledged():
    skipped: list[str] = []
    consumer, handed = consumer_with(skipped)
    tp = TP("x.leads.clean", 0)

    async def run() -> None:
        for offset in (397, 398, 4613, 4614):
            await consumer.callback(message(tp, offset))

    asyncio.run(run())
    assert handed == [397, 398, 4613, 4614]  # the stage still gets every record
    consumer._acked[tp] = [4613, 4614]  # 397 and 398 dropped before a stage acknowledged them
    assert consumer._new_offset(tp) is None
    assert skipped == ["x.leads.clean[0]: offsets 397-4612 were never handled, and a later one was"]


def test_contiguous_acknowledgements_commit_as_faust_does():
    skipped: list[str] = []
    consumer, _ = consumer_with(skipped)
    tp = TP("x.leads.clean", 0)
    asyncio.run(consumer.callback(message(tp, 0)))
    consumer._acked[tp] = [0, 1, 2]
    assert consumer._new_offset(tp) == 3 and skipped == []
    consumer._committed_offset[tp] = 3
    consumer._acked[tp] = [3, 4]
    assert consumer._new_offset(tp) == 5 and skipped == []


def test_a_fetch_that_jumps_over_records_is_not_committed_across():
    skipped: list[str] = []
    consumer, _ = consumer_with(skipped)
    tp = TP("x.leads.raw", 2)

    async def run() -> None:
        for offset in range(0, 11):
            await consumer.callback(message(tp, offset))
        await consumer._add_gap(tp, 11, 40)  # faust: read 10, then fetched 40
        await consumer.callback(message(tp, 40))

    asyncio.run(run())
    assert not consumer._gap[tp]  # faust would have filled 11-39 in and committed across
    consumer._acked[tp] = [*range(0, 11), 40]
    assert consumer._new_offset(tp) == 11 and skipped == []  # up to the jump, as faust does
    consumer._committed_offset[tp] = 11
    assert consumer._new_offset(tp) is None
    assert skipped == ["x.leads.raw[2]: offsets 11-39 were never handled, and a later one was"]


def test_a_transaction_marker_is_stepped_over_as_faust_does():
    skipped: list[str] = []
    consumer, _ = consumer_with(skipped)
    tp = TP("x.leads.raw", 1)
    asyncio.run(consumer.callback(message(tp, 0)))
    asyncio.run(consumer._add_gap(tp, 5, 6))  # read 4, then 6: offset 5 is a commit marker
    consumer._acked[tp] = [0, 1, 2, 3, 4, 6]
    assert consumer._new_offset(tp) == 5 and skipped == []  # up to the marker
    consumer._committed_offset[tp] = 5
    assert consumer._new_offset(tp) == 7 and skipped == []  # and past it
