"""What a reader asks for (search requests, statistics), independent of the store that answers it.

The models validate user input once, at the edge (CLI flags, query strings), so the stores can trust
them; `leadhub.search_dsl` turns them into engine requests, the embedded index into SQL.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

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


def _ordered(since: dt.datetime | None, until: dt.datetime | None) -> None:
    if since and until and since >= until:
        raise ValueError(f"since ({since.isoformat()}) must be before until ({until.isoformat()})")


# --- the text of a query ----------------------------------------------------------------------

# Words and "quoted phrases"; a quote without its pair is read as a space.
_TERM = re.compile(r'(-?)"([^"]*)"|([^\s"]+)')
_SPACES = str.maketrans({"\t": " ", "\n": " ", "\r": " "})


@dataclass(frozen=True)
class TextQuery:
    """What both stores search for: every ``must`` term occurs, no ``must_not`` term does.

    A term is found as a phrase anywhere in the searched fields (Chinese: as a run of characters,
    one character included), so both stores answer the same text the same way.
    """

    must: tuple[str, ...]
    must_not: tuple[str, ...]

    @property
    def terms(self) -> int:
        return len(self.must) + len(self.must_not)


@dataclass(frozen=True)
class TextLimits:
    """Caps on one query's text: each term is a phrase match (and, embedded, may be a scan)."""

    max_terms: int = 16
    max_exclusions: int = 8


def _searchable(term: str) -> bool:
    # A term of only symbols ("+++", "||", "*") is an operator someone typed, not text to find.
    return any(ch.isalnum() for ch in term)


def parse_text(q: str) -> TextQuery:
    """Words and "quoted phrases" must all occur; a leading - excludes. Nothing else is syntax."""
    must: list[str] = []
    must_not: list[str] = []
    for match in _TERM.finditer(q.translate(_SPACES)):
        negated, phrase, word = match.group(1), match.group(2), match.group(3)
        if word is not None:
            negated, phrase = ("-", word[1:]) if word.startswith("-") else ("", word)
        phrase = " ".join(phrase.split())
        if phrase and _searchable(phrase):
            (must_not if negated else must).append(phrase)
    return TextQuery(tuple(dict.fromkeys(must)), tuple(dict.fromkeys(must_not)))


@dataclass(frozen=True)
class TextProblem:
    """Why a query's text cannot be searched: a code and its values (the pages say it in the reader's
    language), and ``str()`` for the API and the terminal."""

    code: str
    values: dict[str, object]

    def __str__(self) -> str:
        return ENGLISH_TEXT_PROBLEMS[self.code].format(**self.values)


ENGLISH_TEXT_PROBLEMS = {
    "control_character": "q contains a control character ({char} at position {position}); remove it",
    "only_symbols": "q has no words or phrases to search for (only symbols or operators); leave it empty to list everything",
    "too_many_terms": "q has {count} words and phrases; at most {limit} are allowed in one search",
    "too_many_exclusions": "q excludes {count} words (-word); at most {limit} are allowed: narrow the search with filters instead",
}


def text_problem(q: str, limits: TextLimits) -> TextProblem | None:
    """Why ``q`` cannot be searched (None if it can)."""
    for position, ch in enumerate(q, 1):
        if ch not in "\t\n\r" and unicodedata.category(ch) in ("Cc", "Cs"):
            return TextProblem("control_character", {"char": f"U+{ord(ch):04X}", "position": position})
    text = parse_text(q)
    if q.strip() and not text.terms:
        return TextProblem("only_symbols", {})
    if text.terms > limits.max_terms:
        return TextProblem("too_many_terms", {"count": text.terms, "limit": limits.max_terms})
    if len(text.must_not) > limits.max_exclusions:
        return TextProblem("too_many_exclusions", {"count": len(text.must_not), "limit": limits.max_exclusions})
    return None


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
    group: list[str] = Field(default_factory=list, description="Experience officers' groups (reports.groups ids).")
    activity: list[str] = Field(default_factory=list, description="Themed activities (reports.activities ids).")
    author: list[str] = Field(default_factory=list, description="Leads only: the author (an experience officer's name).")
    entity: list[str] = Field(
        default_factory=list, description="Named estates, companies, schools, roads, projects, villages, communities (their keys, as the entity facet lists them)."
    )
    ids: list[str] = Field(default_factory=list, description="Document ids (lead or case ids).")
    needs_triage: bool | None = Field(
        None, description="Leads: routed with low confidence or no category. Cases: not routed to a department yet."
    )
    overdue: bool = Field(False, description="Cases only: open cases past their due time.")
    since: dt.datetime | None = Field(None, description="Reported at or after (leads: published, cases: first seen).")
    until: dt.datetime | None = Field(None, description="Reported before.")

    _aware = field_validator("since", "until")(lambda value: _as_aware(value))

    @model_validator(mode="after")
    def _ordered(self) -> Filters:
        _ordered(self.since, self.until)
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
    def _searchable_text(self, info: ValidationInfo) -> SearchRequest:
        # The caps come from settings through the validation context (the API's); else the defaults.
        limits = (info.context or {}).get("text_limits") or TextLimits()
        if (problem := text_problem(self.q, limits)) is not None:
            raise ValueError(str(problem))
        return self

    @model_validator(mode="after")
    def _within_window(self) -> SearchRequest:
        if self.page * self.size > MAX_WINDOW:
            raise ValueError(f"page {self.page} of size {self.size} goes past result {MAX_WINDOW}; narrow the search")
        if self.kind == "leads" and (self.filters.status or self.filters.overdue):
            raise ValueError("status and overdue filter cases, not leads")
        if self.kind == "cases" and self.filters.author:
            raise ValueError("author filters leads, not cases")
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
        "group": "reporter_group", "activity": "activity", "entity": "entities",
    },
    "cases": {
        "category": "category.level1", "department": "department", "status": "status",
        "channel": "channels", "source": "sources", "place": "place.town",
        "group": "reporter_groups", "activity": "activities", "entity": "entities",
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
    group: list[str] = Field(default_factory=list, description="Only experience officers' reports of these groups (and their cases).")
    activity: list[str] = Field(default_factory=list, description="Only reports naming these themed activities (and their cases).")

    _aware = field_validator("since", "until", "now")(lambda value: _as_aware(value))

    @model_validator(mode="after")
    def _ordered(self) -> StatsRequest:
        _ordered(self.since, self.until)
        return self

    @property
    def filters(self) -> Filters:
        """What every part of the statistics counts (both stores read it the same way)."""
        return Filters(since=self.since, until=self.until, group=self.group, activity=self.activity)


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


def resolve_places(names: list[str], resolve: Callable[[str], list[str]]) -> list[str]:
    """Place filter values as the index holds them: what people type (an alias, a short name) becomes
    the gazetteer's names via ``resolve``; a name it does not know is kept as typed."""
    out: list[str] = []
    for name in names:
        out += resolve(name.strip()) or [name.strip()]
    return list(dict.fromkeys(n for n in out if n))
