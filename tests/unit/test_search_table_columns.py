"""`leadhub search`'s table on its own console (what a user gets): COLUMNS sets the width of piped
output too, and piped output without it keeps the cells whole."""

from __future__ import annotations

import pytest
from rich.cells import cell_len

from leadhub.commands.search_table import print_table
from leadhub.queries import SearchPage

CASE_ID = "3f2a9c0d1e4b5a6978c0d1e2f3a4b5c6"
TITLE = "上溪镇塘西村自来水发黄有异味一个星期，镇里回应正在排查管网，村民希望尽快给个说法" * 2
HITS = [{"case_id": CASE_ID, "status": "new", "report_count": 4, "category": {"level1": "城乡建设"},
         "department": "金华市生态环境局义乌分局", "place": {"town": "上溪镇"}, "first_seen": "2026-11-28T10:05:00+08:00",
         "title": TITLE}] * 3  # fmt: skip
PAGE = SearchPage(kind="cases", total=3, page=1, size=20, hits=HITS)


def test_columns_sets_the_width_of_piped_output(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "100")
    print_table(PAGE)
    lines = capsys.readouterr().out.splitlines()
    assert lines and max(cell_len(line) for line in lines) <= 100
    assert sum(line.startswith(CASE_ID[:10]) for line in lines) == 3 and CASE_ID not in "\n".join(lines)


@pytest.mark.parametrize("columns", [None, ""])
def test_piped_output_without_columns_keeps_cells_whole(monkeypatch, capsys, columns):
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    print_table(PAGE)
    out = capsys.readouterr().out
    assert "金华市生态环境局义乌分局" in out and max(cell_len(line) for line in out.splitlines()) > 100
