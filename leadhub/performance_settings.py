"""The ``performance`` settings section: the time limits department performance is judged by."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from schemas.sections import Section


class PerformanceSettings(Section):
    accept_within_working_days: float = Field(
        1.0, gt=0, le=30,
        description="受理时限: a case counts as accepted in time when accepted within this much working time "
        "(working days x 24 h, Monday to Friday, holidays left out) after it was first reported.",
    )  # fmt: skip
    holidays: list[dt.date] = Field(default_factory=list, description="Public holidays on weekdays: not working days.")
    workdays: list[dt.date] = Field(
        default_factory=list, description="Weekend days worked instead of a holiday (调休): working days."
    )
    trend_weeks: int = Field(8, ge=2, le=52, description="Weeks in the trend drawn per department on /departments.")
