"""Report periods in the city's local time: a week runs Monday 00:00 to the next Monday 00:00, a
month from its first day to the next month's. Pure date arithmetic, no store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

PeriodKind = Literal["week", "month"]
KINDS: tuple[PeriodKind, ...] = ("week", "month")


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    first_day: dt.date  # the first local day
    zone: ZoneInfo

    @property
    def next_first_day(self) -> dt.date:
        if self.kind == "week":
            return self.first_day + dt.timedelta(days=7)
        return (self.first_day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)

    @property
    def last_day(self) -> dt.date:
        return self.next_first_day - dt.timedelta(days=1)

    @property
    def start(self) -> dt.datetime:
        """Local midnight of the first day (aware)."""
        return dt.datetime.combine(self.first_day, dt.time(), self.zone)

    @property
    def end(self) -> dt.datetime:
        """Local midnight after the last day: the period is [start, end)."""
        return dt.datetime.combine(self.next_first_day, dt.time(), self.zone)

    def previous(self) -> Period:
        return containing(self.kind, self.first_day - dt.timedelta(days=1), self.zone)

    def contains(self, moment: dt.datetime) -> bool:
        return self.start <= moment < self.end

    @property
    def label(self) -> str:
        """A stable, file-name-safe name: 2026-W49 (ISO week) or 2026-12."""
        if self.kind == "week":
            year, week, _ = self.first_day.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.first_day.year}-{self.first_day.month:02d}"

    def span_text(self) -> str:
        return f"{self.first_day.isoformat()} – {self.last_day.isoformat()}"


def containing(kind: PeriodKind, day: dt.date, zone: ZoneInfo) -> Period:
    """The week (Monday first) or month that holds the local ``day``."""
    if kind == "week":
        return Period(kind, day - dt.timedelta(days=day.weekday()), zone)
    if kind == "month":
        return Period(kind, day.replace(day=1), zone)
    raise ValueError(f"unknown period {kind!r}: use week or month")


def last_complete(kind: PeriodKind, now: dt.datetime, zone: ZoneInfo) -> Period:
    """The latest period that has ended by ``now`` (read in ``zone``): on a Monday, last week."""
    return containing(kind, now.astimezone(zone).date(), zone).previous()


def choose(kind: PeriodKind, day: dt.date | None, now: dt.datetime, zone: ZoneInfo) -> Period:
    """``--date D``: the period containing D; no date: the last complete period."""
    return containing(kind, day, zone) if day is not None else last_complete(kind, now, zone)
