"""The worker's cheaper message paths send what faust and Kafka's own would: the partition of every key, the case book's changelog records (no broker)."""

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
    partitioner = RememberingPartitioner()
    assert {partitioner(None, [0, 1, 2], [2]) for _ in range(20)} == {2}  # only the available one
    spread = [partitioner(None, [0, 1, 2], [0, 1, 2]) for _ in range(300)]
    assert set(spread) == {0, 1, 2} and min(spread.count(p) for p in (0, 1, 2)) > 50  # each about a third
    assert {partitioner(None, [0, 1, 2], []) for _ in range(100)} == {0, 1, 2}  # none available: any


def test_the_case_book_returns_the_changelog_records_fausts_table_would_send_and_keeps_the_cases():
    import asyncio

    import faust

    from schemas.cases import Case
    from streams.app import OnePartitionTable
    from streams.tables import TableCaseBook

    async def run():
        app = faust.App("case-book-test", broker="kafka://127.0.0.1:9", store="memory://")
        table = OnePartitionTable(app, name="case-book", default=None, beacon=app.tables.beacon, partitions=1, key_type=str)
        app.tables.add(table)
        book = TableCaseBook(table)
        cases = [Case(case_id="c1", title="电梯停运", report_count=2), Case(case_id="c2", title="路灯不亮")]
        for case in cases:
            book.put(case)
        records = book.flush()
        fausts = [
            table.changelog_topic.as_future_message(
                key=case.case_id, value=case.model_dump(mode="json"), partition=0,
                key_serializer=table.key_serializer, value_serializer=table.value_serializer,
            ).message
            for case in cases
        ]  # fmt: skip
        assert records == [(message.key, message.value) for message in fausts]
        assert [book.get(case.case_id) for case in cases] == cases and book.pending == {}
        assert book.flush() == []

    asyncio.run(run())


def test_the_case_book_on_a_plain_mapping_writes_it_and_sends_nothing():
    from schemas.cases import Case
    from streams.tables import TableCaseBook

    table: dict = {}
    book = TableCaseBook(table)
    book.put(Case(case_id="c1", title="电梯停运"))
    assert book.flush() == [] and table["c1"]["title"] == "电梯停运"
