"""The briefing in a real browser (Debian's chromium through Playwright): an analyst opens /briefing,
downloads the week's HTML and XLSX with the page's own buttons, and the HTML, opened from disk as a
mail attachment would be, shows every section with its charts, on screen and printed to A4."""

from __future__ import annotations

import io
import time

import pytest
from openpyxl import load_workbook

from tests import api_env
from tests.briefing_suite import DATE, _models
from tests.e2e.login import log_in
from tests.e2e.test_browser import SCREENSHOTS, page, site  # noqa: F401 - the shared fixtures
from tests.performance_suite import _send_events

pytestmark = pytest.mark.integration
SECTIONS = ["totals", "by_category", "by_place", "departments", "hotspots", "most_reported", "overdue", "officers"]


@pytest.fixture(scope="module")
def seeded(site):  # noqa: F811
    env, base = site
    leads, cases, events = _models(env)
    api_env.write(env, leads=leads, cases=cases)
    _send_events(env, events)
    deadline = time.monotonic() + 30
    while not all(len((env.context.store.get("cases", e.case_id) or {}).get("history") or []) for e in events):
        assert time.monotonic() < deadline, "the case events did not reach the store"
        time.sleep(0.2)
    for kind in ("leads", "cases"):
        env.context.store.backend.refresh(f"i{env.run}-{kind}")
    return env, base


def test_an_analyst_downloads_the_weeks_briefing_and_it_reads_on_screen_and_on_paper(seeded, page, tmp_path):  # noqa: F811
    env, base = seeded
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    log_in(page, base, env.keys["analyst"])
    page.click("#nav-briefing")
    page.wait_for_url(f"{base}/briefing")
    page.select_option("#briefing-period", "week")
    page.fill("#briefing-date", DATE)
    page.select_option("#briefing-lang", "zh")
    with page.expect_download() as got:
        page.click("#download-html")
    download = got.value
    assert download.suggested_filename == "简报-周报-2022-W10.html"
    html_file = tmp_path / download.suggested_filename
    download.save_as(html_file)
    with page.expect_download() as got:
        page.click("#download-xlsx")
    assert got.value.suggested_filename == "简报-周报-2022-W10.xlsx"
    book = load_workbook(io.BytesIO(open(got.value.path(), "rb").read()))
    assert "超期案件" in book.sheetnames

    # Opened from disk, as from a mail: everything is in the one file.
    page.goto(html_file.as_uri())
    assert page.locator("h1").inner_text().startswith("工作简报")
    assert [page.locator(f"#section-{key} h2").count() for key in SECTIONS] == [1] * len(SECTIONS)
    assert page.locator("figure svg").count() == 2
    assert page.locator("#section-totals tbody tr").count() == 6
    assert f"{env.run}-brief-a" in page.locator("#section-overdue").inner_text()
    overdue_rows = page.locator("#section-overdue tbody tr")
    assert overdue_rows.count() == 1 and "已受理" in overdue_rows.first.inner_text()
    # the charts drew real bars: each chart's plot has a rect per category or town
    assert page.locator("#section-by_category figure svg .bar").count() >= 2
    page.screenshot(path=str(SCREENSHOTS / "briefing.png"), full_page=True)

    page.emulate_media(media="print")
    page.screenshot(path=str(SCREENSHOTS / "briefing-print.png"), full_page=True)
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000


def test_the_briefing_page_reads_on_a_phone_in_english(seeded, page):  # noqa: F811
    env, base = seeded
    log_in(page, base, env.keys["admin"])
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/lang/en?next=/briefing")
    page.wait_for_url(f"{base}/briefing")
    assert page.locator("h1").inner_text() == "Download the briefing"
    assert page.locator("#download-xlsx").inner_text() == "Download spreadsheet (XLSX)"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px phone"
    page.screenshot(path=str(SCREENSHOTS / "briefing-page-390.png"), full_page=True)
