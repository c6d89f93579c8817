"""One cell's value as a reader sees it, shared by the XLSX and HTML writers: labels from the
catalog, data names in the reader's language, times in the briefing's zone."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any
from zoneinfo import ZoneInfo

from leadhub.api import i18n
from leadhub.briefing.sections import Column

NAME_KINDS = {"category": "categories", "town": "towns", "department": "departments"}


def text(column: Column, value: Any, lang: str, zone: ZoneInfo) -> str:
    """The value as words (the HTML table, and the XLSX cells that are text)."""
    if value is None or value == "":
        return "—"
    if column.kind == "text" and isinstance(value, str) and value.startswith("briefing."):
        return i18n.translate(lang, value)
    if column.kind in NAME_KINDS:
        return i18n.data_name(lang, NAME_KINDS[column.kind], value)
    if column.kind == "status":
        return i18n.label(lang, "status", value)
    if column.kind == "pct":
        return f"{value * 100:+.1f}%" if column.key == "change_pct" else f"{value * 100:.1f}%"
    if column.kind == "number":
        return f"{value:.1f}" if isinstance(value, float) else str(value)
    if column.kind == "delta":
        return f"{value:+d}"
    if column.kind in ("datetime", "date") and isinstance(value, dt.datetime):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M" if column.kind == "datetime" else "%Y-%m-%d")
    return str(value)


def display_width(value: str) -> int:
    """Columns a text takes in a spreadsheet: wide (CJK) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in value)
