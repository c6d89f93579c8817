"""The samples' times, placed relative to the day the demo runs.

The sample files hold no calendar dates, only tokens such as ``{{day-27 08:41:27}}`` (27 days before
today, 08:41:27 Yiwu time), so that "overdue", "hot" and the time charts mean something on any day.
A token is ``{{day-N[ HH:MM:SS][ STYLE]}}``; the style is the format the file's source writes:

- ``iso`` (the default): ``2026-11-02 08:41:27``, as hotline exports and board replies write it;
- ``slash``: ``2026/11/02 08:41:27``, the board's message times;
- ``rfc822``: ``Mon, 02 Nov 2026 08:41:27 +0800``, a feed's ``pubDate`` (English names whatever the locale);
- ``md``: ``11月2日``, a date inside a text (no time).

The newest sample is a day old (``day-1``), so nothing is ever in the future, whatever the hour.
Rendering for :data:`WRITTEN_FOR` gives back the dates the samples were written with (November 2026).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

CITY = ZoneInfo("Asia/Shanghai")  # the samples are Yiwu's; their sources read local times in this zone
WRITTEN_FOR = dt.date(2026, 11, 29)  # "today" for the samples as written: day-1 is 2026-11-28
TEXT_SUFFIXES = (".xml", ".html", ".csv")

_TOKEN = re.compile(rb"\{\{day(-\d+)(?: (\d\d:\d\d:\d\d))?(?: (iso|slash|rfc822|md))?\}\}")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class TokenError(ValueError):
    pass


def city_today(now: dt.datetime | None = None) -> dt.date:
    return (now or dt.datetime.now(dt.UTC)).astimezone(CITY).date()


def _format(day: dt.date, clock: str | None, style: str) -> str:
    if style == "md":
        return f"{day.month}月{day.day}日"
    if clock is None:
        raise TokenError(f"a {style} date needs a time (HH:MM:SS)")
    if style == "slash":
        return f"{day:%Y/%m/%d} {clock}"
    if style == "rfc822":
        return f"{_DAYS[day.weekday()]}, {day.day:02d} {_MONTHS[day.month - 1]} {day.year} {clock} +0800"
    return f"{day:%Y-%m-%d} {clock}"


def render_dates(data: bytes, today: dt.date) -> bytes:
    """``data`` with every ``{{day…}}`` token replaced by its date counted from ``today``."""

    def replace(match: re.Match[bytes]) -> bytes:
        offset, clock, style = match.group(1), match.group(2), match.group(3)
        day = today + dt.timedelta(days=int(offset))
        return _format(day, clock.decode() if clock else None, (style or b"iso").decode()).encode("utf-8")

    rendered = _TOKEN.sub(replace, data)
    if b"{{day" in rendered:  # a token the pattern does not read: a typo in a sample, not a date
        where = rendered.index(b"{{day")
        raise TokenError(f"unreadable date token: {rendered[where:where + 40]!r}")
    return rendered


def render_samples(source: Path, target: Path, today: dt.date, base_url: str | None = None) -> Path:
    """A copy of the samples folder with dates for ``today`` and, when given, ``${BASE_URL}`` filled
    in (the feed's links; the board's are relative). Other files are copied as they are."""
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.rglob("*")):
        out = target / path.relative_to(source)
        if path.is_dir():
            out.mkdir(exist_ok=True)
        elif path.suffix in TEXT_SUFFIXES:
            data = render_dates(path.read_bytes(), today)
            if base_url is not None:
                data = data.replace(b"${BASE_URL}", base_url.encode())
            out.write_bytes(data)
        else:
            shutil.copy(path, out)
    return target
