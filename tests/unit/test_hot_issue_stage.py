"""The hot-issue stage on texts we wrote: routed leads get their entities, each changed hot issue goes
out once per batch, a rebuilt state goes on under the stored ids; and the same through embedded mode's
pipeline (the local runner and the SQLite index), restart included."""

from __future__ import annotations

import datetime as dt

from enrichers.hot_issues_settings import HotIssueSettings
from leadhub.embedded import EmbeddedPipeline
from leadhub.settings import build_settings, parse_overrides
from schemas.hot_issues import HotIssue
from schemas.leads import Lead, RawLead
from schemas.serialization import decode, encode
from streams.hot_issue_stage import HotIssueStage
from streams.records import Output

T = dt.datetime(2026, 11, 20, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))
PLANT = [
    ("丽发新城小区旁边搅拌站噪音扰民", "A市A2区丽发新城小区旁边的搅拌站日夜施工，噪音和粉尘严重影响居民休息，请求关停搅拌站。"),
    ("丽发新城搅拌站粉尘太大", "丽发新城旁边的搅拌站每天粉尘飞扬，搅拌车来回跑，噪音很大，孩子都没法睡觉。"),
    ("投诉丽发新城附近搅拌厂", "丽发新城小区业主反映，小区附近搅拌厂夜间施工噪音扰民，粉尘污染严重。"),
    ("丽发新城的搅拌站什么时候搬走", "住在丽发新城三年了，楼下搅拌站的噪音和灰尘一直没人管，凌晨还有搅拌车进出，希望早日搬迁。"),
]
OTHER = ("宾王路路灯不亮", "稠城街道宾王路的路灯已经坏了五天，晚上一片漆黑，行人走路很不安全。")


def lead(n: int, title: str, text: str, **fields) -> Lead:
    at = T + dt.timedelta(hours=n)
    return Lead(**{"lead_id": f"l{n}", "source": "forum-x", "channel": "forum", "external_id": str(n), "title": title, "text": text,
                   "author": f"u{n}", "published_at": at, "fetched_at": at, "case_id": f"c{n}", **fields})  # fmt: skip


def routed(*leads: Lead) -> list[Output]:
    outputs = []
    for item in leads:
        value, headers = encode(item)
        outputs.append(Output("leads.routed", item.lead_id.encode(), value, headers))
    return outputs


def issues_in(outputs: list[Output]) -> list[HotIssue]:
    return [decode(o.value, o.headers, HotIssue) for o in outputs if o.topic == "hot_issues"]


def test_routed_leads_get_their_entities_and_a_changed_hot_issue_goes_out_once_per_batch():
    stage = HotIssueStage(HotIssueSettings())
    passing = Output("cases.state", b"c0", b"{}", [])
    outputs = stage.process([passing, *routed(*(lead(n, *PLANT[n], extra={"likes": 4}) for n in range(3)), lead(9, *OTHER))])
    assert outputs[0] is passing  # what is not a routed lead passes as it is
    leads = [decode(o.value, o.headers, Lead) for o in outputs if o.topic == "leads.routed"]
    assert [x.lead_id for x in leads] == ["l0", "l1", "l2", "l9"]
    assert [x.entities for x in leads[:3]] == [["丽发新城"]] * 3
    [issue] = issues_in(outputs)  # one record for the batch, as the issue stands after it
    assert issue.issue_id == "l0" and issue.lead_ids == ["l0", "l1", "l2"] and issue.case_ids == ["c0", "c1", "c2"]
    assert issue.leads == 3 and issue.reporters == 3 and issue.likes == 12 and issue.entity_keys == ["丽发新城"]
    assert "丽发新城" in issue.title and issue.heat > 0
    assert issue.first_seen == T and issue.last_seen == T + dt.timedelta(hours=2)


def test_a_hot_issue_of_one_lead_is_not_sent():
    stage = HotIssueStage(HotIssueSettings())
    assert issues_in(stage.process(routed(lead(0, *PLANT[0])))) == []
    [issue] = issues_in(stage.process(routed(lead(1, *PLANT[1]))))
    assert issue.leads == 2


def test_a_rebuilt_state_goes_on_under_the_stored_id_and_keeps_the_leads_its_history_lost():
    first = HotIssueStage(HotIssueSettings())
    [stored] = issues_in(first.process(routed(*(lead(n, *PLANT[n]) for n in range(3)))))
    restarted = HotIssueStage(HotIssueSettings())
    # The history reaches only the last two leads, read in another order: the rebuilt issue starts from l2.
    assert restarted.warm([lead(2, *PLANT[2]), lead(1, *PLANT[1])]) == 2
    assert restarted.adopt([stored]) == 1
    [grown] = issues_in(restarted.process(routed(lead(3, *PLANT[3]))))
    assert grown.issue_id == stored.issue_id == "l0"
    assert set(grown.lead_ids) == {"l0", "l1", "l2", "l3"} and grown.leads == 4 and grown.first_seen == T


def test_a_rebuilt_state_adds_what_came_since_to_the_stored_reporters_and_likes():
    # Before the restart one person (u0) wrote three times, with likes; the history keeps only the last lead.
    first = HotIssueStage(HotIssueSettings())
    [stored] = issues_in(first.process(routed(*(lead(n, *PLANT[n], author="u0", extra={"likes": 5}) for n in range(3)))))
    assert (stored.leads, stored.reporters, stored.likes, stored.repeats) == (3, 1, 15, 2)
    restarted = HotIssueStage(HotIssueSettings())
    restarted.warm([lead(2, *PLANT[2], author="u0", extra={"likes": 5})])
    restarted.adopt([stored])
    [grown] = issues_in(restarted.process(routed(lead(3, *PLANT[3], author="u3"))))
    # The rebuilt state knows 2 reporters (u0, u3) and 5 likes; the record keeps what the stored one counted.
    assert (grown.leads, grown.reporters, grown.likes) == (4, 2, 15)
    assert grown.repeats == 2  # u0's second and third message


def test_after_a_rebuild_a_new_writer_is_no_repeat_and_a_returning_one_is():
    # Three people once each (4 likes each); the history keeps only u2's lead.
    first = HotIssueStage(HotIssueSettings())
    [stored] = issues_in(first.process(routed(*(lead(n, *PLANT[n], extra={"likes": 4}) for n in range(3)))))
    assert (stored.leads, stored.reporters, stored.likes, stored.repeats) == (3, 3, 12, 0)

    def restarted() -> HotIssueStage:
        stage = HotIssueStage(HotIssueSettings())
        stage.warm([lead(2, *PLANT[2], extra={"likes": 4})])
        stage.adopt([stored])
        return stage

    [grown] = issues_in(restarted().process(routed(lead(3, *PLANT[3], author="u9", extra={"likes": 4}))))
    assert (grown.leads, grown.reporters, grown.likes, grown.repeats) == (4, 4, 16, 0)  # u9 is new: no repeat
    [again] = issues_in(restarted().process(routed(lead(3, *PLANT[3], author="u2"))))
    assert (again.leads, again.reporters, again.likes, again.repeats) == (4, 3, 12, 1)  # u2 wrote before


def raw(n: int, title: str, body: str) -> RawLead:
    at = T + dt.timedelta(hours=n)
    return RawLead(source="forum-x", channel="forum", external_id=f"p{n}", title=title, body=body, author=f"u{n}",
                   published_at=at, fetched_at=at)  # fmt: skip


def test_embedded_mode_maintains_hot_issues_as_leads_arrive_and_after_a_restart(tmp_path):
    settings = build_settings(overrides=parse_overrides(["mode=embedded", f"embedded.path={tmp_path / 'e.sqlite'}"]))
    pipeline = EmbeddedPipeline(settings)
    try:
        pipeline.submit_raw([raw(n, *PLANT[n]) for n in range(3)] + [raw(9, *OTHER)])
        [doc] = pipeline.index.hot_issue_documents()
        assert doc["leads"] == 3 and len(set(doc["case_ids"])) == 3 and doc["entity_keys"] == ["丽发新城"]
        stored = [pipeline.store.get("leads", lead_id) for lead_id in doc["lead_ids"]]
        assert all(x["entities"] == ["丽发新城"] for x in stored)
    finally:
        pipeline.close()
    again = EmbeddedPipeline(settings)  # the clusterer is rebuilt from the index
    try:
        again.submit_raw([raw(3, *PLANT[3])])
        [grown] = again.index.hot_issue_documents()
        assert grown["issue_id"] == doc["issue_id"] and grown["leads"] == 4
        assert set(grown["lead_ids"]) > set(doc["lead_ids"])
    finally:
        again.close()


def test_embedded_mode_without_hot_issues_keeps_none(tmp_path):
    overrides = ["mode=embedded", f"embedded.path={tmp_path / 'e.sqlite'}", "hot_issues.enabled=false"]
    pipeline = EmbeddedPipeline(build_settings(overrides=parse_overrides(overrides)))
    try:
        pipeline.submit_raw([raw(n, *PLANT[n]) for n in range(3)])
        assert pipeline.hot_issues is None and pipeline.index.hot_issue_documents() == []
    finally:
        pipeline.close()


def test_a_case_snapshot_carries_the_entities_its_leads_name():
    from schemas.cases import Case

    stage = HotIssueStage(HotIssueSettings())
    first, second = lead(0, *PLANT[0]), lead(1, *PLANT[1]).model_copy(update={"case_id": "c0"})
    value, headers = encode(Case(case_id="c0", title="x", report_count=2, lead_ids=["l0", "l1"]))
    outputs = stage.process([*routed(first, second), Output("cases.state", b"c0", value, headers)])
    [case] = [decode(o.value, o.headers, Case) for o in outputs if o.topic == "cases.state"]
    assert case.entities == ["丽发新城"]


def test_both_sinks_rule_a_record_with_fewer_leads_never_shrinks_the_stored_issue():
    from sinks.hot_issue_documents import apply_hot_issue, hot_issue_actions

    grown = HotIssue(issue_id="l0", leads=4, lead_ids=["l0", "l1", "l2", "l3"], heat=4.0)
    older = grown.model_copy(update={"leads": 2, "lead_ids": ["l0", "l1"], "heat": 2.0})
    stored = apply_hot_issue(None, grown)
    assert apply_hot_issue(stored, older) == stored
    assert apply_hot_issue(stored, grown.model_copy(update={"heat": 4.5}))["heat"] == 4.5  # the same count again is written
    meta = hot_issue_actions(older, "i-hot_issues")[0]["index"]
    assert (meta["_id"], meta["version"], meta["version_type"]) == ("l0", 2, "external_gte")
