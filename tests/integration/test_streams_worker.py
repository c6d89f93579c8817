"""The faust worker against the real Kafka: raw lead in, routed lead out; poison to DLQ; restart."""

import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest
from kafka import KafkaConsumer, KafkaProducer

from adapters.kafka_clients import kafka_python_options
from schemas.dead_letters import DeadLetter
from schemas.leads import Lead, RawLead
from schemas.serialization import decode, encode

pytestmark = pytest.mark.integration

POST = (
    "稠城街道绣湖社区幸福小区3号楼的电梯已经停运一周了，物业一直说在等配件。楼里住着很多老人，"
    "上下楼非常困难，存在安全隐患，希望有关部门督促物业尽快维修电梯。我的电话13812345678。"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Worker:
    def __init__(self, args: list[str], log_path):
        self.args = args
        self.log_path = log_path
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "leadhub", *self.args, "streams", "worker"], stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture
def pipeline(kafka_settings, tmp_path):
    run = uuid.uuid4().hex[:8]
    prefix = f"s{run}."
    args = ["--set", f"kafka.topic_prefix={prefix}", "--set", f"streams.app_id=lh-test-{run}",
            "--set", f"streams.web_port={_free_port()}"]  # fmt: skip
    subprocess.run([sys.executable, "-m", "leadhub", *args, "topics", "create"], check=True, capture_output=True)
    worker = Worker(args, tmp_path / "worker.log")
    worker.start()
    producer = KafkaProducer(**kafka_python_options(kafka_settings), acks="all")
    consumer = KafkaConsumer(
        f"{prefix}leads.routed", f"{prefix}leads.dlq", **kafka_python_options(kafka_settings),
        group_id=f"reader-{run}", auto_offset_reset="earliest",
    )  # fmt: skip

    def send(value: bytes, headers, key: bytes):
        producer.send(f"{prefix}leads.raw", value=value, key=key, headers=headers).get(timeout=10)

    def send_lead(lead: RawLead):
        value, headers = encode(lead)
        send(value, headers, lead.key.encode())

    def wait_for(predicate, timeout=90):
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            assert worker.proc.poll() is None, "the worker exited: " + (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
            for records in consumer.poll(timeout_ms=500).values():
                for r in records:
                    item = decode(r.value, r.headers, DeadLetter if r.topic.endswith("dlq") else Lead)
                    seen.append(item)
                    if predicate(item):
                        return item
        log = (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
        raise AssertionError(f"nothing matched within {timeout}s; saw {len(seen)} records; worker log tail:\n{log}")

    yield send, send_lead, wait_for, worker
    worker.stop()
    producer.close()
    consumer.close()


def test_raw_lead_comes_out_routed_poison_goes_to_dlq_and_cases_survive_a_restart(pipeline):
    send, send_lead, wait_for, worker = pipeline
    first = RawLead(source="forum-yiwu", channel="forum", external_id="t-1", title="小区电梯停运一周无人修", body=f"<p>{POST}</p>")
    send_lead(first)
    routed = wait_for(lambda x: isinstance(x, Lead) and x.lead_id == first.lead_id)
    assert routed.category.level1 == "城乡建设" and routed.department
    assert routed.place.town == "稠城街道" and routed.place.community == "绣湖社区"
    assert routed.priority > 40 and any(r.startswith("safety:") for r in routed.priority_reasons)
    assert routed.case_id == first.lead_id and routed.is_primary
    assert "13812345678" not in routed.text and "mobile" in routed.pii_types

    send(b"\xff\xfe not json", [("schema", b"RawLead/1")], b"poison")
    letter = wait_for(lambda x: isinstance(x, DeadLetter))
    assert letter.payload == b"\xff\xfe not json" and letter.stage == "normalize" and "UTF-8" in letter.error

    after_poison = RawLead(source="forum-yiwu", channel="forum", external_id="t-2", title="路灯不亮", body="江东街道某路段路灯坏了一个月，晚上一片漆黑。")
    send_lead(after_poison)
    assert wait_for(lambda x: isinstance(x, Lead) and x.lead_id == after_poison.lead_id).case_id == after_poison.lead_id

    worker.stop()
    worker.start()
    repost = RawLead(source="hotline-12345", channel="hotline", external_id="WO-9", title="", body="市民来电反映：" + POST[:70])
    send_lead(repost)
    joined = wait_for(lambda x: isinstance(x, Lead) and x.lead_id == repost.lead_id, timeout=120)
    assert joined.case_id == first.lead_id and not joined.is_primary
    assert "reports:2" in joined.priority_reasons
