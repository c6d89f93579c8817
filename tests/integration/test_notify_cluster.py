"""`leadhub notify run` on the real Kafka and OpenSearch: one message per status change and officer, also
when the consumer is restarted after sending but before committing; a refused recipient is recorded and
the consumer goes on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest
from kafka import KafkaProducer

from adapters.kafka_clients import kafka_python_options
from adapters.search_backend import SearchBackend
from leadhub.case_actions import KafkaPublisher
from leadhub.cli import main
from leadhub.notify.consumer import NotifyConsumer
from leadhub.notify.ledger import NotifyLedger
from leadhub.notify.service import open_notifier
from leadhub.readers.engine import EngineStore
from leadhub.settings import ApiKeySpec, build_settings, parse_overrides
from schemas.cases import CaseEvent
from sinks.batch import BatchLimits
from sinks.writer import SearchSink
from tests.notify_data import HOUSING, seed_outputs
from tests.notify_servers import smtp_server


@pytest.fixture
def cluster(settings, kafka_settings, search, tmp_path):
    run = uuid.uuid4().hex[:8]
    overrides = [f"kafka.topic_prefix=k{run}.", f"search.index_prefix=i{run}", f"search.url={settings.search.url}"]
    args = [a for o in overrides for a in ("--set", o)]
    assert main([*args, "topics", "create"]) == 0
    assert main([*args, "index", "init"]) == 0
    with smtp_server() as smtp:
        built = build_settings(overrides=parse_overrides([
            *overrides, "notify.enabled=true", "notify.smtp.host=127.0.0.1", f"notify.smtp.port={smtp.port}",
            "notify.smtp.security=plain", "notify.smtp.sender=leadhub@example.org", f"notify.state_db={tmp_path / 'notify.sqlite'}",
            "notify.retry.attempts=2", "notify.retry.backoff_s=0.01", f"notify.group_id=notify-{run}", "notify.case_wait_s=20",
        ]))  # fmt: skip
        keys = [
            ApiKeySpec(name="王老师", sha256="0" * 64, role="intake", email="wang@example.org"),
            ApiKeySpec(name="Anna", sha256="1" * 64, role="intake", email="gone@example.org", lang="en"),
        ]
        built = built.model_copy(update={"api": built.api.model_copy(update={"keys": keys})})
        smtp.refuse = {"gone@example.org"}

        producer = KafkaProducer(**kafka_python_options(built.kafka), acks="all")
        for output in seed_outputs(f"{run}-lift"):
            producer.send(f"k{run}.{output.topic}", value=output.value, key=run.encode(), headers=output.headers)
        producer.flush()
        producer.close()
        sink = SearchSink(built, group_id=f"sink-{run}", limits=BatchLimits(max_age_s=0.1))
        thread = threading.Thread(target=sink.run, daemon=True)
        thread.start()
        backend = SearchBackend.from_settings(built.search)
        deadline = time.monotonic() + 60
        while True:
            backend.refresh(f"i{run}-leads")
            if backend.count(f"i{run}-leads") == 3 and backend.count(f"i{run}-cases") == 1:
                break
            assert time.monotonic() < deadline, "the seed did not reach the index"
            time.sleep(0.3)
        store = EngineStore(backend, built.search.index_prefix)
        publisher = KafkaPublisher(built.kafka)
        try:
            yield run, built, store, publisher, smtp
        finally:
            publisher.close()
            sink.stop()
            thread.join(timeout=30)
            backend.close()


def _until(step, done, timeout_s=60.0):
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "timed out"
        step()


def test_one_message_per_status_change_across_a_restart_between_send_and_commit(cluster):
    run, settings, store, publisher, smtp = cluster
    case_id = f"{run}-lift"
    for body in ({"action": "accept"}, {"action": "assign", "department": HOUSING}, {"action": "start"},
                 {"action": "note", "note": "已联系物业"}, {"action": "resolve", "note": "已更换主板"}):  # fmt: skip
        publisher.publish_event(CaseEvent(case_id=case_id, actor="officer", **body))

    ledger_path = settings.notify.state_db
    first = NotifyConsumer(settings, store, open_notifier(settings))
    try:
        # Sends, records, and stops before any commit: as if killed right after sending.
        _until(lambda: first.step(commit=False), lambda: first.handled >= 5)
    finally:
        first.close()
        first.notifier.ledger.close()
    mails = smtp.wait_for(3)
    assert [m.recipients for m in mails] == [["wang@example.org"]] * 3
    assert [m.subject for m in mails] == [f"您反映的问题“电梯坏了三天”{s}" for s in ("已受理", "已派单", "已办结")]
    assert "办理结果：已更换主板" in mails[2].body
    ledger = NotifyLedger(ledger_path)
    refused = ledger.failures()
    assert len(refused) == 3 and all(f.channel == "email:gone@example.org" and "550" in f.error for f in refused)
    ledger.close()

    second = NotifyConsumer(settings, store, open_notifier(settings))
    try:
        # The same events again (nothing was committed): nothing is sent twice.
        _until(second.step, lambda: second.handled >= 5)
        assert len(smtp.mails) == 3
        publisher.publish_event(CaseEvent(case_id=case_id, actor="officer", action="close"))
        _until(second.step, lambda: second.handled >= 6)
    finally:
        second.close()
        second.notifier.ledger.close()
    mails = smtp.wait_for(4)
    assert len(mails) == 4 and mails[3].subject == "您反映的问题“电梯坏了三天”已反馈"

    third = NotifyConsumer(settings, store, open_notifier(settings))
    try:
        # Everything was committed after sending: a restart reads nothing again.
        for _ in range(6):
            third.step(timeout_ms=500)
        assert third.handled == 0
    finally:
        third.close()
        third.notifier.ledger.close()
    assert len(smtp.mails) == 4


def test_the_notify_run_command_notifies_and_stops_cleanly(cluster, tmp_path):
    run, settings, store, publisher, smtp = cluster
    env = {
        **os.environ,
        "LEADHUB_KAFKA__TOPIC_PREFIX": settings.kafka.topic_prefix, "LEADHUB_SEARCH__INDEX_PREFIX": settings.search.index_prefix,
        "LEADHUB_SEARCH__URL": settings.search.url, "LEADHUB_NOTIFY__ENABLED": "true",
        "LEADHUB_NOTIFY__SMTP": json.dumps({"host": "127.0.0.1", "port": smtp.port, "security": "plain", "sender": "leadhub@example.org"}),
        "LEADHUB_NOTIFY__STATE_DB": str(tmp_path / "run.sqlite"), "LEADHUB_NOTIFY__GROUP_ID": f"notify-run-{run}",
        "LEADHUB_API__KEYS": json.dumps([k.model_dump() for k in settings.api.keys]),
    }  # fmt: skip
    process = subprocess.Popen([sys.executable, "-m", "leadhub", "notify", "run"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        publisher.publish_event(CaseEvent(case_id=f"{run}-lift", actor="officer", action="accept"))
        [mail] = smtp.wait_for(1, timeout_s=60)
        assert mail.subject == "您反映的问题“电梯坏了三天”已受理" and mail.recipients == ["wang@example.org"]
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "leadhub.notify ERROR" not in err, err  # no event it could not handle
