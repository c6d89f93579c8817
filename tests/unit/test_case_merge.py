"""Merging cases and what the case page adds from its leads: pure logic, no services."""

import pytest

from leadhub.api.v1 import handling_view
from schemas.cases import Action, Case, CaseEvent, MergedCase, Status
from schemas.leads import OfficialReply
from schemas.status_machine import MergeRefused, apply_merge, with_merged


def merge(into="b"):
    return CaseEvent(case_id="a", action=Action.merge, actor="officer-1", target_case_id=into, note="同一问题")


A = Case(case_id="a", report_count=2, channels=["forum", "hotline"], sources=["s1", "s2"], lead_ids=["a", "a-1"])
B = Case(case_id="b", report_count=1, channels=["officer"], sources=["s3"], lead_ids=["b"])


def test_a_merge_closes_the_case_and_moves_its_reports_into_the_target():
    source, target = apply_merge(A, B, merge())
    assert source.status is Status.closed and source.merged_into == "b" and source.history[-1].other_case_id == "b"
    assert target.status is Status.new and target.report_count == 3
    assert target.channels == ["officer", "forum", "hotline"] and target.sources == ["s3", "s1", "s2"]
    assert target.lead_ids == ["b", "a", "a-1"] and [m.case_id for m in target.merged] == ["a"]
    assert (target.history[-1].action, target.history[-1].other_case_id) == (Action.merge, "a")


@pytest.mark.parametrize("target, missing", [(None, True), (B.model_copy(update={"status": Status.resolved}), False),
                                             (B.model_copy(update={"status": Status.rejected}), False),
                                             (B.model_copy(update={"merged_into": "c"}), False)])  # fmt: skip
def test_a_merge_into_a_missing_or_finished_case_is_refused(target, missing):
    with pytest.raises(MergeRefused) as refused:
        apply_merge(A, target, merge())
    assert refused.value.missing is missing


def test_a_replayed_merge_changes_nothing_and_completes_a_half_written_one():
    event = merge()
    source, target = apply_merge(A, B, event)
    assert apply_merge(source, target, event) == (source, target)
    # The merged case was written, the target not yet (a crash between): the replay completes it.
    assert apply_merge(source, B, event)[1] == target


def test_a_later_snapshot_of_the_target_keeps_what_merged_cases_brought():
    own = {"report_count": 2, "channels": ["officer", "news"], "sources": ["s3"], "lead_ids": ["b", "b-1"]}
    moved = MergedCase(case_id="a", report_count=2, channels=["forum", "news"], sources=["s1"], lead_ids=["a", "b"])
    assert with_merged(own, [moved]) == {"report_count": 4, "channels": ["officer", "news", "forum"],
                                         "sources": ["s3", "s1"], "lead_ids": ["b", "b-1", "a"],
                                         "reporter_groups": [], "activities": []}  # fmt: skip


def test_a_merged_report_still_counts_for_its_officers_group_and_activity():
    own = {"report_count": 1, "reporter_groups": ["health"], "activities": []}
    moved = MergedCase(case_id="a", report_count=1, reporter_groups=["education", "health"], activities=["hall"])
    merged = with_merged(own, [moved])
    assert merged["reporter_groups"] == ["health", "education"] and merged["activities"] == ["hall"]


def test_the_case_view_collects_replies_reasons_and_reports_after_close():
    case = {"history": [{"from_status": "in_progress", "to_status": "resolved", "at": "2024-05-03T10:00:00+08:00"},
                        {"from_status": "resolved", "to_status": "closed", "at": "2024-05-04T10:00:00+08:00"}]}  # fmt: skip
    reply = OfficialReply(text="已疏通", unit="市住建局", at="2024-05-02T09:00:00+08:00").model_dump(mode="json")
    leads = [
        {"lead_id": "l1", "published_at": "2024-05-01T10:00:00+08:00", "priority_reasons": ["hazard:积水"]},
        {"lead_id": "l2", "published_at": "2024-05-02T10:00:00+08:00", "official_reply": reply, "source": "board"},
        {"lead_id": "l3", "published_at": "2024-05-03T11:00:00+08:00", "priority_reasons": ["hazard:积水", "reports:3"]},
    ]
    view = handling_view(case, leads)
    assert view["closed_at"] == "2024-05-03T10:00:00+08:00"
    assert [(r["lead_id"], r["unit"], r["text"]) for r in view["official_replies"]] == [("l2", "市住建局", "已疏通")]
    assert view["priority_reasons"] == ["hazard:积水", "reports:3"]
    assert [lead["after_close"] for lead in leads] == [False, False, True]


def test_a_board_reply_in_extra_becomes_the_leads_official_reply():
    assert OfficialReply.from_extra({"reply": " 已处理 ", "reply_unit": "市交通运输局", "reply_time": "2024-05-01T08:00:00+08:00"}).unit == "市交通运输局"
    odd = OfficialReply.from_extra({"reply": "已处理", "reply_time": None, "reply_time_text": "昨天"})
    assert odd.at is None and odd.at_text == "昨天"
    assert OfficialReply.from_extra({"site": "x"}) is None
