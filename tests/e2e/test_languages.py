"""The pages in a real browser in both languages, and on a 390-pixel phone: a foreign officer's browser
gets English by itself, the visible switch changes the language and is remembered, and a phone
shows the search and case pages without sideways scrolling."""

from __future__ import annotations

import pytest

from tests.e2e import test_browser
from tests.e2e.login import log_in
from tests.e2e.test_browser import CHROMIUM_FLAGS, SCREENSHOTS, _chromium

# The browser tests' running site, shared as a fixture: pytest finds a fixture by the module's names.
site = test_browser.site

pytestmark = pytest.mark.integration


@pytest.fixture
def browser_for(tmp_path):
    """A fresh browser profile with the given locale and viewport width."""
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    with sync_playwright() as playwright:
        contexts = []

        def make(locale: str, width: int = 1280, height: int = 900):
            context = playwright.chromium.launch_persistent_context(
                str(tmp_path / f"profile-{len(contexts)}"), executable_path=executable, headless=True,
                args=CHROMIUM_FLAGS, viewport={"width": width, "height": height}, locale=locale,
            )  # fmt: skip
            contexts.append(context)
            return context.pages[0] if context.pages else context.new_page()

        try:
            yield make
        finally:
            for context in contexts:
                context.close()


def test_an_english_browser_gets_english_and_the_switch_is_remembered(site, browser_for):
    env, base = site
    page = browser_for("en-US")
    page.goto(f"{base}/login")
    assert page.locator("h1").inner_text() == "Log in"
    assert page.locator("html").get_attribute("lang") == "en"
    log_in(page, base, env.keys["analyst"])
    assert page.locator("#search").inner_text() == "Search"
    assert "cases" in page.locator(".total").inner_text()
    statuses = page.locator(".results .status").all_inner_texts()
    assert statuses and set(statuses) <= {"new", "accepted", "assigned", "in progress", "resolved", "closed", "rejected"}

    with page.expect_navigation():
        page.click("#lang-zh")
    assert page.locator("#search").inner_text() == "检索"
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "/search" in page.url  # the switch comes back to the same page
    page.goto(f"{base}/dashboard")  # remembered on the next page
    assert "看板" in page.title() and page.locator("#lang-en").count() == 1

    with page.expect_navigation():
        page.click("#lang-en")
    assert "Dashboard" in page.title()
    assert "overdue" in page.locator("#overdue-link").inner_text()


def test_a_chinese_browser_gets_chinese_by_default(site, browser_for):
    env, base = site
    page = browser_for("zh-CN")
    log_in(page, base, env.keys["analyst"])
    assert page.locator("#search").inner_text() == "检索"
    statuses = set(page.locator(".results .status").all_inner_texts())
    assert statuses and statuses <= {"待受理", "已受理", "已派单", "办理中", "已办结", "已反馈", "不予受理"}


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_a_390_pixel_phone_reads_search_dashboard_and_case_without_sideways_scrolling(site, browser_for, locale):
    env, base = site
    page = browser_for(locale, width=390, height=844)
    log_in(page, base, env.keys["officer"])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in [("search", "/search"), ("dashboard", "/dashboard"), ("case", f"/cases/{env.case_id('lift')}")]:
        page.goto(f"{base}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than the phone"
        if name == "dashboard":  # its tables read as cards, none scrolls sideways in its wrapper
            widths = page.evaluate("[...document.querySelectorAll('table.cards')].map(t => t.scrollWidth)")
            assert len(widths) == 5 and max(widths) <= 390, widths  # hotspots, hot issues, raised again, hot and overdue cases
        font = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert font >= 14  # readable without zooming
        shot = SCREENSHOTS / f"phone-{name}-{locale}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 5_000
