"""The worker's consumer stops on records it never handled (streams/offsets.py) but not on what a
transactional producer leaves between records: a commit marker takes an offset of its own, so the
fetched offsets jump by one after every transaction. The real worker, the real broker: leads written
to leads.raw in transactions are all routed, the worker keeps running, and its commits pass the markers.
Then the two ways a batch fails to go out: every batch refused (nothing committed), and one batch
refused with later ones going out (the worker stops before a commit passes the refused one)."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import pytest
from confluent_kafka import Producer
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from adapters.kafka_clients import kafka_python_options
from schemas.leads import RawLead, lead_id_for
from schemas.serialization import encode
from tests.integration.test_streams_worker import Worker, _free_port

pytestmark = pytest.mark.integration

TRANSACTIONS, PER_TRANSACTION = 12, 3


def test_leads_written_in_transactions_are_all_routed_and_committed_past_the_markers(kafka_settings, tmp_path):
    run = uuid.uuid4().hex[:8]
    prefix, app_id = f"o{run}.", f"lh-test-offsets-{run}"
    args = ["--set", f"kafka.topic_prefix={prefix}", "--set", f"streams.app_id={app_id}", "--set", f"streams.web_port={_free_port()}",
            "--set", "hot_issues.enabled=false", "--set", "hotspots.enabled=false"]  # fmt: skip
    subprocess.run([sys.executable, "-m", "leadhub", *args, "topics", "create"], check=True, capture_output=True)
    worker = Worker(args, tmp_path / "worker.log")
    worker.start()
    producer = Producer({"bootstrap.servers": ",".join(kafka_settings.servers), "transactional.id": f"leadhub-test-{run}"})
    routed = KafkaConsumer(f"{prefix}leads.routed", **kafka_python_options(kafka_settings), group_id=f"reader-{run}", auto_offset_reset="earliest")
    offsets = KafkaConsumer(**kafka_python_options(kafka_settings), group_id=app_id, enable_auto_commit=False)
    try:
        producer.init_transactions(30)
        keys = set()
        for t in range(TRANSACTIONS):
            producer.begin_transaction()
            for i in range(PER_TRANSACTION):
                n = t * PER_TRANSACTION + i
                lead = RawLead(source="forum-x", channel="forum", external_id=f"tx{n}", title=f"第{n}号路灯不亮",
                               body=f"宾王路第{n}号路灯坏了{n + 2}天，晚上很黑。")  # fmt: skip
                value, headers = encode(lead)
                producer.produce(f"{prefix}leads.raw", value=value, key=lead.key.encode(), headers=headers)
                keys.add(lead.key)
            producer.commit_transaction(30)

        seen: set[bytes] = set()
        deadline = time.monotonic() + 120
        while len(seen) < len(keys) and time.monotonic() < deadline:
            assert worker.proc.poll() is None, "the worker stopped: " + (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
            for records in routed.poll(timeout_ms=500).values():
                seen.update(r.key for r in records)
        assert len(seen) == len(keys), f"{len(seen)} of {len(keys)} leads routed"

        # Every partition's commit passes its last record: the markers between transactions were stepped over.
        partitions = [TopicPartition(f"{prefix}leads.raw", p) for p in range(6)]
        last_record = _last_record_offsets(kafka_settings, partitions)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            committed = {tp: offsets.committed(tp) or 0 for tp in last_record}
            if all(committed[tp] > last for tp, last in last_record.items()):
                break
            time.sleep(1)
        assert all(committed[tp] > last for tp, last in last_record.items()), (committed, last_record)
        assert any(last >= 2 * PER_TRANSACTION for last in last_record.values())  # markers lay between the records
        assert worker.proc.poll() is None
        assert "stopping the worker" not in (tmp_path / "worker.log").read_text(errors="replace")
    finally:
        worker.stop()
        routed.close()
        offsets.close()


def _last_record_offsets(kafka_settings, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
    """The offset of each partition's last record (not its end: a commit marker follows it)."""
    reader = KafkaConsumer(**kafka_python_options(kafka_settings), group_id=None, enable_auto_commit=False)
    try:
        reader.assign(partitions)
        reader.seek_to_beginning()
        last: dict[TopicPartition, int] = {}
        for _ in range(20):
            for tp, records in reader.poll(timeout_ms=500).items():
                last[tp] = max(last.get(tp, -1), *(r.offset for r in records))
        return last
    finally:
        reader.close()


def test_a_batch_whose_outputs_the_broker_refuses_is_not_committed_and_a_restart_routes_it(kafka_settings, tmp_path):
    """leads.routed refuses every record (max.message.bytes 100): the route stage's batches fail. Their
    offsets on leads.clean must stay uncommitted (faust's take_events acknowledged a batch when its
    generator closed, failed or not), so that once the topic takes records again a restarted worker
    routes every lead."""
    run, prefix, app_id, args, admin, routed_topic = _routed_refusing(kafka_settings, "q", "100")
    worker = Worker(args, tmp_path / "worker.log")
    worker.start()
    producer = KafkaProducer(**kafka_python_options(kafka_settings), acks="all")
    offsets = KafkaConsumer(**kafka_python_options(kafka_settings), group_id=app_id, enable_auto_commit=False)
    routed = KafkaConsumer(routed_topic, **kafka_python_options(kafka_settings), group_id=f"reader-{run}", auto_offset_reset="earliest")
    clean = TopicPartition(f"{prefix}leads.clean", 0)
    try:
        keys = set()
        for n in range(20):
            lead = RawLead(source="forum-x", channel="forum", external_id=f"rf{n}", title=f"第{n}号井盖丢失",
                           body=f"宾王路第{n}号井盖丢了，行人很危险。")  # fmt: skip
            value, headers = encode(lead)
            producer.send(f"{prefix}leads.raw", value=value, key=lead.key.encode(), headers=headers).get(timeout=10)
            keys.add(lead.key)
        # normalize passes them on; route's sends to leads.routed are refused, batch after batch
        deadline = time.monotonic() + 90
        while _end(kafka_settings, clean) < len(keys) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _end(kafka_settings, clean) == len(keys)
        time.sleep(15)  # several of faust's commit intervals (2.8 s) with the failed batches in hand
        assert not (offsets.committed(clean) or 0), "leads.clean was committed past leads never routed"
        assert not routed.poll(timeout_ms=1000)

        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, routed_topic, configs={"max.message.bytes": "8388608"})])
        worker.stop()
        worker.start()
        seen = _read_keys(routed, {lead_id_for("forum-x", f"rf{n}").encode() for n in range(20)})
        assert len(seen) == len(keys), f"{len(seen)} of {len(keys)} leads routed after the restart"
    finally:
        worker.stop()
        producer.close()
        offsets.close()
        routed.close()
        admin.close()


def _routed_refusing(kafka_settings, letter: str, max_bytes: str) -> tuple[str, str, str, list[str], KafkaAdminClient, str]:
    """A run's topics, with leads.routed taking records of at most ``max_bytes``: (run, topic prefix,
    app id, the worker's arguments, an admin client, leads.routed's name)."""
    run = uuid.uuid4().hex[:8]
    prefix, app_id = f"{letter}{run}.", f"lh-test-refused-{run}"
    args = ["--set", f"kafka.topic_prefix={prefix}", "--set", f"streams.app_id={app_id}", "--set", f"streams.web_port={_free_port()}",
            "--set", "hot_issues.enabled=false", "--set", "hotspots.enabled=false"]  # fmt: skip
    subprocess.run([sys.executable, "-m", "leadhub", *args, "topics", "create"], check=True, capture_output=True)
    admin = KafkaAdminClient(**kafka_python_options(kafka_settings))
    routed_topic = f"{prefix}leads.routed"
    admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, routed_topic, configs={"max.message.bytes": max_bytes})])
    return run, prefix, app_id, args, admin, routed_topic


def _read_keys(routed: KafkaConsumer, wanted: set[bytes], timeout: float = 120) -> set[bytes]:
    """The keys read from ``routed`` until all of ``wanted`` came, or ``timeout`` seconds passed."""
    seen: set[bytes] = set()
    deadline = time.monotonic() + timeout
    while not wanted <= seen and time.monotonic() < deadline:
        for records in routed.poll(timeout_ms=500).values():
            seen.update(r.key for r in records)
    return seen


def _end(kafka_settings, tp: TopicPartition) -> int:
    reader = KafkaConsumer(**kafka_python_options(kafka_settings), group_id=None)
    try:
        return reader.end_offsets([tp])[tp]
    finally:
        reader.close()


def test_a_refused_batch_then_batches_that_go_out_stop_the_worker_before_its_offset_is_committed(kafka_settings, tmp_path):
    """The case the gap guard is for, with the real worker and broker: the route stage's batch holding one
    large lead is refused by leads.routed (max.message.bytes 50,000), faust restarts the crashed agent,
    and the leads after it are routed and acknowledged. Committing them would commit past the refused
    lead; the worker must stop (exit 75) first, leads.clean stay uncommitted at that lead, and a restart
    (the topic taking large records again) route it."""
    run, prefix, app_id, args, admin, routed_topic = _routed_refusing(kafka_settings, "g", "50000")
    log_path = tmp_path / "worker.log"
    worker = Worker(args, log_path)
    worker.start()
    producer = KafkaProducer(**kafka_python_options(kafka_settings), acks="all")
    offsets = KafkaConsumer(**kafka_python_options(kafka_settings), group_id=app_id, enable_auto_commit=False)
    routed = KafkaConsumer(routed_topic, **kafka_python_options(kafka_settings), group_id=f"reader-{run}", auto_offset_reset="earliest")
    clean = TopicPartition(f"{prefix}leads.clean", 0)

    def send(lead: RawLead) -> bytes:
        value, headers = encode(lead)
        producer.send(f"{prefix}leads.raw", value=value, key=lead.key.encode(), headers=headers).get(timeout=10)
        return lead_id_for(lead.source, lead.external_id).encode()  # the key on leads.routed

    try:
        large = send(RawLead(source="forum-x", channel="forum", external_id="large", title="长篇投诉：小区地下车库长期积水",
                             body="地下车库积水严重，车辆无法进出。" * 4000))  # fmt: skip
        deadline = time.monotonic() + 90
        while _end(kafka_settings, clean) < 1 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _end(kafka_settings, clean) == 1, "normalize did not pass the large lead on"
        time.sleep(5)  # the route stage's batch with it is refused
        small = set()
        for n in range(6):
            small.add(send(RawLead(source="forum-x", channel="forum", external_id=f"s{n}", title=f"第{n}号路灯不亮",
                                   body=f"宾王路第{n}号路灯坏了，晚上很黑。")))  # fmt: skip
            time.sleep(1)

        deadline = time.monotonic() + 90
        while worker.proc.poll() is None and time.monotonic() < deadline:
            assert not (offsets.committed(clean) or 0), "leads.clean was committed past the refused lead, never routed"
            time.sleep(0.5)
        log = log_path.read_text(errors="replace")
        assert worker.proc.poll() == 75, f"exit {worker.proc.poll()}: " + log[-3000:]
        assert "offsets 0-0 were never handled" in log, log[-3000:]
        assert not (offsets.committed(clean) or 0), "leads.clean was committed past the refused lead, never routed"

        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, routed_topic, configs={"max.message.bytes": "8388608"})])
        worker.stop()
        worker.start()
        seen = _read_keys(routed, {large, *small})
        assert {large, *small} <= seen, f"routed after the restart: {len(seen & {large, *small})} of {1 + len(small)}"
    finally:
        worker.stop()
        producer.close()
        offsets.close()
        routed.close()
        admin.close()
