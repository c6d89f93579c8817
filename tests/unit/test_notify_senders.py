"""Sending for real: an SMTP server (aiosmtpd) and an HTTP receiver started by the test; the bytes they
got are checked. Retries with backoff, permanent failures recorded, dedup, and the public send_notice."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging

import pytest

from adapters.notify_senders import Message, SmtpSettings, WebhookSettings
from leadhub.notify import Notice, Notifier, send_notice
from leadhub.notify.ledger import NotifyLedger
from leadhub.notify.settings import NotifySettings, RetrySettings
from leadhub.settings import build_settings, parse_overrides
from tests.notify_servers import smtp_server, webhook_server

MESSAGE = Message(subject="您反映的问题“电梯坏了”已受理", text="王老师，您好：\n\n当前状态：已受理。\n", markdown="#### 已受理", link="http://x/my")


@pytest.fixture
def smtp():
    with smtp_server() as inbox:
        yield inbox


@pytest.fixture
def hooks():
    with webhook_server() as inbox:
        yield inbox


def _settings(smtp=None, webhooks=(), attempts=3, password="s3cret-pw"):
    return NotifySettings(
        enabled=True,
        smtp=SmtpSettings(host="127.0.0.1", port=smtp.port, security="plain", sender="leadhub@example.org") if smtp else None,
        webhooks=list(webhooks),
        retry=RetrySettings(attempts=attempts, backoff_s=0.01, max_backoff_s=0.05),
    )


@pytest.fixture
def ledger(tmp_path):
    book = NotifyLedger(tmp_path / "notify.sqlite")
    yield book
    book.close()


def test_an_email_arrives_with_its_subject_body_and_sender(smtp, ledger):
    notifier = Notifier(_settings(smtp), ledger)
    [delivery] = notifier.send(Notice(MESSAGE, to=("wang@example.org",)))
    assert delivery.outcome == "sent" and delivery.channel == "email:wang@example.org"
    [mail] = smtp.wait_for(1)
    assert mail.recipients == ["wang@example.org"] and mail.sender == "leadhub@example.org"
    assert mail.subject == MESSAGE.subject  # non-ASCII survives the header encoding
    assert mail.body.replace("\r\n", "\n") == MESSAGE.text  # SMTP lines end in CRLF on the wire
    assert b"Subject: =?utf-8?" in mail.raw and mail.message["From"] == "leadhub <leadhub@example.org>"


def test_webhooks_get_their_bodies_and_dingtalk_its_signature(hooks, ledger):
    ding = WebhookSettings(name="ding", kind="dingtalk", url=f"{hooks.url}/robot/send?access_token=TOKEN", secret="SECret123")
    wecom = WebhookSettings(name="wecom", kind="wecom", url=f"{hooks.url}/cgi-bin/webhook/send?key=K")
    plain = WebhookSettings(name="ops", kind="json", url=f"{hooks.url}/hook", bearer_token="bt-1")
    notifier = Notifier(_settings(webhooks=[ding, wecom, plain]), ledger)
    deliveries = notifier.send(Notice(MESSAGE))
    assert [d.outcome for d in deliveries] == ["sent", "sent", "sent"]
    by_path = {hit.path: hit for hit in hooks.hits}

    signed = by_path["/robot/send"]
    assert signed.json == {"msgtype": "markdown", "markdown": {"title": MESSAGE.subject, "text": "#### 已受理"}}
    timestamp = signed.query["timestamp"][0]
    expected = base64.b64encode(hmac.new(b"SECret123", f"{timestamp}\nSECret123".encode(), hashlib.sha256).digest()).decode()
    assert signed.query["sign"] == [expected] and signed.query["access_token"] == ["TOKEN"]
    assert signed.headers["content-type"].startswith("application/json")

    assert by_path["/cgi-bin/webhook/send"].json == {"msgtype": "markdown", "markdown": {"content": "#### 已受理"}}
    generic = by_path["/hook"]
    assert generic.json == {"subject": MESSAGE.subject, "text": MESSAGE.text, "link": "http://x/my"}
    assert generic.headers["authorization"] == "Bearer bt-1"
    assert "已受理".encode() in generic.raw  # UTF-8 as is, not \\u escapes


def test_a_failed_send_is_retried_with_backoff_then_succeeds(smtp, hooks, ledger):
    smtp.fail_next = 2  # 451 twice
    hooks.statuses = [503]
    waits: list[float] = []
    notifier = Notifier(_settings(smtp, [WebhookSettings(name="ops", url=f"{hooks.url}/hook")], attempts=3), ledger,
                        sleep=lambda s: waits.append(s) or False)  # fmt: skip
    deliveries = notifier.send(Notice(MESSAGE, to=("wang@example.org",)))
    assert [(d.outcome, d.attempts) for d in deliveries] == [("sent", 3), ("sent", 2)]
    assert waits == [0.01, 0.02, 0.01]  # exponential per channel
    assert len(smtp.mails) == 1 and smtp.tries == 3 and len(hooks.hits) == 2
    assert ledger.failures() == []


def test_a_permanent_failure_is_recorded_once_and_the_other_channels_go_on(smtp, hooks, ledger, caplog):
    smtp.refuse = {"gone@example.org"}
    hooks.answer = {"errcode": 310000, "errmsg": "keywords not in content"}  # DingTalk: a refused message
    settings = _settings(smtp, [WebhookSettings(name="ding", kind="dingtalk", url=f"{hooks.url}/robot/send?access_token=SECRET-TOKEN"),
                                WebhookSettings(name="ok", url=f"{hooks.url}/ok")], attempts=4)  # fmt: skip
    settings.smtp.password = None
    notifier = Notifier(settings, ledger, sleep=lambda s: False)
    with caplog.at_level(logging.INFO):  # httpx logs each request's URL at INFO: not the token
        deliveries = notifier.send(Notice(MESSAGE, to=("gone@example.org", "wang@example.org"), key="c1|e1"))
    outcomes = {d.channel: (d.outcome, d.attempts) for d in deliveries}
    assert outcomes == {
        "email:gone@example.org": ("failed", 1),  # 550: no retry helps
        "email:wang@example.org": ("sent", 1),
        "webhook:ding": ("failed", 1),
        "webhook:ok": ("sent", 1),
    }
    failures = {f.channel: f for f in ledger.failures()}
    assert set(failures) == {"email:gone@example.org", "webhook:ding"}
    assert "550" in failures["email:gone@example.org"].error and failures["webhook:ding"].key == "c1|e1|webhook:ding"
    assert "310000" in failures["webhook:ding"].error
    assert "SECRET-TOKEN" not in caplog.text and all("SECRET-TOKEN" not in f.error for f in failures.values())
    assert f"{hooks.url}/robot/send?…" in caplog.text  # httpx's own request line, the query hidden


def test_transient_failures_that_never_end_are_recorded_after_every_try(hooks, ledger):
    hooks.statuses = [500] * 10
    notifier = Notifier(_settings(webhooks=[WebhookSettings(name="ops", url=f"{hooks.url}/hook")], attempts=3), ledger, sleep=lambda s: False)
    [delivery] = notifier.send(Notice(MESSAGE))
    assert (delivery.outcome, delivery.attempts) == ("failed", 3) and len(hooks.hits) == 3
    [failure] = ledger.failures()
    assert failure.attempts == 3 and "HTTP 500" in failure.error


def test_an_unreachable_smtp_server_is_a_transient_failure(ledger):
    settings = NotifySettings(enabled=True, retry=RetrySettings(attempts=2, backoff_s=0),
                              smtp=SmtpSettings(host="127.0.0.1", port=1, security="plain", sender="a@b.org", password="pw-xyz"))  # fmt: skip
    [delivery] = Notifier(settings, ledger).send(Notice(MESSAGE, to=("w@example.org",)))
    assert (delivery.outcome, delivery.attempts) == ("failed", 2) and "unreachable" in delivery.error
    assert "pw-xyz" not in delivery.error


def test_a_keyed_notice_goes_out_once_per_channel_ever(smtp, ledger):
    notifier = Notifier(_settings(smtp), ledger)
    first = notifier.send(Notice(MESSAGE, to=("wang@example.org",), key="c1|e1"))
    again = Notifier(_settings(smtp), ledger).send(Notice(MESSAGE, to=("wang@example.org", "li@example.org"), key="c1|e1"))
    assert [d.outcome for d in first] == ["sent"]
    assert [(d.channel, d.outcome) for d in again] == [("email:wang@example.org", "already_sent"), ("email:li@example.org", "sent")]
    assert [m.recipients for m in smtp.wait_for(2)] == [["wang@example.org"], ["li@example.org"]]


def test_disabled_sends_nothing(smtp, ledger):
    settings = _settings(smtp).model_copy(update={"enabled": False})
    assert Notifier(settings, ledger).send(Notice(MESSAGE, to=("wang@example.org",))) == []
    assert smtp.mails == []


def test_the_public_send_notice_uses_the_settings_and_keeps_secrets_out_of_redacted(smtp, tmp_path):
    overrides = parse_overrides([
        "notify.enabled=true", "notify.smtp.host=127.0.0.1", f"notify.smtp.port={smtp.port}", "notify.smtp.security=plain",
        "notify.smtp.sender=leadhub@example.org", "notify.smtp.password=very-secret", f"notify.state_db={tmp_path / 'n.sqlite'}",
    ])  # fmt: skip
    settings = build_settings(overrides=overrides)
    assert "very-secret" not in str(settings.redacted())
    deliveries = send_notice(settings, Notice(Message(subject="热点 / Hotspot", text="body"), to=("ops@example.org",), key="hot:1"))
    assert [d.outcome for d in deliveries] == ["sent"]
    assert send_notice(settings, Notice(Message(subject="热点 / Hotspot", text="body"), to=("ops@example.org",), key="hot:1"))[0].outcome == "already_sent"
    [mail] = smtp.wait_for(1)
    assert mail.subject == "热点 / Hotspot"


def test_cli_notify_test_sends_once_and_failures_lists_what_failed(smtp, hooks, tmp_path, capsys):
    from leadhub.cli import main

    base = ["--set", "notify.enabled=true", "--set", "notify.smtp.host=127.0.0.1", "--set", f"notify.smtp.port={smtp.port}",
            "--set", "notify.smtp.security=plain", "--set", "notify.smtp.sender=leadhub@example.org",
            "--set", f"notify.state_db={tmp_path / 'n.sqlite'}"]  # fmt: skip
    assert main([*base, "notify", "test", "--to", "wang@example.org", "--lang", "en"]) == 0
    assert "email:wang@example.org: sent" in capsys.readouterr().out
    [mail] = smtp.wait_for(1)
    assert mail.subject == "leadhub test notice" and "the notification channel works" in mail.body

    smtp.refuse = {"gone@example.org"}
    assert main([*base, "notify", "test", "--to", "gone@example.org"]) == 1
    assert "email:gone@example.org: failed" in capsys.readouterr().out
    assert main([*base, "notify", "failures"]) == 0
    listed = capsys.readouterr()
    assert "email:gone@example.org" in listed.out and "leadhub 测试通知" in listed.out and "550" in listed.out

    assert main(["--set", "notify.enabled=false", "notify", "test", "--to", "a@example.org"]) == 2  # a ConfigError
    error = capsys.readouterr().err
    assert "notify.enabled" in error and "Traceback" not in error


def test_an_attachment_goes_with_the_email_and_not_to_webhooks(smtp, hooks, ledger):
    from leadhub.notify import FileAttachment

    xlsx = bytes(range(256)) * 40
    message = Message(subject="周报 / Weekly briefing", text="见附件", attachments=(
        FileAttachment("briefing-2026-W49.xlsx", xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),))  # fmt: skip
    notifier = Notifier(_settings(smtp, [WebhookSettings(name="ops", url=f"{hooks.url}/hook")]), ledger)
    assert [d.outcome for d in notifier.send(Notice(message, to=("lead@example.org",)))] == ["sent", "sent"]
    [mail] = smtp.wait_for(1)
    [part] = list(mail.message.iter_attachments())
    assert part.get_filename() == "briefing-2026-W49.xlsx" and part.get_content() == xlsx
    assert part.get_content_type() == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert mail.body.strip() == "见附件"
    assert hooks.hits[0].json == {"subject": "周报 / Weekly briefing", "text": "见附件", "link": None}
