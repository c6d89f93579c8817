"""`leadhub dlq list/show/replay` in cluster mode, on the real Kafka: dead letters read from leads.dlq
(where the cluster keeps them: the search sink indexes none) and replayed into leads.raw."""

import json
import subprocess
import sys
import uuid

import pytest
import yaml
from kafka import KafkaConsumer

from adapters.kafka_clients import kafka_python_options
from adapters.producer import CheckedProducer
from leadhub.cli import main
from leadhub.demo.dates import WRITTEN_FOR, render_samples
from leadhub.demo.demo import SAMPLES
from schemas.dead_letters import DeadLetter
from schemas.leads import RawLead
from schemas.serialization import decode, encode

pytestmark = pytest.mark.integration


def read_topic(kafka, topic: str) -> list:
    consumer = KafkaConsumer(topic, **kafka_python_options(kafka), group_id=None, auto_offset_reset="earliest",
                             consumer_timeout_ms=5000)  # fmt: skip
    try:
        return list(consumer)
    finally:
        consumer.close()


def test_dead_letters_on_kafka_are_listed_shown_and_replayed(kafka_settings, tmp_path, capsys):
    run = uuid.uuid4().hex[:8]
    prefix = f"q{run}."
    kafka = kafka_settings.model_copy(update={"topic_prefix": prefix})
    samples = render_samples(SAMPLES, tmp_path / "samples", WRITTEN_FOR)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "12345-export.csv").write_bytes((samples / "hotline" / "12345-export.csv").read_bytes())
    template = yaml.safe_load((SAMPLES / "sources.yaml.template").read_text(encoding="utf-8"))
    (hotline,) = [s for s in template["sources"] if s["kind"] == "hotline_files"]
    hotline["options"]["inbox"] = str(inbox)
    (tmp_path / "sources.yaml").write_text(yaml.safe_dump({"sources": [hotline]}, allow_unicode=True), encoding="utf-8")
    args = ["--set", f"kafka.topic_prefix={prefix}", "--set", f"ingest.sources={tmp_path / 'sources.yaml'}",
            "--set", f"ingest.state_db={tmp_path / 'state.sqlite'}", "--set", "cli.role=admin"]  # fmt: skip
    assert main([*args, "topics", "create"]) == 0
    # A real source's bad row (the export's row 18 has no 工单编号) goes to leads.dlq ...
    assert main([*args, "ingest", "run", "--all"]) == 0
    # ... and so does a record a stage could not decode, as the stages write it.
    stage_letter = DeadLetter(stage="normalize", error_type="DecodeError", error="message is not valid UTF-8 at byte 1",
                              payload=b"{\xff}", key=b"yiwu-news:n-7", topic=f"{prefix}leads.raw", partition=3, offset=41)  # fmt: skip
    producer = CheckedProducer(kafka)
    value, headers = encode(stage_letter)
    producer.send("leads.dlq", value, stage_letter.key, headers)
    producer.close()
    capsys.readouterr()

    assert main([*args, "dlq", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 2
    by_stage = {entry["stage"]: entry for entry in listed}
    row, stage = by_stage["ingest:hotline-12345"], by_stage["normalize"]
    assert row["id"] == "0:0" and stage["id"] == "0:1"  # PARTITION:OFFSET on leads.dlq
    assert row["where"] == "12345-export.csv row 18" and row["source"] == "hotline-12345"
    assert row["reason"] == "external_id: String should have at least 1 character"
    assert stage["where"] == f"{prefix}leads.raw[3]@41" and stage["key"] == "yiwu-news:n-7"
    assert main([*args, "dlq", "list"]) == 0
    assert "12345-export.csv row 18" in capsys.readouterr().out

    # The original bytes predate masking: an analyst's terminal sees the reason, not the bytes.
    assert main([*args, "--set", "cli.role=analyst", "dlq", "show", "0:0"]) == 0
    hidden = capsys.readouterr().out
    assert "hidden" in hidden and "西楼村" not in hidden and "cli.role admin" in hidden
    assert main([*args, "--set", "cli.role=analyst", "dlq", "show", "0:0", "--raw"]) == 2
    assert "西楼村" not in capsys.readouterr().out

    assert main([*args, "dlq", "show", "0:0", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    original = json.loads(shown["payload_text"])
    assert original["工单编号"] == "" and original["标题"] == "西楼村路灯不亮"
    raw = subprocess.run([sys.executable, "-m", "leadhub", *args, "dlq", "show", "0:1", "--raw"], capture_output=True, check=True)
    assert raw.stdout == b"{\xff}"  # the original bytes, exactly, even when they are not text

    # Unknown ids: one line, exit 2, nothing sent.
    for unknown in ("0:999", "7:0", "12"):
        assert main([*args, "dlq", "replay", unknown]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"no dead letter {unknown!r}" in err[0]
    before = {(r.partition, r.offset) for r in read_topic(kafka, f"{prefix}leads.raw")}
    assert len(before) == 29  # the export's good rows, nothing more

    # The row, fixed, replayed into leads.raw under the key leads.raw uses; the stage's record with its original key.
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps({"source": "hotline-12345", "channel": "hotline", "external_id": "YW-FIXED-0018",
                                 "title": original["标题"], "body": original["诉求内容"]}, ensure_ascii=False), encoding="utf-8")  # fmt: skip
    assert main([*args, "dlq", "replay", "0:0", "--file", str(fixed)]) == 0
    assert main([*args, "dlq", "replay", "0:1"]) == 0
    out = capsys.readouterr().out
    assert f"sent to {prefix}leads.raw (key hotline-12345:YW-FIXED-0018)" in out and "(key yiwu-news:n-7)" in out
    records = {r.key: r for r in read_topic(kafka, f"{prefix}leads.raw") if (r.partition, r.offset) not in before}
    assert set(records) == {b"hotline-12345:YW-FIXED-0018", b"yiwu-news:n-7"}
    lead = decode(records[b"hotline-12345:YW-FIXED-0018"].value, records[b"hotline-12345:YW-FIXED-0018"].headers, RawLead)
    assert lead.external_id == "YW-FIXED-0018" and lead.title == "西楼村路灯不亮"
    assert records[b"yiwu-news:n-7"].value == b"{\xff}"  # the original bytes, exactly
