"""The streams worker switches model versions while running, on the real Kafka (issue 21): a lead routed
by the promoted version, `leadhub model promote` of another, and within a minute (the default
routing.model_check_seconds, 30 s) the worker routes with it, with no restart. The two versions are
tiny models trained here on rows this file writes (no trained model may be committed), the second on
swapped labels, so the switch shows in the category as well as in model_version."""

from __future__ import annotations

import io
import subprocess
import sys
import time
import uuid
from contextlib import redirect_stdout

import pytest
from kafka import KafkaConsumer, KafkaProducer

from adapters.kafka_clients import kafka_python_options
from leadhub.cli import main
from schemas.leads import Lead, RawLead
from schemas.serialization import decode, encode
from tests.integration.test_streams_worker import Worker, _free_port

pytestmark = pytest.mark.integration

TITLE, BODY = "小区电梯坏了", "幸福小区3号楼电梯停运一周，物业一直不修，老人上下楼很困难"


def _train(tmp, model_dir, swap: bool) -> None:
    a, b = ("城乡建设", "劳动和社会保障") if not swap else ("劳动和社会保障", "城乡建设")
    rows = ["title,text,label"] + [f"电梯{i},小区电梯坏了物业不修第{i}次,{a}\n工资{i},公司拖欠工资第{i}个月,{b}" for i in range(30)]
    data = tmp / f"train-{swap}.csv"
    data.write_text("\n".join(rows), encoding="utf-8")
    with redirect_stdout(io.StringIO()):
        assert main(["--set", f"routing.model_dir={model_dir}", "model", "train", "--data", str(data),
                     "--text-col", "title,text", "--label-col", "label"]) == 0  # fmt: skip


def test_the_worker_switches_to_a_promoted_version_without_restart(kafka_settings, tmp_path):
    model_dir = tmp_path / "models"
    _train(tmp_path, model_dir, swap=False)  # v0001
    _train(tmp_path, model_dir, swap=True)  # v0002
    run = uuid.uuid4().hex[:8]
    prefix = f"m{run}."
    args = ["--set", f"kafka.topic_prefix={prefix}", "--set", f"streams.app_id=lh-test-{run}",
            "--set", f"streams.web_port={_free_port()}", "--set", f"routing.model_dir={model_dir}"]  # fmt: skip
    leadhub = [sys.executable, "-m", "leadhub", *args]
    subprocess.run([*leadhub, "model", "promote", "v0001"], check=True, capture_output=True)
    subprocess.run([*leadhub, "topics", "create"], check=True, capture_output=True)
    worker = Worker(args, tmp_path / "worker.log")
    worker.start()
    producer = KafkaProducer(**kafka_python_options(kafka_settings), acks="all")
    consumer = KafkaConsumer(f"{prefix}leads.routed", **kafka_python_options(kafka_settings), group_id=f"reader-{run}",
                             auto_offset_reset="earliest")  # fmt: skip

    def send(n: int) -> RawLead:
        lead = RawLead(source="forum-yiwu", channel="forum", external_id=f"hot-{n}", title=TITLE, body=f"{BODY}（第{n}次反映）")
        value, headers = encode(lead)
        producer.send(f"{prefix}leads.raw", value=value, key=lead.key.encode(), headers=headers).get(timeout=10)
        return lead

    routed: dict[str, Lead] = {}

    def collect(timeout_s: float) -> None:
        assert worker.proc.poll() is None, "the worker exited: " + (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
        for records in consumer.poll(timeout_ms=int(timeout_s * 1000)).values():
            for r in records:
                lead = decode(r.value, r.headers, Lead)
                routed[lead.lead_id] = lead

    try:
        first = send(0)
        deadline = time.monotonic() + 120  # the worker's start-up and first rebalance
        while first.lead_id not in routed and time.monotonic() < deadline:
            collect(0.5)
        assert first.lead_id in routed, "the first lead was not routed: " + (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
        before = routed[first.lead_id]
        assert before.model_version == "v0001" and before.category is not None and before.category.level1 == "城乡建设"

        promoted = subprocess.run([*leadhub, "model", "promote", "v0002"], capture_output=True, text=True)
        assert promoted.returncode == 0, promoted.stderr
        promoted_at = time.monotonic()
        # A lead every 5 s: the first routed by v0002 tells how long the switch took.
        sent: list[RawLead] = []
        switched = None
        while switched is None and time.monotonic() - promoted_at < 70:
            if not sent or time.monotonic() - promoted_at > 5 * len(sent):
                sent.append(send(len(sent) + 1))
            collect(0.5)
            switched = next((routed[s.lead_id] for s in sent if s.lead_id in routed and routed[s.lead_id].model_version == "v0002"), None)
        log = (tmp_path / "worker.log").read_text(errors="replace")
        assert switched is not None, f"no lead routed by v0002 within 70 s of the promotion; log tail:\n{log[-3000:]}"
        took = time.monotonic() - promoted_at
        print(f"\nswitched to v0002 {took:.1f} s after the promotion (model_check_seconds 30)")
        assert switched.model_version != before.model_version
        assert switched.category is not None and switched.category.level1 == "劳动和社会保障"  # the swapped model's answer
        assert "routing with model version v0002 (was v0001)" in log
        # Leads routed before the swap kept the version that routed them: no lead is relabelled afterwards.
        assert all(routed[s.lead_id].model_version in ("v0001", "v0002") for s in sent if s.lead_id in routed)
        assert worker.proc.poll() is None  # the same process throughout
    finally:
        worker.stop()
        producer.close()
        consumer.close()
