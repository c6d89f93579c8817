"""Embedded mode: a status change made through the API notifies the officers who reported the case, from
a background worker of the API process (real SMTP server and HTTP receiver), once, also across a restart."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from adapters.notify_senders import WebhookSettings
from leadhub.access import key_digest
from leadhub.api.app import create_app
from leadhub.api.context import build_context
from leadhub.notify.ledger import NotifyLedger
from leadhub.runtime import open_runtime
from leadhub.settings import ApiKeySpec, build_settings, parse_overrides
from tests.notify_data import HOUSING, seed_outputs
from tests.notify_servers import smtp_server, webhook_server


@pytest.fixture
def servers():
    with smtp_server() as smtp, webhook_server() as hooks:
        yield smtp, hooks


def _settings(tmp_path, smtp, hooks):
    settings = build_settings(overrides=parse_overrides([
        "mode=embedded", f"embedded.path={tmp_path / 'embedded.sqlite'}", "embedded.schedule_sources=false",
        "notify.enabled=true", "notify.smtp.host=127.0.0.1", f"notify.smtp.port={smtp.port}", "notify.smtp.security=plain",
        "notify.smtp.sender=leadhub@example.org", f"notify.state_db={tmp_path / 'notify.sqlite'}",
        "notify.retry.backoff_s=0.01", "api.public_url=https://leadhub.example.org",
        f"services.home={tmp_path / 'services'}",
    ]))  # fmt: skip
    keys = [
        ApiKeySpec(name="王老师", sha256=key_digest("k-wang"), role="intake", email="wang@example.org"),
        ApiKeySpec(name="Anna", sha256=key_digest("k-anna"), role="intake", email="anna@example.org", lang="en"),
        ApiKeySpec(name="officer", sha256=key_digest("k-officer"), role="officer", departments=["*"]),
    ]
    notify = settings.notify.model_copy(update={"webhooks": [WebhookSettings(name="ops", kind="json", url=f"{hooks.url}/hook")]})
    return settings.model_copy(update={"api": settings.api.model_copy(update={"keys": keys}), "notify": notify})


def _open(settings):
    runtime = open_runtime(settings)
    context = build_context(settings, runtime=runtime)
    return runtime, TestClient(create_app(context))


def _wait_idle(runtime, timeout_s=20.0):
    worker = runtime.publisher.worker
    assert worker.idle.wait(timeout_s), "the notifier did not finish in time"


def test_a_status_change_through_the_api_notifies_each_reporter_once(tmp_path, servers):
    smtp, hooks = servers
    settings = _settings(tmp_path, smtp, hooks)
    runtime, client = _open(settings)
    try:
        for output in seed_outputs("lift-1"):
            runtime.pipeline.write(output)
        act = lambda body: client.post("/api/v1/cases/lift-1/events", json=body, headers={"Authorization": "Bearer k-officer"})  # noqa: E731

        started = time.monotonic()
        accepted = act({"action": "accept"})
        assert accepted.status_code == 201, accepted.text
        mails = smtp.wait_for(2)
        assert time.monotonic() - started < 10
        by_rcpt = {m.recipients[0]: m for m in mails}
        assert set(by_rcpt) == {"wang@example.org", "anna@example.org"}  # the hotline caller has no key: not notified
        assert by_rcpt["wang@example.org"].subject == "您反映的问题“电梯坏了三天”已受理"
        assert "承办部门：市住房和城乡建设局" in by_rcpt["wang@example.org"].body
        assert "https://leadhub.example.org/my" in by_rcpt["wang@example.org"].body
        assert by_rcpt["anna@example.org"].subject == "Your report “电梯坏了三天” is accepted"
        _wait_idle(runtime)
        assert sorted(h.json["officer"] for h in hooks.hits) == ["Anna", "王老师"]
        assert {h.json["status"] for h in hooks.hits} == {"accepted"}

        assert act({"action": "assign", "department": HOUSING}).status_code == 201
        assert act({"action": "start"}).status_code == 201  # in progress: not a notified status
        assert act({"action": "note", "note": "已联系物业"}).status_code == 201
        _wait_idle(runtime)
        assert len(smtp.wait_for(4)) == 4
        time.sleep(0.3)
        assert len(smtp.mails) == 4 and len(hooks.hits) == 4
        assert sorted(m.subject for m in smtp.mails[2:]) == ["Your report “电梯坏了三天” is assigned", "您反映的问题“电梯坏了三天”已派单"]
        accept_event = client.get("/api/v1/cases/lift-1", headers={"Authorization": "Bearer k-officer"}).json()["history"][0]["event_id"]
    finally:
        runtime.close()

    # A crash after the send but before the outbox entry was cleared: the restarted API tries again, sends nothing twice.
    ledger = NotifyLedger(tmp_path / "notify.sqlite")
    ledger.enqueue("lift-1", accept_event)
    ledger.close()
    runtime, client = _open(settings)
    try:
        _wait_idle(runtime)
        assert NotifyLedger(tmp_path / "notify.sqlite").pending() == []
        resolved = client.post("/api/v1/cases/lift-1/events", json={"action": "resolve", "note": "已更换主板，电梯恢复运行"},
                               headers={"Authorization": "Bearer k-officer"})  # fmt: skip
        assert resolved.status_code == 201
        _wait_idle(runtime)
        mails = smtp.wait_for(6)
        assert len(mails) == 6 and len(hooks.hits) == 6
        wang = next(m for m in mails[4:] if m.recipients == ["wang@example.org"])
        assert "已办结" in wang.subject and "办理结果：已更换主板，电梯恢复运行" in wang.body
    finally:
        runtime.close()
