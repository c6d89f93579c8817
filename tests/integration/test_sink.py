"""The search sink against the real Kafka and each search engine (OpenSearch, the local Elasticsearch 9)."""

import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest
from kafka import KafkaConsumer, KafkaProducer

from adapters.kafka_clients import kafka_python_options
from leadhub.cli import main
from leadhub.settings import build_settings, parse_overrides
from schemas.cases import Case, CaseEvent
from schemas.dead_letters import DeadLetter
from schemas.leads import Category, Lead
from schemas.serialization import decode, encode
from sinks.batch import BatchLimits
from sinks.writer import SearchSink

pytestmark = pytest.mark.integration


def lead(i: int, run: str, **changes) -> Lead:
    fields = dict(
        lead_id=f"{run}-lead-{i}", source="forum-yiwu", channel="forum", external_id=str(i),
        title=f"第{i}号反映：小区电梯停运", text=f"稠城街道幸福小区{i}号楼电梯停运，物业不修。",
        fetched_at="2024-05-01T10:00:00+08:00", category=Category(level1="城乡建设"),
        case_id=f"{run}-case-{i % 10}", priority=30,
    )  # fmt: skip
    return Lead(**(fields | changes))


@pytest.fixture
def env(kafka_settings, engine, engine_search, tmp_path):
    search = engine_search
    run = uuid.uuid4().hex[:8]
    overrides = [*engine.overrides, f"kafka.topic_prefix=k{run}.", f"search.index_prefix=i{run}", "search.request_timeout=3"]
    args = [a for o in overrides for a in ("--set", o)]
    assert main([*args, "topics", "create"]) == 0
    assert main([*args, "index", "init"]) == 0
    settings = build_settings(overrides=parse_overrides(overrides))
    producer = KafkaProducer(**kafka_python_options(settings.kafka), acks="all")

    class Env:
        pass

    e = Env()
    e.run, e.args, e.settings, e.search, e.tmp, e.engine = run, args, settings, search, tmp_path, engine
    e.leads_index, e.cases_index = f"i{run}-leads", f"i{run}-cases"

    def send(topic, model, key):
        value, headers = encode(model)
        producer.send(f"k{run}.{topic}", value=value, key=key.encode(), headers=headers)

    def flush():
        producer.flush()

    def count(index):
        search.refresh(index)
        return search.count(index)

    def wait_count(index, n, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if count(index) >= n:
                return count(index)
            time.sleep(0.3)
        return count(index)

    def dead_letters(expected, timeout=30):
        consumer = KafkaConsumer(
            f"k{run}.leads.dlq", **kafka_python_options(settings.kafka), group_id=f"dlq-{uuid.uuid4().hex[:6]}",
            auto_offset_reset="earliest", consumer_timeout_ms=timeout * 1000,
        )  # fmt: skip
        found = []
        for record in consumer:
            found.append(decode(record.value, record.headers, DeadLetter))
            if len(found) >= expected:
                break
        consumer.close()
        return found

    e.send, e.flush, e.count, e.wait_count, e.dead_letters = send, flush, count, wait_count, dead_letters
    yield e
    producer.close()
    for kind in ("leads", "cases"):
        for index in search.get_alias(f"i{run}-{kind}"):
            search.delete_index(index)


def start_sink(env, group="sink", **limits):
    sink = SearchSink(env.settings, group_id=f"{group}-{env.run}", limits=BatchLimits(**limits) if limits else None)
    thread = threading.Thread(target=sink.run, daemon=True)
    thread.start()
    return sink, thread


def stop_sink(sink, thread):
    sink.stop()
    thread.join(timeout=30)
    assert not thread.is_alive()


def case_state(run, n, count):
    return Case(case_id=f"{run}-case-{n}", title="电梯停运", report_count=count, channels=["forum"], sources=["forum-yiwu"],
                lead_ids=[f"{run}-lead-{i}" for i in range(count)])  # fmt: skip


def test_a_batch_lands_is_searchable_and_a_replay_changes_nothing(env):
    for i in range(300):
        env.send("leads.routed", lead(i, env.run), f"{env.run}-lead-{i}")
    for n in range(10):
        for c in (1, 2, 3):
            env.send("cases.state", case_state(env.run, n, c), f"{env.run}-case-{n}")
    env.flush()
    sink, thread = start_sink(env)
    try:
        assert env.wait_count(env.leads_index, 300) == 300
        assert env.wait_count(env.cases_index, 10) == 10
        hits = env.search.search(env.leads_index, {"query": {"match": {"text": "电梯"}}, "size": 0, "track_total_hits": True})
        assert hits["hits"]["total"]["value"] == 300
    finally:
        stop_sink(sink, thread)
    doc = env.search.get(env.cases_index, f"{env.run}-case-3")["_source"]
    assert doc["report_count"] == 3 and doc["status"] == "new"

    # A second sink (another group) replays every message from the start: nothing changes.
    sink, thread = start_sink(env, group="replay")
    try:
        time.sleep(5)
    finally:
        stop_sink(sink, thread)
    assert sink.metrics.documents == 300 + 30
    assert env.count(env.leads_index) == 300 and env.count(env.cases_index) == 10
    assert env.search.get(env.cases_index, f"{env.run}-case-3")["_source"]["report_count"] == 3


def test_an_older_case_state_never_overwrites_a_newer_one(env):
    env.send("cases.state", case_state(env.run, 1, 5), f"{env.run}-case-1")
    env.flush()
    sink, thread = start_sink(env)
    try:
        assert env.wait_count(env.cases_index, 1) == 1
    finally:
        stop_sink(sink, thread)
    from sinks.documents import case_state_actions

    stale = case_state_actions(case_state(env.run, 1, 2), offset=-1, index=env.cases_index)
    env.search.bulk(stale, refresh="wait_for")
    assert env.search.get(env.cases_index, f"{env.run}-case-1")["_source"]["report_count"] == 5


def test_refused_documents_and_illegal_events_become_dead_letters_while_the_rest_land(env):
    for i in range(20):
        env.send("leads.routed", lead(i, env.run), f"{env.run}-lead-{i}")
    # A keyword longer than Lucene's 32 766-byte term limit: the engine refuses this one document.
    env.send("leads.routed", lead(99, env.run, author="作" * 12_000), f"{env.run}-lead-99")
    case_id = f"{env.run}-case-1"
    env.send("cases.state", case_state(env.run, 1, 2), case_id)
    env.send("cases.events", CaseEvent(case_id=case_id, action="accept", actor="张三"), case_id)
    env.send("cases.events", CaseEvent(case_id=case_id, action="resolve", actor="张三", note="已修"), case_id)  # illegal
    env.send("cases.events", CaseEvent(case_id=case_id, action="assign", actor="张三", department="市住建局"), case_id)
    env.flush()
    sink, thread = start_sink(env)
    try:
        assert env.wait_count(env.leads_index, 20) == 20
        letters = env.dead_letters(2)
    finally:
        stop_sink(sink, thread)
    assert env.count(env.leads_index) == 20
    by_type = {d.error_type: d for d in letters}
    refused = by_type["RuntimeError"]
    assert refused.details["status"] == 400 and "lead-99" in refused.payload.decode()
    assert "cannot resolve case" in by_type["IllegalTransition"].error
    case = env.search.get(env.cases_index, case_id)["_source"]
    assert case["status"] == "assigned" and case["department"] == "市住建局" and case["report_count"] == 2
    assert [h["action"] for h in case["history"]] == ["accept", "assign"]


def test_a_lone_lead_is_searchable_within_about_a_second(env):
    sink, thread = start_sink(env)
    try:
        time.sleep(3)  # joined and idle
        one = lead(1, env.run, title="独一无二的测试标题")
        started = time.monotonic()
        env.send("leads.routed", one, one.lead_id)
        env.flush()
        while time.monotonic() - started < 10:
            hits = env.search.search(env.leads_index, {"query": {"term": {"lead_id": one.lead_id}}})["hits"]["hits"]
            if hits:
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - started
    finally:
        stop_sink(sink, thread)
    assert hits, "the lead never became searchable"
    print(f"lone lead searchable after {elapsed:.2f} s")
    assert elapsed < 3.0, f"searchable after {elapsed:.2f} s"


def _engine_pid(engine):
    """The engine's process group leader as `leadhub services up` started it (Elasticsearch's is its
    launcher, the node its child: the signals go to the whole group)."""
    from deploy.local.manager import local_services

    service = next(s for s in local_services(build_settings(), [engine.name]) if s.name == engine.name)
    record = service.record()
    assert record and record.alive(), f"the test needs the {service.label} that `leadhub services up` started"
    return record.pid


def test_search_engine_unavailable_mid_run_loses_and_duplicates_nothing(env):
    sink, thread = start_sink(env, max_items=200)
    pid = _engine_pid(env.engine)
    try:
        for i in range(500):
            env.send("leads.routed", lead(i, env.run), f"{env.run}-lead-{i}")
        env.flush()
        assert env.wait_count(env.leads_index, 100) >= 100
        os.killpg(pid, signal.SIGSTOP)  # the engine stops answering, connections hang
        try:
            for i in range(500, 1000):
                env.send("leads.routed", lead(i, env.run), f"{env.run}-lead-{i}")
            env.flush()
            time.sleep(8)
        finally:
            os.killpg(pid, signal.SIGCONT)
        assert env.wait_count(env.leads_index, 1000, timeout=90) == 1000
    finally:
        stop_sink(sink, thread)
    assert sink.metrics.retries >= 1
    assert env.count(env.leads_index) == 1000


def test_sigkill_of_the_sink_and_a_restart_lose_nothing(env):
    log = open(env.tmp / "sink.log", "ab")
    command = [sys.executable, "-m", "leadhub", *env.args, "sink", "run", "--max-items", "100"]

    def produce(numbers):
        for i in numbers:
            env.send("leads.routed", lead(i, env.run), f"{env.run}-lead-{i}")
            if i % 10 == 0:
                env.send("cases.state", case_state(env.run, i % 10, 1 + i // 10), f"{env.run}-case-{i % 10}")
        env.flush()

    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        produce(range(1500))
        assert env.wait_count(env.leads_index, 300) >= 300
        proc.send_signal(signal.SIGKILL)  # mid-run: no flush, no commit
        proc.wait(timeout=10)
        landed_before_kill = env.count(env.leads_index)
        produce(range(1500, 3000))
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        assert env.wait_count(env.leads_index, 3000, timeout=90) == 3000
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()
    assert 300 <= landed_before_kill < 3000
    assert env.count(env.leads_index) == 3000
    # The last state of case 0 (lead 2990 -> 300 reports) wins, whatever was replayed after the kill.
    assert env.search.get(env.cases_index, f"{env.run}-case-0")["_source"]["report_count"] == 300
