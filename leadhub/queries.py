"""What a reader asks for (search requests, statistics), independent of the store that answers it.

The models validate user input once, at the edge (CLI flags, query strings), so the stores can trust
them; `leadhub.search_dsl` turns them into engine requests, the embedded index into SQL.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas.cases import Status
from schemas.status_machine import ACTIVE
from schemas.timezones import zone

CITY_ZONE = zone(None)

Kind = Literal["leads", "cases"]
MAX_WINDOW = 10_000  # engines refuse from + size beyond their max_result_window (10,000 by default)
# Cases someone still has to work on (resolved ones wait only for feedback).
ACTIVE_STATUSES = [s.value for s in Status if s in ACTIVE]


def _as_aware(value: dt.datetime | None) -> dt.datetime | None:
    # A bare date means midnight in the city's zone (Asia/Shanghai), like every naive time here.
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=CITY_ZONE)
    return value


class Sort(StrEnum):
    relevance = "relevance"  # best match first (newest first without a query)
    newest = "newest"
    oldest = "oldest"
    priority = "priority"
    reports = "reports"  # cases with the most reports first (leads: same as priority)


class Filters(BaseModel):
    """Every filter is optional; several values of one filter are alternatives (OR), filters combine (AND)."""

    model_config = ConfigDict(extra="forbid")

    category: list[str] = Field(default_factory=list, description="Level-1 category names.")
    subcategory: list[str] = Field(default_factory=list, description="Level-2 category names.")
    department: list[str] = Field(default_factory=list)
    status: list[Status] = Field(default_factory=list, description="Cases only.")
    place: list[str] = Field(default_factory=list, description="Town / sub-district or community names.")
    channel: list[str] = Field(default_factory=list)
    source: list[str] = Field(default_factory=list)
    case_id: list[str] = Field(default_factory=list)
    ids: list[str] = Field(default_factory=list, description="Document ids (lead or case ids).")
    needs_triage: bool | None = None
    overdue: bool = Field(False, description="Cases only: open cases past their due time.")
    since: dt.datetime | None = Field(None, description="Reported at or after (leads: published, cases: first seen).")
    until: dt.datetime | None = Field(None, description="Reported before.")

    _aware = field_validator("since", "until")(lambda value: _as_aware(value))

    @model_validator(mode="after")
    def _ordered(self) -> Filters:
        if self.since and self.until and self.since >= self.until:
            raise ValueError(f"since ({self.since.isoformat()}) must be before until ({self.until.isoformat()})")
        return self


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind = "cases"
    q: str = Field("", max_length=1000, description="Words to find; quotes for phrases, - to exclude.")
    filters: Filters = Field(default_factory=Filters)
    sort: Sort = Sort.relevance
    page: int = Field(1, ge=1)
    size: int = Field(20, ge=0, le=1000)
    facets: bool = True
    full: bool = Field(False, description="Whole documents (else long lists such as history are left out).")

    @model_validator(mode="after")
    def _within_window(self) -> SearchRequest:
        if self.page * self.size > MAX_WINDOW:
            raise ValueError(f"page {self.page} of size {self.size} goes past result {MAX_WINDOW}; narrow the search")
        if self.kind == "leads" and (self.filters.status or self.filters.overdue):
            raise ValueError("status and overdue filter cases, not leads")
        return self

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


class FacetBucket(BaseModel):
    value: str
    count: int


class SearchPage(BaseModel):
    kind: Kind
    total: int
    page: int
    size: int
    hits: list[dict[str, Any]]
    facets: dict[str, list[FacetBucket]] = Field(default_factory=dict)


# Facets per kind: name shown -> field (both stores use the same names).
FACETS: dict[str, dict[str, str]] = {
    "leads": {
        "category": "category.level1", "department": "department", "channel": "channel",
        "source": "source", "place": "place.town", "lang": "lang",
    },
    "cases": {
        "category": "category.level1", "department": "department", "status": "status",
        "channel": "channels", "source": "sources", "place": "place.town",
    },
}  # fmt: skip


class Interval(StrEnum):
    day = "day"
    week = "week"
    month = "month"


class StatsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    interval: Interval = Interval.day
    top: int = Field(10, ge=1, le=100)
    now: dt.datetime | None = Field(None, description="For 'overdue'; default: the current time.")

    _aware = field_validator("since", "until", "now")(lambda value: _as_aware(value))


class CountSeries(BaseModel):
    """Counts per time bucket and key, e.g. cases per day and category."""

    buckets: list[str]  # ISO dates of the bucket starts
    series: dict[str, list[int]]


class Stats(BaseModel):
    cases_total: int
    leads_total: int
    open_cases: int
    overdue_cases: int
    by_category_over_time: CountSeries
    by_place: list[FacetBucket]
    by_channel: list[FacetBucket]  # leads per channel
    status_funnel: list[FacetBucket]  # every status, in workflow order
    overdue: list[dict[str, Any]]  # the most overdue open cases
    hot: list[dict[str, Any]]  # the open cases with the most reports


def funnel(counts: dict[str, int]) -> list[FacetBucket]:
    return [FacetBucket(value=status.value, count=counts.get(status.value, 0)) for status in Status]
