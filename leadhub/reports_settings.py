"""The ``reports`` settings section: experience officers' groups, themed activities (主题体验), and
what a dissatisfied rating does.

The seed's officers come from 24 trades grouped by speciality; the default groups below are those
specialities. An admin may replace them (ids are what keys and leads store, so keep an id once used).
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field, field_validator, model_validator

from schemas.sections import Section

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class GroupSpec(Section):
    """One officers' group (a speciality of the 24 trades)."""

    id: str = Field(..., pattern=ID_PATTERN)
    title_zh: str = Field(..., min_length=1, max_length=100)
    title_en: str = Field(..., min_length=1, max_length=100)


class ActivitySpec(Section):
    """A themed activity (主题体验) a report may name: officers visit one kind of service in a period."""

    id: str = Field(..., pattern=ID_PATTERN)
    title_zh: str = Field(..., min_length=1, max_length=200)
    title_en: str = Field(..., min_length=1, max_length=200)
    starts: dt.date
    ends: dt.date
    group: str | None = Field(None, description="The group the activity is for (any group when unset).")

    @model_validator(mode="after")
    def _ordered(self) -> ActivitySpec:
        if self.ends < self.starts:
            raise ValueError(f"activity {self.id}: ends ({self.ends}) is before starts ({self.starts})")
        return self


DEFAULT_GROUPS = [
    GroupSpec(id="education", title_zh="教育", title_en="Education"),
    GroupSpec(id="health", title_zh="医疗卫生", title_en="Health care"),
    GroupSpec(id="commerce", title_zh="商贸服务", title_en="Commerce and services"),
    GroupSpec(id="transport", title_zh="交通物流", title_en="Transport and logistics"),
    GroupSpec(id="legal", title_zh="法律与政务", title_en="Legal and public affairs"),
    GroupSpec(id="international", title_zh="外籍人士", title_en="International residents"),
]


class ReportsSettings(Section):
    groups: list[GroupSpec] = Field(
        default_factory=lambda: [g.model_copy() for g in DEFAULT_GROUPS],
        description="Officers' groups (specialities); `api key create --group` takes one of their ids.",
    )
    activities: list[ActivitySpec] = Field(default_factory=list, description="Themed activities a report may name.")
    reopen_on_dissatisfied: bool = Field(True, description="A dissatisfied rating reopens the case.")

    @field_validator("groups")
    @classmethod
    def _unique_groups(cls, groups: list[GroupSpec]) -> list[GroupSpec]:
        ids = [g.id for g in groups]
        if repeated := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"group ids must be unique; repeated: {', '.join(repeated)}")
        return groups

    @model_validator(mode="after")
    def _activities_known(self) -> ReportsSettings:
        ids = [a.id for a in self.activities]
        if repeated := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"activity ids must be unique; repeated: {', '.join(repeated)}")
        groups = self.group_ids
        for activity in self.activities:
            if activity.group is not None and activity.group not in groups:
                raise ValueError(f"activity {activity.id}: unknown group {activity.group!r}; groups: {', '.join(groups)}")
        return self

    @property
    def group_ids(self) -> list[str]:
        return [g.id for g in self.groups]

    def group(self, group_id: str | None) -> GroupSpec | None:
        return next((g for g in self.groups if g.id == group_id), None)

    def activity(self, activity_id: str | None) -> ActivitySpec | None:
        return next((a for a in self.activities if a.id == activity_id), None)
