"""The experience officers' loop in a real browser (desktop and a 390-pixel phone, Chinese and English):
an experience officer files a report with a photo from the /report form (a refused form keeps what was
typed); an officer of the department sees the photo on the case page (the thumbnail really loads:
served bytes, allowed by the page's policy) and resolves the case there; the experience officer reads
the result on /my, rates it dissatisfied, and the case is open again."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image

from tests import api_data
from tests.e2e import test_browser
from tests.e2e.login import log_in
from tests.e2e.test_browser import SCREENSHOTS
from tests.e2e.test_languages import browser_for  # noqa: F401 - the fixture, found by this module's names
from tests.photo_suite import into_a_case

site = test_browser.site

pytestmark = pytest.mark.integration


def _photo(path):
    image = Image.new("RGB", (800, 600), (40, 110, 170))
    out = io.BytesIO()
    image.save(out, "JPEG")
    path.write_bytes(out.getvalue())
    return path


@pytest.mark.parametrize("locale,width", [("zh-CN", 1280), ("en-US", 390)])
def test_an_officer_files_a_report_with_a_photo_hears_back_and_rates_it(site, browser_for, tmp_path, locale, width):  # noqa: F811
    env, base = site
    page = browser_for(locale, width=width, height=900)
    log_in(page, base, env.keys["intake"], "/report", next_page="/report")
    assert page.locator("input[type=file][name=photos][multiple]").count() == 1
    assert page.locator("#place-names option").count() > 20  # the gazetteer's towns and communities
    assert page.locator("#visited_at").input_value()  # defaults to now
    tag = f"{locale}-{width}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"report-form-{tag}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0

    # First without "what went wrong" and with a file that is no image: both problems are said, the text is kept.
    page.fill("#title", f"自助机黑屏 {tag}")
    page.fill("#place", "稠城街道")
    page.fill("#tried", "打印社保证明")
    (tmp_path / "scan.jpg").write_bytes(b"not an image")
    page.set_input_files("#photos", [str(tmp_path / "scan.jpg")])
    page.locator("#went_wrong").evaluate("e => e.removeAttribute('required')")  # what an old browser would send
    page.click("#send-report")
    errors = page.locator("#report-errors").inner_text()
    assert "scan.jpg" in errors and ("遇到的问题" in errors or "What went wrong" in errors)
    assert page.locator("#title").input_value() == f"自助机黑屏 {tag}"
    page.screenshot(path=str(SCREENSHOTS / f"report-refused-{tag}.png"), full_page=True)

    page.fill("#went_wrong", "三台自助机都黑屏，工作人员说坏了一周")
    page.set_input_files("#photos", [str(_photo(tmp_path / "hall.jpg"))])
    page.click("#send-report")
    page.wait_for_url(f"{base}/report/*")
    # Cluster mode: the pipeline routes it after the answer; the page says so and points to /my.
    assert page.locator("#report-processing").count() == 1 and page.locator('a[href="/my"]').count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.screenshot(path=str(SCREENSHOTS / f"report-sent-{tag}.png"), full_page=True)

    lead = env.submitted_lead(page.url.rsplit("/", 1)[1])
    (stored,) = [a for a in lead["attachments"] if a.get("id")]
    case_id = into_a_case(env, lead, f"e2e-photo-{tag}")
    officer = browser_for(locale, width=width, height=900)
    officer.goto(f"{base}/login?next=/cases/{case_id}")
    officer.fill("input[name=key]", env.keys["officer"])
    officer.click("#login")
    officer.wait_for_url(f"{base}/cases/{case_id}")
    thumb = officer.locator(f'img[src="/attachments/{stored["id"]}/thumb"]')
    thumb.scroll_into_view_if_needed()
    officer.wait_for_function("img => img.complete", arg=thumb.element_handle())
    assert thumb.evaluate("img => img.naturalWidth") > 0  # the bytes came, and the page's policy let them in
    officer.screenshot(path=str(SCREENSHOTS / f"case-photos-{tag}.png"), full_page=True)

    # The department's officer takes it through to resolved; the last step on the case page.
    officer_key = {"Authorization": f"Bearer {env.keys['officer']}"}
    for body in ({"action": "accept"}, {"action": "assign", "department": api_data.HOUSING}, {"action": "start"}):
        answer = httpx.post(f"{base}/api/v1/cases/{case_id}/events", json=body, headers=officer_key)
        assert answer.status_code in (201, 202), answer.text
    officer.goto(f"{base}/cases/{case_id}")
    officer.locator('details:has(form[data-action="resolve"]) summary').click()
    officer.fill('form[data-action="resolve"] textarea[name=note]', "自助机主板已更换，三台均恢复使用")
    officer.click("#do-resolve")
    officer.wait_for_url(f"{base}/cases/{case_id}?*")
    assert officer.locator("#case-status").get_attribute("data-status") == "resolved"

    # The experience officer hears back on /my and says the answer is not good enough.
    page.goto(f"{base}/my")
    card = page.locator(f"#report-{lead['lead_id']}")
    assert "自助机主板已更换" in card.inner_text() and card.locator('.status[data-status="resolved"]').count() == 1
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.screenshot(path=str(SCREENSHOTS / f"loop-my-{tag}.png"), full_page=True)
    card.locator('input[name=rating][value="dissatisfied"]').check()
    card.locator("textarea[name=comment]").fill("第二天又黑屏了")
    card.locator("button[type=submit]").click()
    page.wait_for_url(f"{base}/my?*")
    assert page.locator(f"#report-{lead['lead_id']}").locator('.status[data-status="accepted"]').count() == 1
    page.screenshot(path=str(SCREENSHOTS / f"loop-rated-{tag}.png"), full_page=True)
    case = httpx.get(f"{base}/api/v1/cases/{case_id}", headers={"Authorization": f"Bearer {env.keys['admin']}"}).json()
    assert case["status"] == "accepted" and [h["action"] for h in case["history"][-2:]] == ["rate", "reopen"]
    assert case["ratings"][-1]["rating"] == "dissatisfied" and case["ratings"][-1]["comment"] == "第二天又黑屏了"
