"""Making a briefing from settings and a store, and writing it: what the CLI, the web page and the
schedule share."""

from __future__ import annotations

import datetime as dt
from typing import Any

from leadhub.briefing import gather, periods
from leadhub.briefing.sections import Briefing
from schemas.timezones import zone

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
}


def extra_sections(settings: Any) -> dict[str, gather.ExtraSection]:
    """The sections other modules make, when they are there (department performance, hotspots)."""
    found: dict[str, gather.ExtraSection] = {}
    return found


def make_briefing(store: Any, settings: Any, period: str, day: dt.date | None, now: dt.datetime | None = None) -> Briefing:
    now = now or dt.datetime.now(dt.UTC)
    chosen = periods.choose(period, day, now, zone(settings.briefing.timezone))  # type: ignore[arg-type]
    return gather.build(store, chosen, now=now, top=settings.briefing.top, **extra_sections(settings))


def render(briefing: Briefing, fmt: str, lang: str = "zh") -> bytes:
    if fmt == "xlsx":
        from leadhub.briefing.xlsx import write_xlsx

        return write_xlsx(briefing)
    from leadhub.briefing.html import write_html

    return write_html(briefing, lang).encode("utf-8")


def file_name(briefing: Briefing, fmt: str, lang: str = "zh") -> str:
    """简报-周报-2026-W49.xlsx (Chinese) or briefing-week-2026-W49.xlsx."""
    p = briefing.period
    if lang == "en":
        return f"briefing-{p.kind}-{p.label}.{fmt}"
    return f"简报-{'周报' if p.kind == 'week' else '月报'}-{p.label}.{fmt}"
