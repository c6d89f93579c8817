"""The pure core of notifications: which changes notify whom, the words in both languages, dedup keys,
backoff, and the webhook bodies (DingTalk's signature included)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse

from adapters.notify_senders import Message, dingtalk_signed_url, webhook_body
from leadhub.notify.messages import (
    Officer,
    actions_reaching,
    backoff_delays,
    dedup_key,
    notifies,
    reporters,
    status_change,
    status_message,
)
from leadhub.notify.settings import DEFAULT_STATUSES
from leadhub.settings import ApiKeySpec
from schemas.cases import Action, Status

SHA = "0" * 64


def _case(*entries, department="市住房和城乡建设局", resolution=None):
    history = [
        {"event_id": eid, "action": action, "from_status": src, "to_status": dst, "actor": "o", "at": "2026-01-01T00:00:00Z"}
        for eid, action, src, dst in entries
    ]
    return {"case_id": "c1", "title": "电梯坏了三天", "department": department, "resolution": resolution, "history": history}


def test_a_change_is_read_from_the_history_and_a_refused_event_is_none():
    case = _case(("e1", "accept", "new", "accepted"), ("e2", "assign", "accepted", "assigned"))
    change = status_change(case, "e2")
    assert change is not None and change.to_status is Status.assigned and change.from_status is Status.accepted
    assert change.department == "市住房和城乡建设局" and change.title == "电梯坏了三天"
    assert status_change(case, "not-applied") is None


def test_which_changes_notify():
    statuses = DEFAULT_STATUSES
    for eid, action, src, dst, expected in [
        ("a", "accept", "new", "accepted", True),
        ("b", "assign", "accepted", "assigned", True),
        ("c", "assign", "assigned", "assigned", True),  # another department takes it over
        ("d", "start", "assigned", "in_progress", False),
        ("e", "resolve", "in_progress", "resolved", True),
        ("f", "close", "resolved", "closed", True),
        ("g", "feedback", "closed", "closed", False),  # more feedback on a closed case: no change
        ("h", "merge", "accepted", "closed", False),  # a duplicate joins another case: its reports live on there
        ("i", "note", "accepted", "accepted", False),
        ("j", "reopen", "resolved", "accepted", True),
    ]:
        change = status_change(_case((eid, action, src, dst)), eid)
        assert notifies(change, statuses) is expected, action
    assert not notifies(status_change(_case(("a", "accept", "new", "accepted")), "a"), [Status.resolved])


def test_actions_reaching_comes_from_the_status_machine():
    assert actions_reaching([Status.resolved]) == {Action.resolve}
    reaching = actions_reaching(DEFAULT_STATUSES)
    assert {Action.accept, Action.assign, Action.resolve, Action.close, Action.feedback, Action.reopen} <= reaching
    assert Action.note not in reaching and Action.start not in reaching


def test_reporters_are_the_intake_authors_with_their_keys_address_and_language():
    keys = [
        ApiKeySpec(name="王老师", sha256=SHA, role="intake", email="wang@example.org"),
        ApiKeySpec(name="Anna", sha256=SHA, role="intake", email="anna@example.org", lang="en"),
    ]
    leads = [
        {"source": "hotline-12345", "author": "王老师"},  # not a field report
        {"source": "officer-intake", "author": "王老师"},
        {"source": "officer-intake", "author": "Anna"},
        {"source": "officer-intake", "author": "王老师"},  # a second report: one message
        {"source": "officer-intake", "author": "gone"},  # key removed since
    ]
    assert reporters(leads, keys) == [
        Officer("王老师", "wang@example.org", "zh"), Officer("Anna", "anna@example.org", "en"), Officer("gone", None, "zh"),
    ]  # fmt: skip


def test_the_chinese_message_names_title_status_department_result_and_link():
    case = _case(("e1", "resolve", "in_progress", "resolved"), resolution="已更换电梯主板，恢复运行")
    message = status_message(status_change(case, "e1"), Officer("王老师", "w@example.org"), "https://leadhub.example.org/")
    assert message.subject == "您反映的问题“电梯坏了三天”已办结"
    assert message.text.splitlines()[0] == "王老师，您好："
    for part in ("当前状态：已办结", "承办部门：市住房和城乡建设局", "办理结果：已更换电梯主板，恢复运行", "https://leadhub.example.org/my"):
        assert part in message.text
    assert message.link == "https://leadhub.example.org/my"
    assert "[查看我的报告](https://leadhub.example.org/my)" in message.markdown
    assert message.data["status"] == "resolved" and message.data["case_id"] == "c1" and message.data["officer"] == "王老师"


def test_the_english_message_translates_status_and_department_and_leaves_out_a_result_before_there_is_one():
    case = _case(("e1", "assign", "accepted", "assigned"), resolution=None)
    message = status_message(status_change(case, "e1"), Officer("Anna", lang="en"), "http://127.0.0.1:8000")
    assert message.subject == "Your report “电梯坏了三天” is assigned"
    assert message.text.startswith("Hello Anna,")
    assert "is now assigned." in message.text
    assert "Department: Housing and Urban-Rural Development Bureau" in message.text
    assert "Result" not in message.text and "http://127.0.0.1:8000/my" in message.text
    unassigned = status_message(status_change(_case(("e0", "accept", "new", "accepted"), department=None), "e0"), Officer("Anna", lang="en"), "http://x")
    assert "Department: not assigned yet" in unassigned.text
    assert "承办部门：待分派" in status_message(status_change(_case(("e0", "accept", "new", "accepted"), department=None), "e0"), Officer("王"), "http://x").text


def test_markdown_escapes_a_title_that_looks_like_markup():
    case = {**_case(("e1", "accept", "new", "accepted")), "title": "[click](http://evil) *now*"}
    message = status_message(status_change(case, "e1"), Officer("王"), "http://x")
    assert "\\[click\\](http://evil) \\*now\\*" in message.markdown


def test_dedup_key_and_backoff():
    assert dedup_key("c1", "e1", "email:a@b.c") == "c1|e1|email:a@b.c"
    assert dedup_key("c1", "e1", "webhook:ding:王") != dedup_key("c1", "e2", "webhook:ding:王")
    assert backoff_delays(4, 1.0, 60.0) == [1.0, 2.0, 4.0]
    assert backoff_delays(8, 10.0, 30.0) == [10.0, 20.0, 30.0, 30.0, 30.0, 30.0, 30.0]
    assert backoff_delays(1, 1.0, 60.0) == []


def test_dingtalk_signature_is_hmac_sha256_of_timestamp_and_secret():
    url = dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=T", "SECabc", 1_700_000_000_000)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["access_token"] == ["T"] and query["timestamp"] == ["1700000000000"]
    expected = base64.b64encode(hmac.new(b"SECabc", b"1700000000000\nSECabc", hashlib.sha256).digest()).decode()
    assert query["sign"] == [expected]


def test_webhook_bodies_follow_the_robots_documented_shapes():
    message = Message(subject="主题", text="正文", markdown="**正文**", link="http://x/my", data={"case_id": "c1"})
    assert webhook_body("dingtalk", message) == {"msgtype": "markdown", "markdown": {"title": "主题", "text": "**正文**"}}
    assert webhook_body("wecom", message) == {"msgtype": "markdown", "markdown": {"content": "**正文**"}}
    assert webhook_body("json", message) == {"subject": "主题", "text": "正文", "link": "http://x/my", "case_id": "c1"}
    long = webhook_body("wecom", Message(subject="s", text="字" * 3000))["markdown"]["content"]
    assert len(long.encode("utf-8")) <= 4096
