"""The demo's handling history: what a city office did with its cases in the days before the demo runs.

Without it every demo case is ``new`` and most are overdue, so the dashboard's funnel is one bar. The
plan (handling.yaml) names each handled case by one of its leads and lists its steps in hours after
the case's first report; :func:`plan_events` turns a step list into CaseEvents dated in the past
(pure), and :func:`apply_plan` records them through the API's own path, ``case_actions.act``, so
the status machine checks every step exactly as it checks an officer's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from leadhub.case_actions import Publisher, act, ledger_for
from leadhub.readers.contract import ReadStore
from schemas.cases import Action, CaseEvent
from schemas.errors import StartupError
from schemas.leads import lead_id_for

PLAN = Path(__file__).parent / "handling.yaml"
# Between a planned time that would fall after the demo runs and the moment itself: each later step
# keeps this much room, so a history stays in order and in the past at any hour.
STEP_ROOM = dt.timedelta(minutes=5)
DISPATCH = frozenset({Action.accept, Action.assign, Action.reject, Action.return_})


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Action
    hours: float = Field(ge=0, description="After the case's first report.")
    note: str | None = None


class PlannedCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lead: str = Field(description="source/external_id of one of the case's leads")
    department: str | None = None  # where assign sends it; default the case's own
    steps: list[Step]

    @field_validator("steps", mode="before")
    @classmethod
    def _rows(cls, rows: Any) -> Any:
        # [action, hours, note?] rows keep the YAML short; mappings are accepted too.
        return [dict(zip(("action", "hours", "note"), row, strict=False)) if isinstance(row, list) else row for row in rows]

    @property
    def lead_id(self) -> str:
        source, _, external_id = self.lead.partition("/")
        return lead_id_for(source, external_id)


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dispatcher: str
    callback: str
    officers: dict[str, str]
    cases: list[PlannedCase]


def load_plan(path: Path = PLAN) -> Plan:
    return Plan.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def actor_for(plan: Plan, action: Action, department: str | None) -> str:
    if action in DISPATCH:
        return plan.dispatcher
    if action is Action.feedback:
        return plan.callback
    name = plan.officers.get(department or "", "值班人员")
    return f"{name}（{department}）" if department else name


def plan_events(plan: Plan, planned: PlannedCase, case: dict[str, Any], now: dt.datetime) -> list[CaseEvent]:
    """The case's events: each at first report + its hours, but never later than ``now`` less room
    for the steps still to come, and each after the one before (a case first seen an hour ago still
    gets its whole history, squeezed into that hour)."""
    first_seen = dt.datetime.fromisoformat(case["first_seen"]) if case.get("first_seen") else now - dt.timedelta(hours=1)
    department = planned.department or case.get("department")
    events: list[CaseEvent] = []
    previous = first_seen
    for i, step in enumerate(planned.steps):
        latest = now - STEP_ROOM * (len(planned.steps) - i)
        at = max(min(first_seen + dt.timedelta(hours=step.hours), latest), previous + dt.timedelta(seconds=1))
        previous = at
        events.append(CaseEvent(
            event_id=f"demo-{i}-{case['case_id']}"[:64], case_id=case["case_id"], action=step.action,
            actor=actor_for(plan, step.action, department), note=step.note,
            department=department if step.action is Action.assign else None, at=at,
        ))  # fmt: skip
    return events


def apply_plan(store: ReadStore, publisher: Publisher, departments: list[str], now: dt.datetime,
               plan: Plan | None = None, progress: Callable[[str], None] | None = None) -> int:  # fmt: skip
    """Records the plan's events through ``case_actions.act`` (the API's path); returns how many.
    A lead the samples did not produce, or a step the status machine refuses, is an error: the plan
    and the samples are shipped together and must agree."""
    plan = plan or load_plan()
    ledger = ledger_for(store)
    recorded = 0
    for planned in plan.cases:
        lead = store.get("leads", planned.lead_id)
        case = store.get("cases", lead["case_id"]) if lead and lead.get("case_id") else None
        if case is None:
            raise StartupError(f"the demo's handling plan names lead {planned.lead}, which the samples did not produce",
                               hint="fix leadhub/demo/handling.yaml")  # fmt: skip
        for event in plan_events(plan, planned, case, now):
            act(ledger, publisher, event, allowed_departments=departments)
            recorded += 1
    if progress:
        progress(f"handling history: {recorded} actions on {len(plan.cases)} cases")
    return recorded
