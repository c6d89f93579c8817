"""/departments in a real browser (Debian's headless chromium): sort by a heading, follow a figure to its
cases on /search, read it in English, and on a 390-pixel phone without the page itself overflowing."""

from __future__ import annotations

import threading
import time

import pytest
import uvicorn

from leadhub.api.app import create_app
from tests import api_env, performance_suite
from tests.e2e.login import log_in
from tests.e2e.test_browser import SCREENSHOTS, _free_port, page  # noqa: F401  (the browser fixture)

pytestmark = pytest.mark.integration
HOUSING, TRANSPORT = performance_suite.HOUSING, performance_suite.TRANSPORT


@pytest.fixture(scope="module")
def site(settings, kafka_settings, search):
    environment = api_env.start(settings.search.url)
    leads, cases, events = performance_suite._models(environment)
    api_env.write(environment, leads=leads, cases=cases)
    performance_suite._send_events(environment, events)
    deadline = time.monotonic() + 30
    store = environment.context.store
    while sum(len((store.get("cases", c.case_id) or {}).get("history") or []) for c in cases) < len(events):
        assert time.monotonic() < deadline, "the case events did not reach the index"
        store.backend.refresh(f"i{environment.run}-cases")
        time.sleep(0.2)
    store.backend.refresh(f"i{environment.run}-cases")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(environment.context), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started and time.monotonic() < deadline + 20:
        time.sleep(0.05)
    assert server.started, "the API server did not start"
    yield environment, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    environment.close()


def _row_order(page) -> list[str]:  # noqa: F811
    return page.locator("#departments tbody th[scope=row]").all_inner_texts()


def test_the_department_table_sorts_links_to_its_cases_and_reads_on_a_phone(site, page):  # noqa: F811
    env, base = site
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
    log_in(page, base, env.keys["analyst"])
    period = f"since={performance_suite.SINCE}&until={performance_suite.UNTIL}"
    page.goto(f"{base}/departments?{period}")
    assert page.locator("h1").inner_text() == "部门办理情况"  # the browser asks for Chinese
    assert page.locator("#departments svg.spark").count() == 2  # a trend per row
    assert _row_order(page) == [HOUSING, TRANSPORT]  # by received, most first (3 and 1)

    with page.expect_navigation():
        page.click("#sort-received")  # the same heading again: ascending
    assert _row_order(page) == [TRANSPORT, HOUSING]
    assert page.locator("th[aria-sort=ascending] #sort-received").count() == 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "departments.png"), full_page=True)

    # housing's "returned" (1): the case it handed back, on the search page
    housing = page.locator("#departments tbody tr", has=page.locator(f"th:text-is('{HOUSING}')"))
    cells = housing.locator("td.num")
    returned = cells.nth(6)  # after received, accepted, resolved, on time, median and p90
    assert returned.inner_text() == "1"
    with page.expect_navigation():
        returned.locator("a").click()
    assert "/search" in page.url
    found = page.locator("a.case-link")
    assert found.count() == 1 and found.first.get_attribute("href") == f"/cases/{env.run}-perf-bounced"

    # English, and a 390-pixel phone: the table scrolls in its wrapper, the page does not
    page.goto(f"{base}/lang/en?next=/departments?{period.replace('&', '%26')}")
    assert page.locator("h1").inner_text() == "Department performance"
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/departments?{period}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    wrapper = page.locator(".wide")
    assert wrapper.evaluate("e => e.scrollWidth > e.clientWidth")  # more figures than fit: they scroll sideways
    page.screenshot(path=str(SCREENSHOTS / "departments-phone-en.png"), full_page=True)
    assert refused == []  # the sparklines live within the Content-Security-Policy
