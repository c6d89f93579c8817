"""A fresh streams worker rebuilds the route stage's tables from their changelogs as the worker writes
them now (streams/tables.py): the dedup sketches as entries of up to SKETCHES_PER_ENTRY leads (key
``seq:<n>``), and the case book's records, sent by the worker itself with each batch's outputs.

The first worker routes the first reports of many problems, then stops; its local table state is
deleted (faust's data directory; the stores are in memory), so the second worker, a new process, has
nothing but the changelog topics. The later reports of the same problems must then join the cases the
first worker opened (the dedup sketches came back) and grow them from the first run's counts (the case
book came back). Without either changelog they would open new cases, or restart the counts at one.
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient

from adapters.kafka_clients import kafka_python_options
from leadhub.topics_admin import delete_topics, ensure_topics
from schemas.cases import Case
from schemas.leads import Lead
from schemas.serialization import decode, encode
from schemas.topics import topic_specs
from streams.tables import SKETCHES_PER_ENTRY
from tests.integration.test_faults import Report, build_corpus, offline_groups
from tests.integration.test_streams_worker import Worker, _free_port

pytestmark = pytest.mark.integration

PROBLEMS = 120  # x 1..5 reports: 264 first reports in the first run (> SKETCHES_PER_ENTRY), 96 later ones in the second


class Reader:
    """Reads topics from their beginning (no consumer group), remembering the latest value per key."""

    def __init__(self, kafka_settings, partitions: dict[str, int]) -> None:
        self.consumer = KafkaConsumer(**kafka_python_options(kafka_settings), group_id=None, enable_auto_commit=False)
        self.consumer.assign([TopicPartition(name, p) for name, count in partitions.items() for p in range(count)])
        self.consumer.seek_to_beginning()
        self.records: dict[str, list] = {name: [] for name in partitions}

    def poll(self) -> None:
        for tp, records in self.consumer.poll(timeout_ms=300, max_records=2000).items():
            self.records[tp.topic] += records

    def until(self, what: str, predicate: Callable[[], bool], worker: Worker, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert worker.proc.poll() is None, "the worker exited: " + Path(worker.log_path).read_text(errors="replace")[-3000:]
            if time.monotonic() > deadline:
                log = Path(worker.log_path).read_text(errors="replace")[-3000:]
                raise AssertionError(f"{what}: not within {timeout:.0f} s; worker log tail:\n{log}")
            self.poll()

    def close(self) -> None:
        self.consumer.close()


def _key(raw: bytes) -> str:
    # faust's table keys go out as JSON strings (key_type=str through its json codec) or raw bytes.
    try:
        key = json.loads(raw)
    except ValueError:
        return raw.decode()
    return key if isinstance(key, str) else raw.decode()


def test_a_fresh_worker_rebuilds_dedup_and_case_book_from_the_batch_written_changelogs(kafka_settings, tmp_path):
    run = uuid.uuid4().hex[:8]
    prefix, app_id = f"r{run}.", f"lh-test-{run}"
    # Hotspots and hot issues keep no faust tables: off, so the run is about the route stage's two.
    overrides = [f"kafka.topic_prefix={prefix}", f"streams.app_id={app_id}", f"streams.web_port={_free_port()}",
                 "hotspots.enabled=false", "hot_issues.enabled=false"]  # fmt: skip
    args = [a for o in overrides for a in ("--set", o)]
    dedup_log, book_log = f"{app_id}-dedup-sketches-changelog", f"{app_id}-case-book-changelog"
    admin = KafkaAdminClient(**kafka_python_options(kafka_settings))
    ensure_topics(admin, topic_specs(prefix), kafka_settings.replication_factor)

    corpus = build_corpus(PROBLEMS, seed=11)
    # Each problem's last report waits for the second worker (problems reported once are all first run).
    first = [r for group in corpus.problems for r in (group[:-1] if len(group) > 1 else group)]
    later = [group[-1] for group in corpus.problems if len(group) > 1]
    random.Random(3).shuffle(first)
    problem_of = {r.raw.lead_id: r.problem for r in corpus.reports}
    assert len(first) > SKETCHES_PER_ENTRY and later, "the first run must fill more than one dedup entry"
    # Offline, in this order, every report joins its own problem's case and no other.
    grouped = offline_groups(first + later)
    assert all(problem_of[grouped[r.raw.lead_id]] == r.problem for r in corpus.reports)

    producer = KafkaProducer(**kafka_python_options(kafka_settings), acks="all")
    worker = Worker(args, tmp_path / "worker.log")
    reader = None

    def produce(reports: list[Report]) -> None:
        futures = []
        for report in reports:
            value, headers = encode(report.raw)
            futures.append(producer.send(f"{prefix}leads.raw", value=value, key=report.raw.key.encode(), headers=headers))
        producer.flush(timeout=30)
        for future in futures:
            future.get(timeout=10)

    def routed() -> dict[str, Lead]:
        leads = (decode(r.value, r.headers, Lead) for r in reader.records[f"{prefix}leads.routed"])
        return {lead.lead_id: lead for lead in leads}

    def case_states() -> dict[str, Case]:
        return {case.case_id: case for case in (decode(r.value, r.headers, Case) for r in reader.records[f"{prefix}cases.state"])}

    def dedup_entries() -> dict[str, dict]:
        return {_key(r.key): json.loads(r.value) for r in reader.records[dedup_log]}

    def book_entries() -> dict[str, dict]:
        return {_key(r.key): json.loads(r.value) for r in reader.records[book_log]}

    try:
        # --- the first worker: the first reports of every problem
        worker.start()
        produce(first)
        deadline = time.monotonic() + 60
        while {dedup_log, book_log} - set(admin.list_topics()) and time.monotonic() < deadline:
            time.sleep(0.2)  # faust makes its changelog topics as it starts
        reader = Reader(kafka_settings, {f"{prefix}leads.routed": 6, f"{prefix}cases.state": 3, dedup_log: 1, book_log: 1})
        first_ids = {r.raw.lead_id for r in first}
        reader.until("the first reports routed", lambda: first_ids <= set(routed()), worker)
        case_of = {lead_id: lead.case_id for lead_id, lead in routed().items()}
        first_count = {}  # problem -> (its case, the reports of it the first run routed)
        for group in corpus.problems:
            ids = [r.raw.lead_id for r in group if r.raw.lead_id in first_ids]
            (case_id,) = {case_of[i] for i in ids}
            assert case_id in ids
            first_count[group[0].problem] = (case_id, len(ids))
        assert len({case for case, _ in first_count.values()}) == len(corpus.problems)

        # What the second worker will have to go on: the changelogs as the worker writes them now.
        def sketched() -> list[str]:
            return [row[0] for entry in dedup_entries().values() for row in entry.get("sketches", [])]

        reader.until("the first run's sketches in the dedup changelog", lambda: len(sketched()) >= len(first), worker)
        entries = dedup_entries()
        assert len(entries) >= 2 and all(key.startswith("seq:") for key in entries)
        assert all(0 < len(entry["sketches"]) <= SKETCHES_PER_ENTRY for entry in entries.values())
        assert sorted(sketched()) == sorted(first_ids)  # each lead's sketch once, in the batch-written entries
        expected_book = {case_id: count for case_id, count in first_count.values()}
        reader.until(
            "the first run's cases in the case book's changelog",
            lambda: {k: v["report_count"] for k, v in book_entries().items()} == expected_book, worker,
        )  # fmt: skip

        worker.stop()
        assert worker.proc.returncode == 0, Path(worker.log_path).read_text(errors="replace")[-3000:]
        # Nothing local survives: the next worker (a new process, memory stores) has only the changelogs.
        shutil.rmtree(Path(tempfile.gettempdir()) / f"leadhub-streams-{app_id}", ignore_errors=True)

        # --- a fresh worker: the last report of each problem reported more than once
        worker.start()
        produce(later)
        later_ids = {r.raw.lead_id for r in later}
        reader.until("the later reports routed", lambda: later_ids <= set(routed()), worker)
        leads = routed()
        for report in later:
            case_id, count = first_count[report.problem]
            lead = leads[report.raw.lead_id]
            # The dedup memory came back: the re-post joins the case the first worker opened ...
            assert (lead.case_id, lead.is_primary) == (case_id, False), f"{lead.lead_id} opened or joined another case"
            # ... and the case book did: its count goes on from the first run's.
            assert f"reports:{count + 1}" in lead.priority_reasons, (lead.lead_id, count, lead.priority_reasons)

        groups = {first_count[g[0].problem][0]: g for g in corpus.problems}
        reader.until(
            "every case's final state on cases.state",
            lambda: all(case_states().get(c) and case_states()[c].report_count == len(g) for c, g in groups.items()), worker,
        )  # fmt: skip
        states = case_states()
        assert set(states) == set(groups), "a case was opened that the first run did not have"
        for case_id, group in groups.items():
            case = states[case_id]
            assert case.report_count == len(group)
            assert set(case.lead_ids) == {r.raw.lead_id for r in group}
            assert set(case.sources) == {r.raw.source for r in group}
    finally:
        worker.stop()
        producer.close()
        if reader is not None:
            reader.close()
        delete_topics(admin, [t for t in admin.list_topics() if t.startswith(prefix) or t.startswith(f"{app_id}-")])
        admin.close()
