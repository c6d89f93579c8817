"""Timezone-aware datetimes: a naive time is read in the source's time zone, not the machine's.

Validation context key ``timezone`` names that zone (IANA name); the default is Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, ValidationInfo

DEFAULT_TIMEZONE = "Asia/Shanghai"


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _aware(value: dt.datetime, info: ValidationInfo) -> dt.datetime:
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value
    context: dict[str, Any] = info.context or {}
    return value.replace(tzinfo=zone(context.get("timezone")))


AwareDatetime = Annotated[dt.datetime, AfterValidator(_aware)]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# Date styles sources write: ISO, and the board's and exports' own (2019/2/28 11:25:05, 2019-08-26 01:50:38).
DEFAULT_DATE_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"]


def parse_local_time(value: Any, formats: list[str], timezone: str) -> dt.datetime | None:
    """A time from a source: a datetime, one of ``formats``, or ISO 8601; naive ones are read in
    ``timezone``. None when empty; ValueError when it is none of these."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone(timezone))
    text = str(value).strip()
    for fmt in formats:
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=zone(timezone))
        except ValueError:
            continue
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"date {text!r} matches none of {formats}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone(timezone))
