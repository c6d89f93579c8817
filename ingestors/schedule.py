"""When each source runs next: interval or cron schedules, backoff after failures, staleness.

Pure functions of times, so the scheduler's decisions are testable without waiting.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass

from croniter import croniter

from ingestors.sources import parse_duration

_EVERY = re.compile(r"^\s*every\s+(.+)$")


@dataclass(frozen=True)
class Schedule:
    interval: dt.timedelta | None = None
    cron: str | None = None

    def next_after(self, moment: dt.datetime) -> dt.datetime:
        if self.interval is not None:
            return moment + self.interval
        if self.cron is None:
            raise ValueError("a schedule needs an interval or a cron expression")
        return croniter(self.cron, moment).get_next(dt.datetime)


def parse_schedule(text: str) -> Schedule:
    """'every 10m' / 'every 6h', or a five-field cron line such as '*/15 * * * *'."""
    match = _EVERY.match(text)
    if match:
        return Schedule(interval=parse_duration(match.group(1)))
    if croniter.is_valid(text):
        return Schedule(cron=text)
    raise ValueError(f"schedule {text!r} is neither 'every <duration>' nor a cron line")


def backoff(failures: int, *, base: dt.timedelta = dt.timedelta(seconds=30), cap: dt.timedelta = dt.timedelta(hours=1),
            rng: random.Random | None = None) -> dt.timedelta:  # fmt: skip
    """Wait after ``failures`` failures in a row: exponential, capped, with full jitter."""
    ceiling = min(cap.total_seconds(), base.total_seconds() * 2 ** max(0, failures - 1))
    return dt.timedelta(seconds=(rng or random).uniform(ceiling / 2, ceiling))


def next_run(schedule: Schedule, last_start: dt.datetime | None, failures: int, now: dt.datetime,
             rng: random.Random | None = None) -> dt.datetime:  # fmt: skip
    """A source never run runs now; after a failure it retries on backoff (never later than its
    schedule); otherwise it follows its schedule."""
    if last_start is None:
        return now
    scheduled = schedule.next_after(last_start)
    if failures:
        return min(scheduled, last_start + backoff(failures, rng=rng))
    return scheduled


def is_stale(expect_every: dt.timedelta | None, last_success: dt.datetime | None, since: dt.datetime, now: dt.datetime) -> bool:
    """No success within ``expect_every`` (counted from the last success, or from ``since``)."""
    if expect_every is None:
        return False
    return now - (last_success or since) > expect_every
