"""The briefing as an XLSX workbook (openpyxl): a cover sheet, then one sheet per section. Each table
has the English header in row 1 and the Chinese header in row 2, which carries the filter; the
panes are frozen below it. Numbers stay numbers, percentages are fractions shown as %, and times
are real spreadsheet dates in the briefing's zone."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from leadhub.api import i18n
from leadhub.briefing.render_values import display_width, text
from leadhub.briefing.sections import Briefing, Column, Section

HEADER_FILL = PatternFill("solid", fgColor="DCE6F2")
FORMATS = {"pct": "0.0%", "delta": "+0;-0;0", "int": "0", "number": "0.0", "datetime": "yyyy-mm-dd hh:mm", "date": "yyyy-mm-dd"}
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
MAX_WIDTH = 60


def sheet_title(section_key: str) -> str:
    """The sheet's name: the section's Chinese title (Excel allows 31 characters, no []:*?/\\)."""
    return _SHEET_BAD.sub(" ", i18n.translate("zh", f"briefing.section.{section_key}"))[:31]


def _cell_value(column: Column, value: Any, zone: ZoneInfo) -> Any:
    if value is None:
        return None
    if column.kind in ("int", "number", "pct", "delta"):
        return value
    if column.kind in ("datetime", "date") and isinstance(value, dt.datetime):
        # Spreadsheets have no time zones: the local wall-clock time, as the reader expects.
        return value.astimezone(zone).replace(tzinfo=None)
    if column.kind == "text" and isinstance(value, int | float):
        return value
    return text(column, value, "zh", zone)


def _table(ws: Any, section: Section, zone: ZoneInfo) -> None:
    widths: list[int] = []
    for i, column in enumerate(section.columns, 1):
        en = i18n.translate("en", f"briefing.col.{column.key}")
        zh = i18n.translate("zh", f"briefing.col.{column.key}")
        ws.cell(row=1, column=i, value=en).font = Font(italic=True, color="666666", size=9)
        header = ws.cell(row=2, column=i, value=zh)
        header.font, header.fill = Font(bold=True), HEADER_FILL
        header.alignment = Alignment(wrap_text=False)
        widths.append(max(display_width(zh), display_width(en) * 9 // 10) + 4)
    for r, row in enumerate(section.rows, 3):
        for c, (column, value) in enumerate(zip(section.columns, row, strict=True), 1):
            cell = ws.cell(row=r, column=c, value=_cell_value(column, value, zone))
            if column.kind in FORMATS:
                cell.number_format = FORMATS[column.kind]
            shown = text(column, value, "zh", zone)
            widths[c - 1] = max(widths[c - 1], display_width(shown) + 2)
    for c, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(c)].width = min(width, MAX_WIDTH)
    last = get_column_letter(len(section.columns))
    ws.auto_filter.ref = f"A2:{last}{max(2, len(section.rows) + 2)}"
    ws.freeze_panes = "A3"


def _cover(ws: Any, briefing: Briefing, zone: ZoneInfo) -> None:
    p = briefing.period
    ws.title = i18n.translate("zh", "briefing.sheet.cover")
    lines: list[tuple[str, Any]] = [
        ("briefing.title", i18n.translate("zh", f"briefing.period.{p.kind}") + " " + p.label),
        ("briefing.cover.span", p.span_text()),
        ("briefing.cover.previous", f"{briefing.previous.label} ({briefing.previous.span_text()})"),
        ("briefing.cover.timezone", str(zone)),
        ("briefing.cover.as_of", briefing.as_of.astimezone(zone).replace(tzinfo=None)),
        ("briefing.cover.generated", briefing.generated_at.astimezone(zone).replace(tzinfo=None)),
    ]
    for section in briefing.sections:
        if section.note:
            lines.append(("briefing.cover.note", i18n.translate("zh", section.note) + " / " + i18n.translate("en", section.note)))
    for r, (key, value) in enumerate(lines, 1):
        ws.cell(row=r, column=1, value=f"{i18n.translate('zh', key)} / {i18n.translate('en', key)}").font = Font(bold=True)
        cell = ws.cell(row=r, column=2, value=value)
        if isinstance(value, dt.datetime):
            cell.number_format = FORMATS["datetime"]
    ws.column_dimensions["A"].width = 36
    ws.column_dimensions["B"].width = 80


def write_xlsx(briefing: Briefing) -> bytes:
    zone = briefing.period.zone
    book = Workbook()
    _cover(book.active, briefing, zone)
    for section in briefing.sections:
        ws = book.create_sheet(sheet_title(section.key))
        if section.note and not section.columns:
            ws.cell(row=1, column=1, value=i18n.translate("zh", section.note))
            ws.cell(row=2, column=1, value=i18n.translate("en", section.note))
            ws.column_dimensions["A"].width = 100
            continue
        _table(ws, section, zone)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
