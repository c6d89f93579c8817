"""The worker's per-message savings give the answers they replace: Kafka's partition for every key,
and the case book's cases as its table holds them (no broker: pure parts only)."""

from __future__ import annotations

import os

from aiokafka.partitioner import DefaultPartitioner

from schemas.cases import Case
from streams.partitioner import RememberingPartitioner
from streams.tables import TableCaseBook


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


def _case(case_id: str, count: int) -> Case:
    return Case(case_id=case_id, title="电梯停运", report_count=count)


def test_the_case_book_reads_a_case_it_wrote_without_validating_it_again():
    table: dict = {}
    book = TableCaseBook(table)
    book.put(_case("c1", 1))
    book.flush()
    assert table["c1"] == _case("c1", 1).model_dump(mode="json")
    assert book.get("c1") is book.get("c1") == _case("c1", 1)


def test_the_case_book_reads_an_entry_the_table_replaced_afresh():
    table: dict = {}
    book = TableCaseBook(table)
    book.put(_case("c1", 1))
    book.flush()
    book.get("c1")
    table["c1"] = _case("c1", 7).model_dump(mode="json")  # a changelog's newer entry, after a rebalance
    assert book.get("c1").report_count == 7
    assert book.get("missing") is None


def test_the_case_book_keeps_only_its_most_recent_cases_as_models():
    table: dict = {}
    book = TableCaseBook(table, keep=3)
    for n in range(5):
        book.put(_case(f"c{n}", n))
    book.flush()
    assert list(book.known) == ["c2", "c3", "c4"]
    assert [book.get(f"c{n}").report_count for n in range(5)] == [0, 1, 2, 3, 4]
    assert len(book.known) == 3
