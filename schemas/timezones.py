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
    return dt.datetime.now(dt.timezone.utc)
