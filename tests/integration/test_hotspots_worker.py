"""Hotspots on the cluster: raw leads through the real faust worker come out as a Hotspot record on the
hotspots topic, the search sink writes it into the hotspots index, and a restarted worker rebuilds the
detector from leads.routed and goes on with the same hotspot."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import time
import uuid

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from adapters.kafka_clients import kafka_python_options
from adapters.search_backend import SearchBackend
from leadhub.settings import build_settings, parse_overrides
from schemas.hotspots import Hotspot
from schemas.leads import RawLead
from schemas.serialization import decode, encode
from sinks.batch import BatchLimits
from sinks.writer import SearchSink
from tests.integration.test_streams_worker import Worker, _free_port

pytestmark = pytest.mark.integration

T = dt.datetime(2024, 5, 1, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))
ROADS = ["工人北路", "宾王路", "稠州中路", "城中中路", "丹溪北路", "篁园路", "江滨北路"]


def street_light(i: int) -> RawLead:
    road = ROADS[i]
    return RawLead(
        source="hotline-x", channel="hotline", external_id=f"light-{i}", title=f"{road}路灯不亮",
        body=f"稠城街道{road}第{i + 3}段的路灯已经坏了{i + 2}天，晚上一片漆黑，行人走路很不安全，请尽快派人维修。",
        published_at=T + dt.timedelta(hours=i),
    )  # fmt: skip


def test_leads_through_the_worker_make_a_hotspot_in_the_topic_and_the_index_and_a_restart_goes_on(kafka_settings, search, tmp_path):
    run = uuid.uuid4().hex[:8]
    overrides = [f"kafka.topic_prefix=h{run}.", f"search.index_prefix=h{run}", f"streams.app_id=lh-hot-{run}",
                 f"streams.web_port={_free_port()}", "hotspots.p_threshold=0.01", "hotspots.min_count=5"]  # fmt: skip
    args = [a for o in overrides for a in ("--set", o)]
    for command in (["topics", "create"], ["index", "init"]):
        subprocess.run([sys.executable, "-m", "leadhub", *args, *command], check=True, capture_output=True)
    settings = build_settings(overrides=parse_overrides(overrides))
    worker = Worker(args, tmp_path / "worker.log")
    worker.start()
    sink = SearchSink(settings, group_id=f"hot-{run}", limits=BatchLimits(max_age_s=0.1))
    thread = threading.Thread(target=sink.run, daemon=True)
    thread.start()
    producer = KafkaProducer(**kafka_python_options(kafka_settings), acks="all")
    # Assigned, not subscribed: a group joined before the client knows the new topic's partitions gets an
    # empty assignment until its next metadata refresh (minutes), and the test saw nothing.
    hotspots = KafkaConsumer(**kafka_python_options(kafka_settings), group_id=None, enable_auto_commit=False)
    deadline = time.monotonic() + 30
    while not hotspots.partitions_for_topic(f"h{run}.hotspots") and time.monotonic() < deadline:
        time.sleep(0.2)
    hotspots.assign([TopicPartition(f"h{run}.hotspots", 0)])
    hotspots.seek_to_beginning()
    routed = KafkaConsumer(**kafka_python_options(kafka_settings), group_id=None, enable_auto_commit=False)
    routed.assign([TopicPartition(f"h{run}.leads.routed", p) for p in range(6)])
    routed.seek_to_beginning()
    backend = SearchBackend.from_settings(settings.search)

    def send(*leads: RawLead) -> None:
        for lead in leads:
            value, headers = encode(lead)
            producer.send(f"h{run}.leads.raw", value=value, key=lead.key.encode(), headers=headers).get(timeout=10)

    def next_hotspot(timeout: float = 120) -> Hotspot:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert worker.proc.poll() is None, (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
            for records in hotspots.poll(timeout_ms=500).values():
                for record in records:
                    return decode(record.value, record.headers, Hotspot)
        seen = sum(len(records) for records in routed.poll(timeout_ms=2000, max_records=1000).values())
        raise AssertionError(f"no hotspot record ({seen} leads routed): " + (tmp_path / "worker.log").read_text(errors="replace")[-3000:])

    def indexed(hotspot_id: str, count: int, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = backend.get(f"h{run}-hotspots", hotspot_id)
            if found and found["_source"]["count"] == count:
                return found["_source"]
            time.sleep(0.3)
        raise AssertionError(f"hotspot {hotspot_id} with count {count} is not in the index")

    try:
        send(*[street_light(i) for i in range(5)])
        surge = next_hotspot()
        assert (surge.kind, surge.category, surge.place, surge.count) == ("surge", "城乡建设", "稠城街道", 5)
        doc = indexed(surge.hotspot_id, 5)
        assert doc["status"] == "new" and doc["case_ids"] == surge.case_ids

        worker.stop()
        worker.start()  # the detector's state is rebuilt from leads.routed
        send(street_light(5))
        grown = next_hotspot()
        assert (grown.hotspot_id, grown.count) == (surge.hotspot_id, 6)
        indexed(surge.hotspot_id, 6)
    finally:
        worker.stop()
        sink.stop()
        thread.join(timeout=30)
        producer.close()
        hotspots.close()
        routed.close()
        for kind in ("leads", "cases", "hotspots"):
            for index in backend.get_alias(f"h{run}-{kind}"):
                backend.delete_index(index)
        backend.close()
