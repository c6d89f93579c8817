"""Case (one problem, the group of leads that report it) and CaseEvent (what people do with it)."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from schemas.leads import Category, Channel, Internal, Place, Strict
from schemas.timezones import AwareDatetime, now

LEAD_IDS_CAP = 1000  # a case keeps the ids of its first leads; report_count counts them all


class Status(StrEnum):
    new = "new"  # 待受理
    accepted = "accepted"  # 已受理
    assigned = "assigned"  # 已派单
    in_progress = "in_progress"  # 办理中
    resolved = "resolved"  # 已办结
    closed = "closed"  # 已反馈
    rejected = "rejected"  # 不予受理


class Action(StrEnum):
    accept = "accept"
    assign = "assign"
    start = "start"
    return_ = "return"  # 退单
    resolve = "resolve"
    feedback = "feedback"
    close = "close"
    reopen = "reopen"
    reject = "reject"
    note = "note"
    merge = "merge"
    split_ = "split"  # (a member named split would hide str.split on every member of this str enum)
    recategorize = "recategorize"  # an officer corrects the routing: category and/or department
    rate = "rate"  # the experience officer who reported it rates the department's answer (满意度)


class Rating(StrEnum):
    satisfied = "satisfied"  # 满意
    basically_satisfied = "basically_satisfied"  # 基本满意
    dissatisfied = "dissatisfied"  # 不满意


SATISFIED = frozenset({Rating.satisfied, Rating.basically_satisfied})


# Who set a case's or lead's category and department: the route stage, or a person (recategorize).
# A human decision is kept by every later stage (membership snapshots, replay); see sinks/documents.py.
# "replay" (cases only): `leadhub replay` routed the case again from its primary lead; the route stage's
# later snapshots, which carry the routing the case got when it was new, keep it; a replay may change it.
CategorySource = Literal["route", "human", "replay"]


class CaseEvent(Strict):
    """One action on a case. Comes from the API or officers' tools, so unknown fields are rejected."""

    event_id: str = Field(default_factory=lambda: uuid.uuid4().hex, min_length=1, max_length=64,
                          description="Unique per action; applying the same event twice changes nothing.")  # fmt: skip
    case_id: str = Field(..., min_length=1, max_length=64)
    action: Action
    actor: str = Field(..., min_length=1, max_length=200, description="Who acted (user or system name).")
    department: str | None = Field(None, max_length=200, description="For assign and recategorize: the department.")
    level1: str | None = Field(None, min_length=1, max_length=200, description="For recategorize: the level-1 class.")
    level2: str | None = Field(None, min_length=1, max_length=200,
                               description="For recategorize: the level-2 class (of level1).")  # fmt: skip
    assignee: str | None = Field(None, max_length=200)
    note: str | None = Field(None, max_length=20_000, description="Free text; for resolve, the result.")
    target_case_id: str | None = Field(None, max_length=64, description="For merge: the case this one joins.")
    lead_ids: list[str] = Field(default_factory=list, description="For split: the leads that leave.")
    rating: Rating | None = Field(None, description="For rate: the reporter's verdict on the answer; note is the comment.")
    at: AwareDatetime = Field(default_factory=now)

    @model_validator(mode="after")
    def _required_per_action(self) -> CaseEvent:
        if self.action is Action.assign and not self.department:
            raise ValueError("assign needs a department")
        if self.action is Action.merge and not self.target_case_id:
            raise ValueError("merge needs target_case_id")
        if self.action is Action.merge and self.target_case_id == self.case_id:
            raise ValueError("a case cannot be merged into itself")
        if self.level2 and not self.level1:
            raise ValueError("level2 needs its level1")
        if self.action is Action.recategorize and not (self.level1 or self.department):
            raise ValueError("recategorize needs level1 (and level2) or a department")
        if (self.action is Action.rate) != (self.rating is not None):
            raise ValueError("rate needs a rating, and only rate takes one")
        if self.action is Action.split_ and not self.lead_ids:
            raise ValueError("split needs lead_ids")
        if self.action in (Action.resolve, Action.reject, Action.feedback, Action.note) and not self.note:
            raise ValueError(f"{self.action.value} needs a note")
        return self


class HistoryEntry(Internal):
    event_id: str
    action: Action
    actor: str
    at: AwareDatetime
    from_status: Status
    to_status: Status
    department: str | None = None
    assignee: str | None = None
    note: str | None = None
    other_case_id: str | None = Field(
        None, description="merge: on the merged case, the case it joined; on that case, the case that joined it."
    )
    lead_ids: list[str] = Field(default_factory=list, description="split: the leads that left.")
    category: Category | None = Field(None, description="recategorize: the category set.")
    from_category: Category | None = Field(None, description="recategorize: the category before.")
    from_department: str | None = Field(None, description="recategorize: the department before (department: after).")
    rating: Rating | None = Field(None, description="rate: the verdict (note: the comment).")


class MergedCase(Internal):
    """What a merged case brought into the case it joined: kept so that the route stage's later
    membership snapshots of the target (which know only its own leads) add it back."""

    case_id: str
    report_count: int = Field(0, ge=0)
    channels: list[Channel] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    lead_ids: list[str] = Field(default_factory=list)
    reporter_groups: list[str] = Field(default_factory=list)
    activities: list[str] = Field(default_factory=list)


class Feedback(Internal):
    actor: str
    at: AwareDatetime
    note: str


class CaseRating(Internal):
    """One reporter's verdict on one resolution of the case: a case reopened and resolved again can
    be rated again, so department performance counts each answer once."""

    actor: str
    at: AwareDatetime
    rating: Rating
    comment: str | None = None
    resolution: str | None = Field(None, description="The result that was rated, as it was then.")


class Case(Internal):
    case_id: str = Field(..., description="The first lead's id.")
    title: str = ""
    summary: str = ""
    category: Category | None = None
    department: str | None = None
    place: Place | None = None
    priority: int = Field(0, ge=0, le=100)
    status: Status = Status.new
    assignee: str | None = None
    report_count: int = Field(0, ge=0)
    channels: list[Channel] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    reporter_groups: list[str] = Field(default_factory=list, description="Groups of the experience officers who reported it.")
    activities: list[str] = Field(default_factory=list, description="Themed activities its officers' reports named.")
    entities: list[str] = Field(
        default_factory=list, description="Named estates, companies, roads, ... its leads name (their join keys; hot issues)."
    )
    first_seen: AwareDatetime | None = None
    last_seen: AwareDatetime | None = None
    lead_ids: list[str] = Field(default_factory=list, max_length=LEAD_IDS_CAP)
    due_at: AwareDatetime | None = None
    resolution: str | None = None
    merged_into: str | None = None
    merged: list[MergedCase] = Field(default_factory=list, description="Cases merged into this one.")
    history: list[HistoryEntry] = Field(default_factory=list)
    feedback: list[Feedback] = Field(default_factory=list)
    ratings: list[CaseRating] = Field(default_factory=list, description="The reporters' ratings, oldest first.")
    # Worked out from the history after every event (schemas/handling_figures.py): for dashboards and filters.
    accepted_at: AwareDatetime | None = Field(None, description="When the case was first accepted.")
    resolved_at: AwareDatetime | None = Field(None, description="When it was last resolved, while it is resolved or closed.")
    hours_to_resolve: float | None = Field(None, ge=0, description="Hours from the first report to resolved_at.")
    resolved_on_time: bool | None = Field(None, description="resolved_at at or before due_at (None: not resolved, or no due date).")
    returns: int = Field(0, ge=0, description="How often a department handed it back (退单).")
    reopens: int = Field(0, ge=0, description="How often it was reopened.")
    last_rating: Rating | None = Field(None, description="The reporter's latest verdict on the answer.")
    category_source: CategorySource | None = Field(
        None, description="human: an officer set category/department (recategorize); no later stage or replay changes them."
    )
    decided_by: str | None = Field(None, description="Who last recategorized the case.")
    decided_at: AwareDatetime | None = Field(None, description="When the case was last recategorized.")
