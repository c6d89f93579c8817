"""The table `leadhub search` prints: one line per hit that fits a 100-column terminal.

Ids are 32 hex digits; their first 10 tell hits apart on a page and leave room for the title
(`--wide` prints them whole, `--json` always does). Every cell stays on one line, shortened with an
ellipsis, so a row is a row for the eye and for grep; rich measures Chinese characters as two columns.
"""

from __future__ import annotations

import os
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

from leadhub.queries import SearchPage

SHORT_ID = 10


def _id(value: Any, wide: bool) -> str:
    text = str(value or "")
    return text if wide else text[:SHORT_ID]


def _when(value: Any) -> str:
    return str(value or "")[:16].replace("T", " ")


def _level1(hit: dict[str, Any]) -> str:
    return (hit.get("category") or {}).get("level1") or ""


def _town(hit: dict[str, Any]) -> str:
    return (hit.get("place") or {}).get("town") or ""


# Widest a column gets (terminal columns; a Chinese character takes two), the title takes the rest.
CASE_COLUMNS = [("case", SHORT_ID), ("status", 11), ("n", 4), ("category", 8), ("department", 12), ("place", 8), ("first seen", 10)]
LEAD_COLUMNS = [("lead", SHORT_ID), ("channel", 10), ("source", 12), ("category", 8), ("place", 8), ("published", 10), ("case", SHORT_ID)]
TITLE_MIN = 12
GAP = 2  # between two columns: the right padding of one and the left padding of the next


def _rows(page: SearchPage, wide: bool) -> list[list[str]]:
    """Each hit's cells, the title last."""
    if page.kind == "cases":
        return [
            [_id(h.get("case_id"), wide), h.get("status") or "", str(h.get("report_count", "")), _level1(h),
             h.get("department") or "", _town(h), _when(h.get("first_seen"))[:10], h.get("title") or ""]
            for h in page.hits
        ]  # fmt: skip
    return [
        [_id(h.get("lead_id"), wide), h.get("channel") or "", h.get("source") or "", _level1(h), _town(h),
         _when(h.get("published_at") or h.get("fetched_at"))[:10], _id(h.get("case_id"), wide), h.get("title") or h.get("text") or ""]
        for h in page.hits
    ]  # fmt: skip


def build_table(page: SearchPage, *, width: int, wide: bool = False) -> Table:
    """The page as a table of ``width`` columns (more only with ``wide``, for whole ids).

    Cells are whole when they fit (a wide terminal, or piped output); otherwise each column is cut to its
    cap and the title gets what is left.
    """
    caps = CASE_COLUMNS if page.kind == "cases" else LEAD_COLUMNS
    rows = [[" ".join(cell.split()) for cell in row] for row in _rows(page, wide)]  # one line per cell
    natural = [max([cell_len(name), *(cell_len(row[i]) for row in rows)]) for i, (name, _) in enumerate(caps)]
    widths = natural
    if sum(natural) + GAP * len(caps) + TITLE_MIN > width:  # short of room: every column to its cap but whole ids
        widths = [n if wide and name in ("case", "lead") else min(cap, n) for n, (name, cap) in zip(natural, caps, strict=True)]
    used = sum(widths) + GAP * len(caps)
    title = max(TITLE_MIN, width - used)
    table = Table(title=f"{page.total} {page.kind} (page {page.page})", box=None, pad_edge=False, header_style="bold")
    for (name, _), w in zip(caps, widths, strict=True):
        table.add_column(name, width=w, no_wrap=True, overflow="ellipsis", justify="right" if name == "n" else "left")
    table.add_column("title", width=title, no_wrap=True, overflow="ellipsis")
    for row in rows:
        table.add_row(*row)
    return table


def print_table(page: SearchPage, *, wide: bool = False, console: Console | None = None) -> None:
    # A terminal's own width, or the one COLUMNS asks for (`COLUMNS=100 leadhub search … | less`, which rich
    # reads); other piped output has none, so it gets room enough to keep most cells whole.
    sized = Console().is_terminal or os.environ.get("COLUMNS", "").strip().isdigit()
    console = console or Console(width=None if sized else 220)
    table = build_table(page, width=console.width, wide=wide)
    needed = sum(c.width or 0 for c in table.columns) + GAP * (len(table.columns) - 1)
    if needed <= console.width:
        console.print(table)
        return
    # Only --wide gets here: whole ids were asked for, so the lines may run past the terminal's edge.
    width, console.width = console.width, needed
    try:
        console.print(table)
    finally:
        console.width = width
