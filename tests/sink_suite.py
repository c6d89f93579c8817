"""The sink contract's suite: the same inputs through either Sink give the same documents.

Each scenario is a list of batches; a batch is added to the sink through contract.deliver (as the
consumer loop and the embedded runner do, from encoded bytes) and then flushed. Within one batch the
engine writer applies snapshots before events, so inputs that depend on each other go in separate
batches, as they would on Kafka (the route stage's snapshot and an officer's event are far apart).

tests/unit/test_sink_suite.py runs it on the embedded index (no services); the integration half runs
it on the search writer against the real OpenSearch and Kafka and compares with the embedded index.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from schemas.cases import Case, CaseEvent
from schemas.dead_letters import DeadLetter
from schemas.leads import Category, Lead
from schemas.serialization import encode
from sinks.contract import Origin, Sink, deliver

# (topic, model or raw bytes, offset)
Input = tuple[str, Any, int | None]


@dataclass
class Scenario:
    name: str
    batches: list[list[Input]]
    lead_ids: list[str] = field(default_factory=list)
    case_ids: list[str] = field(default_factory=list)
    check: Callable[[Any], None] = lambda view: None  # view: .lead(id), .case(id), .letters


def feed(sink: Sink, batches: list[list[Input]], prefix: str = "") -> None:
    for batch in batches:
        for topic, item, offset in batch:
            if isinstance(item, BaseModel):
                value, headers = encode(item)
                key = getattr(item, "lead_id", None) or item.case_id  # type: ignore[attr-defined]
            else:
                value, headers, key = item, [], "undecodable"
            origin = Origin(prefix + topic, value, key.encode(), 0 if offset is not None else None, offset)
            deliver(sink, topic, origin, headers)
        sink.flush()


def _lead(run: str, i: int, case: str) -> Lead:
    return Lead(lead_id=f"{run}-lead-{i}", source="forum-yiwu", channel="forum", external_id=f"{run}-{i}",
                title=f"第{i}号反映：小区电梯停运", text=f"稠城街道幸福小区{i}号楼电梯停运，物业不修。",
                fetched_at="2024-05-01T10:00:00+08:00", category=Category(level1="城乡建设"), department="市住建局",
                case_id=case, priority=30)  # fmt: skip


def _state(case_id: str, count: int, department: str = "稠城街道", **changes: Any) -> Case:
    fields = dict(case_id=case_id, title="电梯停运", department=department, report_count=count, channels=["forum"],
                  sources=["forum-yiwu"], lead_ids=[f"{case_id}-l{i}" for i in range(count)])  # fmt: skip
    return Case(**(fields | changes))


def scenarios(run: str) -> list[Scenario]:
    """Fresh ids per ``run``, so many runs share one index and topic set."""
    out: list[Scenario] = []

    def add(name: str, batches: list[list[Input]], check: Callable[[Any], None], leads=(), cases=()) -> None:
        out.append(Scenario(name, batches, list(leads), list(cases), check))

    # Leads are documents under their id; the same lead again is the same document.
    one, two = _lead(run, 1, f"{run}-c1"), _lead(run, 2, f"{run}-c1")

    def leads_check(view: Any) -> None:
        assert view.lead(one.lead_id)["title"] == one.title
        assert view.lead(two.lead_id)["case_id"] == f"{run}-c1"

    add("leads", [[("leads.routed", one, 1), ("leads.routed", two, 2)], [("leads.routed", one, 3)]], leads_check,
        leads=[one.lead_id, two.lead_id])  # fmt: skip

    # A first snapshot makes the case, new, with its membership.
    c = f"{run}-new"

    def new_check(view: Any, c: str = c) -> None:  # c bound now: the name is reused below
        doc = view.case(c)
        assert doc["status"] == "new" and doc["report_count"] == 2 and doc["department"] == "稠城街道"

    add("snapshot_creates_case", [[("cases.state", _state(c, 2), 5)]], new_check, cases=[c])

    # Without an officer's assignment the route stage's department follows its latest snapshot.
    c = f"{run}-route"

    def route_check(view: Any, c: str = c) -> None:
        assert view.case(c)["department"] == "市住建局" and view.case(c)["report_count"] == 2

    add("department_follows_route", [[("cases.state", _state(c, 1), 1)], [("cases.state", _state(c, 2, "市住建局"), 2)]],
        route_check, cases=[c])  # fmt: skip

    # An officer's department survives the route stage's later snapshots, which still set the rest.
    c = f"{run}-assigned"
    accept = CaseEvent(case_id=c, action="accept", actor="张三")
    assign = CaseEvent(case_id=c, action="assign", actor="张三", department="市综合执法局")

    def assigned_check(view: Any, c: str = c) -> None:
        doc = view.case(c)
        assert doc["department"] == "市综合执法局" and doc["status"] == "assigned"
        assert doc["report_count"] == 3 and doc["title"] == "电梯又停了"
        assert [h["action"] for h in doc["history"]] == ["accept", "assign"]

    add("department_survives_assignment", [
        [("cases.state", _state(c, 1), 1)],
        [("cases.events", accept, None), ("cases.events", assign, None)],
        [("cases.state", _state(c, 3, "稠城街道", title="电梯又停了"), 2)],
        [("cases.state", _state(c, 3, "市住建局", title="电梯又停了"), 3)],
    ], assigned_check, cases=[c])  # fmt: skip

    # A recategorization is a person's decision: the case and its leads take it, and neither a later
    # lead joining the case (the route stage's next snapshot, with its own category) nor a membership
    # update changes it back; the joining lead keeps its own routing.
    c = f"{run}-recat"
    members = [_lead(f"{run}-recat", i, c) for i in (1, 2)]
    joining = _lead(f"{run}-recat", 3, c).model_copy(update={"needs_triage": True})
    route_category = Category(level1="城乡建设", level2="城市建设和市政管理")
    recategorize = CaseEvent(case_id=c, action="recategorize", actor="张三", level1="环境保护", level2="环境污染",
                             department="市环保局")  # fmt: skip
    member_ids = [lead.lead_id for lead in members]

    def recategorized_check(view: Any, c: str = c) -> None:
        doc = view.case(c)
        assert doc["category"] == {"level1": "环境保护", "level2": "环境污染"} and doc["department"] == "市环保局"
        assert doc["category_source"] == "human" and doc["decided_by"] == "张三" and doc["status"] == "new"
        assert doc["report_count"] == 3 and doc["title"] == "电梯又停了"  # the snapshot still sets the rest
        entry = doc["history"][-1]
        assert entry["action"] == "recategorize" and entry["actor"] == "张三"
        assert entry["from_category"] == route_category.model_dump() and entry["category"] == doc["category"]
        assert (entry["from_department"], entry["department"]) == ("稠城街道", "市环保局")
        for lead_id in member_ids:
            lead = view.lead(lead_id)
            assert lead["category"] == doc["category"] and lead["department"] == "市环保局"
            assert lead["category_source"] == "human" and lead["decided_by"] == "张三" and lead["needs_triage"] is False
        new = view.lead(joining.lead_id)
        assert new["category"] == {"level1": "城乡建设", "level2": None} and new["department"] == "市住建局"
        assert new["category_source"] is None

    add("recategorized_survives_route_and_membership", [
        [("leads.routed", members[0], 1), ("leads.routed", members[1], 2),
         ("cases.state", _state(c, 2, category=route_category, lead_ids=member_ids), 1)],
        [("cases.events", recategorize, None)],
        [("leads.routed", joining, 3),
         ("cases.state", _state(c, 3, "市住建局", category=route_category, title="电梯又停了",
                                lead_ids=[*member_ids, joining.lead_id]), 2)],
    ], recategorized_check, leads=[*member_ids, joining.lead_id], cases=[c])  # fmt: skip

    # An older snapshot never overwrites a newer one, in the same batch or a later one.
    c = f"{run}-stale"

    def stale_check(view: Any, c: str = c) -> None:
        assert view.case(c)["report_count"] == 5

    add("older_snapshot_never_wins", [
        [("cases.state", _state(c, 5), 10), ("cases.state", _state(c, 4), 9)],
        [("cases.state", _state(c, 2), 3)],
    ], stale_check, cases=[c])  # fmt: skip

    # A merged case's reports are added back to the target's later snapshots (which know only its own).
    into, gone = f"{run}-into", f"{run}-gone"
    merge = CaseEvent(case_id=gone, action="merge", actor="张三", target_case_id=into)

    def merge_check(view: Any) -> None:
        target, source = view.case(into), view.case(gone)
        assert source["merged_into"] == into
        assert target["report_count"] == 2 + 2
        assert set(target["lead_ids"]) == {f"{into}-l{i}" for i in range(2)} | {f"{gone}-l{i}" for i in range(2)}

    add("merged_reports_added_back", [
        [("cases.state", _state(into, 1), 1), ("cases.state", _state(gone, 2), 2)],
        [("cases.events", merge, None)],
        [("cases.state", _state(into, 2), 3)],
    ], merge_check, cases=[into, gone])  # fmt: skip

    # An illegal event and an undecodable record become dead letters; the rest lands.
    c = f"{run}-illegal"
    resolve = CaseEvent(case_id=c, action="resolve", actor="张三", note="已修")

    def letters_check(view: Any, c: str = c) -> None:
        assert view.case(c)["status"] == "new" and not view.case(c).get("history")
        by_type = {letter.error_type: letter for letter in view.letters}
        assert "cannot resolve case" in by_type["IllegalTransition"].error
        assert by_type["DecodeError"].payload == b"{not json"

    add("bad_records_become_dead_letters", [
        [("cases.state", _state(c, 1), 1)],
        [("cases.events", resolve, None), ("leads.routed", b"{not json", 7)],
    ], letters_check, cases=[c])  # fmt: skip
    return out


def letters_of(letters: list[DeadLetter], scenario: Scenario) -> list[DeadLetter]:
    """A scenario's own dead letters, by the case ids it names (and the undecodable key)."""
    keys = {case_id.encode() for case_id in scenario.case_ids} | {b"undecodable"}
    return [letter for letter in letters if letter.key in keys]
