"""Zero-config extraction of article and thread pages: title and body recall against what the pages say.

    python -m benchmarks.board_extraction

The pages are tests/fixtures/board/articles/*.html, written for the tests in the shapes of People's
Daily (UTF-8 under a GB2312 <meta>), Sina, Xinhua and a city government's GBK notice, with their
navigation, share bars, related links, comments and footers; expected.json holds what each says
(title, date, body paragraphs). Each page is decoded as boards are (decode_html) and read by the
``article`` site: no selectors, trafilatura alone. Per page:

- title: 1 when the extracted title is the headline (the site name after it tolerated, as " - 通知公告"),
- body recall: characters of the expected paragraphs found in order in the extracted body,
- body precision: of the extracted body's characters, the share that belongs to those paragraphs
  (the rest is editor lines, breadcrumbs, a table layout's navigation…),
- date: 1 when the extracted time is on the page's day.

A second table reads the same pages with the decoder boards used before issue 26 (w3lib's
html_to_unicode: the declared charset wins), to show what the People's Daily mislabel cost.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from difflib import SequenceMatcher

from benchmarks.common import REPO, print_table, write_json
from ingestors.spiders.parse import decode_html, parse_detail
from ingestors.spiders.site_config import DEFAULT_DATE_FORMATS, load_site, parse_board_time

PAGES = REPO / "tests" / "fixtures" / "board" / "articles"


def _chars(text: str) -> str:
    return "".join(text.split())


def matched(expected: str, found: str) -> int:
    """Characters of ``expected`` found in ``found`` in the same order (whitespace ignored)."""
    matcher = SequenceMatcher(None, _chars(expected), _chars(found), autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks())


def score(name: str, html: str, expected: dict) -> dict:
    started = time.perf_counter()
    record = parse_detail(html, "", load_site("article"))
    seconds = time.perf_counter() - started
    want = "\n".join(expected["body"])
    body = record.get("body") or ""
    hit = matched(want, body)
    title = record.get("title") or ""
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    try:
        when = parse_board_time(record.get("published"), now, DEFAULT_DATE_FORMATS, "Asia/Shanghai")
        day = when.date() if when else None
    except ValueError:
        day = None
    want_day = parse_board_time(expected["published"], now, DEFAULT_DATE_FORMATS, "Asia/Shanghai")
    return {
        "page": name,
        "title": int(title.startswith(expected["title"])),
        "title recall": round(matched(expected["title"], title) / len(_chars(expected["title"])), 4),
        "body recall": round(hit / len(_chars(want)), 4),
        "body precision": round(hit / max(1, len(_chars(body))), 4),
        "date": int(want_day is not None and day == want_day.date()),
        "extracted date": record.get("published"),
        "ms": round(seconds * 1000, 1),
    }


def mean(rows: list[dict], key: str) -> float:
    return round(sum(r[key] for r in rows) / len(rows), 4)


def main() -> None:
    expected = json.loads((PAGES / "expected.json").read_text(encoding="utf-8"))
    parse_detail("<html><body><p>warm-up</p></body></html>", "", load_site("article"))  # trafilatura's first load
    rows = [score(name, decode_html((PAGES / name).read_bytes()), want) for name, want in expected.items()]
    summary = {k: mean(rows, k) for k in ("title", "title recall", "body recall", "body precision", "date")}
    print_table("zero-config extraction (site: article, trafilatura alone)", rows + [{"page": "mean", **summary}])

    from w3lib.encoding import html_to_unicode

    before = [score(name, html_to_unicode(None, (PAGES / name).read_bytes())[1], want) for name, want in expected.items()]
    print_table("the same pages decoded as before (declared charset first)", before)
    write_json(
        "board_extraction",
        {"pages": rows, "mean": summary, "declared_charset_first": before, "command": "python -m benchmarks.board_extraction"},
    )


if __name__ == "__main__":
    main()
