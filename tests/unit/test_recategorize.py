"""recategorize (issue 21): the rules below the API, without services. The real route stage (embedded
mode's local runner) routes a later report into a recategorized case and the case keeps the human's
category and department; the pure rules the two sinks share; the taxonomy check. Both stores through
the API: tests/api_suite.py; both sinks: tests/sink_suite.py."""

from __future__ import annotations

import pytest

from enrichers.taxonomy import load_taxonomy
from leadhub.case_actions import UnknownCategory, UnknownDepartment, act, allowed_departments, check_category, ledger_for
from leadhub.embedded import EmbeddedPipeline, EmbeddedPublisher
from leadhub.settings import build_settings, parse_overrides
from schemas.cases import Case, CaseEvent, MergedCase
from schemas.leads import Category, RawLead
from sinks.documents import apply_case_state, decided_lead_ids, leads_decision

POST = (
    "稠城街道绣湖社区幸福小区3号楼的电梯已经停运一周了，物业一直说在等配件。楼里住着很多老人，"
    "上下楼非常困难，希望有关部门督促物业尽快维修电梯。"
)
DECIDED = Category(level1="经济管理", level2="安全生产")
SAFETY = "市应急管理局"


def _raw(external_id: str, body: str, channel: str = "forum", source: str = "forum-yiwu") -> RawLead:
    return RawLead(source=source, channel=channel, external_id=external_id, body=body)


def test_a_later_report_routed_into_a_recategorized_case_leaves_its_category_and_department(tmp_path):
    settings = build_settings(overrides=parse_overrides(["mode=embedded", f"embedded.path={tmp_path / 'e.sqlite'}"]))
    taxonomy = load_taxonomy()
    pipeline = EmbeddedPipeline(settings)
    first = _raw("1", POST)
    pipeline.submit_raw([first])
    case_id = pipeline.store.get("leads", first.lead_id)["case_id"]
    routed = pipeline.store.get("cases", case_id)
    assert routed.get("category_source") is None
    event = CaseEvent(case_id=case_id, action="recategorize", actor="dispatcher-1", level1=DECIDED.level1,
                      level2=DECIDED.level2, department=SAFETY)  # fmt: skip
    act(ledger_for(pipeline.store), EmbeddedPublisher(pipeline), event,
        allowed_departments=allowed_departments(taxonomy, [SAFETY]), taxonomy=taxonomy)  # fmt: skip
    pipeline.close()

    # After a restart, the same problem reported on the hotline: the route stage joins it to the case.
    pipeline = EmbeddedPipeline(settings)
    later = _raw("WO-7", "市民来电反映：" + POST[:60], channel="hotline", source="hotline-12345")
    pipeline.submit_raw([later])
    case = pipeline.store.get("cases", case_id)
    assert case["report_count"] == 2 and case["channels"] == ["forum", "hotline"]  # the membership update landed
    assert case["category"] == DECIDED.model_dump() and case["department"] == SAFETY
    assert case["category_source"] == "human" and case["decided_by"] == "dispatcher-1"
    old, new = pipeline.store.get("leads", first.lead_id), pipeline.store.get("leads", later.lead_id)
    assert old["category"] == DECIDED.model_dump() and old["department"] == SAFETY and old["category_source"] == "human"
    assert new["case_id"] == case_id and new.get("category_source") is None  # the new report keeps its own routing
    assert new["department"] == routed["department"]
    pipeline.close()


def test_a_membership_snapshot_keeps_a_human_category_and_department_only_when_a_person_set_them():
    snapshot = Case(case_id="c", category=Category(level1="城乡建设"), department="市住建局", report_count=3)
    routed = {"case_id": "c", "category": {"level1": "交通运输", "level2": None}, "department": "市交通运输局"}
    assert apply_case_state(routed, snapshot)["category"] == {"level1": "城乡建设", "level2": None}
    decided = {**routed, "category_source": "human", "decided_by": "张三"}
    after = apply_case_state(decided, snapshot)
    assert after["category"] == routed["category"] and after["department"] == "市交通运输局"
    assert after["report_count"] == 3 and after["decided_by"] == "张三"


def test_a_decision_reaches_the_listed_leads_those_of_merged_cases_and_past_the_cap_the_case_ids():
    case = Case(case_id="c", lead_ids=["a", "b"], report_count=3, category_source="human", category=DECIDED,
                merged=[MergedCase(case_id="m", report_count=1, lead_ids=["x"])])  # fmt: skip
    assert decided_lead_ids(case) == (["a", "b", "x"], [])
    grown = case.model_copy(update={"report_count": 1500})
    assert decided_lead_ids(grown) == (["a", "b", "x"], ["c", "m"])
    decision = leads_decision(case)
    assert decision is not None and decision["category"] == DECIDED.model_dump() and decision["needs_triage"] is False
    assert leads_decision(case.model_copy(update={"category_source": None})) is None


def test_classes_and_departments_come_from_the_taxonomy():
    taxonomy = load_taxonomy()

    def event(**fields):
        return CaseEvent(case_id="c", action="recategorize", actor="a", **fields)

    check_category(event(level1="环境保护", level2="环境污染"), taxonomy)
    with pytest.raises(UnknownCategory) as unknown:
        check_category(event(level1="天气"), taxonomy)
    assert "天气" in unknown.value.message and "环境保护" in unknown.value.allowed
    with pytest.raises(UnknownCategory) as other:
        check_category(event(level1="环境保护", level2="出租车管理"), taxonomy)
    assert other.value.allowed == [s.name for s in taxonomy.subcategories if s.level1 == "环境保护"]
    from leadhub.case_actions import check_department

    with pytest.raises(UnknownDepartment):
        check_department(event(department="隔壁老王"), allowed_departments(taxonomy))
    check_department(event(level1="环境保护"), allowed_departments(taxonomy))  # no department named: nothing to check
