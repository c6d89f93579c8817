"""The loop closes in a real browser (desktop Chinese, 390-pixel phone English): an officer of the
department resolves an experience officer's report from the case page; the experience officer logs in,
lands on /my, reads the result and rates it dissatisfied from the form (no script), is told the case
was reopened, and the case is open again."""

from __future__ import annotations

import httpx
import pytest

from tests import api_data
from tests.e2e import test_browser
from tests.e2e.login import log_in
from tests.e2e.test_browser import SCREENSHOTS
from tests.e2e.test_languages import browser_for  # noqa: F401 - the fixture, found by this module's names
from tests.reports_suite import report_case

site = test_browser.site

pytestmark = pytest.mark.integration


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


@pytest.mark.parametrize("locale,width", [("zh-CN", 1280), ("en-US", 390)])
def test_an_experience_officer_rates_the_answer_dissatisfied_and_the_case_reopens(site, browser_for, locale, width):  # noqa: F811
    env, base = site
    report_id = report_case(env)
    officer_key = {"Authorization": f"Bearer {env.keys['officer']}"}
    for body in ({"action": "accept"}, {"action": "assign", "department": api_data.HOUSING}, {"action": "start"}):
        assert httpx.post(f"{base}/api/v1/cases/{report_id}/events", json=body, headers=officer_key).status_code in (201, 202)

    # The housing officer resolves it on the case page.
    officer = browser_for(locale, width=width, height=900)
    log_in(officer, base, env.keys["officer"], "/search")
    officer.goto(f"{base}/cases/{report_id}")
    officer.locator('details:has(form[data-action="resolve"]) summary').click()
    officer.fill('form[data-action="resolve"] textarea[name=note]', "已督促物业更换电梯主板，电梯已恢复运行")
    officer.click("#do-resolve")
    officer.wait_for_url(f"{base}/cases/{report_id}?*")
    assert officer.locator("#case-status").get_attribute("data-status") == "resolved"

    # The experience officer lands on /my, sees the result, and rates it.
    page = browser_for(locale, width=width, height=900)
    log_in(page, base, env.keys["intake"], "/my")
    card = page.locator(f"#report-{report_id}")
    assert "已督促物业更换电梯主板" in card.inner_text()
    assert card.locator('.status[data-status="resolved"]').count() == 1
    assert _fits(page)
    tag = f"{locale}-{width}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"my-reports-{tag}.png"), full_page=True)
    card.locator('input[name=rating][value="dissatisfied"]').check()
    card.locator("textarea[name=comment]").fill("电梯周五又停了")
    card.locator("button[type=submit]").click()
    page.wait_for_url(f"{base}/my?*")
    message = page.locator("#message").inner_text()
    assert ("重新打开" in message) if locale.startswith("zh") else ("reopened" in message)
    card = page.locator(f"#report-{report_id}")
    assert card.locator('.status[data-status="accepted"]').count() == 1 and card.locator("form").count() == 0
    assert _fits(page)
    page.screenshot(path=str(SCREENSHOTS / f"my-rated-{tag}.png"), full_page=True)

    case = httpx.get(f"{base}/api/v1/cases/{report_id}", headers={"Authorization": f"Bearer {env.keys['admin']}"}).json()
    assert case["status"] == "accepted" and [h["action"] for h in case["history"][-2:]] == ["rate", "reopen"]
    assert case["ratings"][-1]["rating"] == "dissatisfied" and case["ratings"][-1]["comment"] == "电梯周五又停了"
