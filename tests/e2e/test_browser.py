"""The web pages in a real browser (Debian's headless chromium driven by Playwright): log in, search,
open a case, act on it, and keep a screenshot."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from leadhub.api.app import create_app
from tests import api_env
from tests.e2e.login import log_in

pytestmark = pytest.mark.integration

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCREENSHOTS = Path(os.environ.get("LEADHUB_SCREENSHOTS", ".local/screenshots"))


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    message = "chromium is not installed (apt-get install chromium); .ci/run installs it"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def site(settings, kafka_settings, search):
    environment = api_env.start(settings.search.url)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(environment.context), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the API server did not start"
    yield environment, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    environment.close()


@pytest.fixture
def page(tmp_path):
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=executable, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000}, locale="zh-CN",
        )  # fmt: skip
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def test_an_officer_logs_in_searches_opens_a_case_and_accepts_it(site, page):
    env, base = site
    page.goto(f"{base}/search")
    assert "/login" in page.url  # not logged in yet
    page.fill("input[name=key]", env.keys["officer"])
    page.click("#login")
    page.wait_for_url(f"{base}/search")

    page.fill("#q", "电梯 停运")
    with page.expect_navigation():
        page.click("#search")
    links = page.locator("a.case-link")
    assert links.count() == 1 and "电梯" in links.first.inner_text()
    links.first.click()
    page.wait_for_url(f"{base}/cases/{env.case_id('lift')}")
    assert page.locator("#case-status").get_attribute("data-status") == "new"
    assert page.locator("#case-status").inner_text() == "待受理"  # the browser asks for Chinese
    assert page.locator(".lead").count() == 3  # forum, hotline and officer reports of the same problem

    page.click("details:has(#do-accept) summary")
    page.fill("form[data-action=accept] textarea[name=note]", "已受理，联系物业核实")
    with page.expect_navigation():
        page.click("#do-accept")
    assert "已完成" in page.locator("#message").inner_text()
    assert page.locator("#case-status").get_attribute("data-status") == "accepted"
    assert page.locator(".timeline b[data-action=accept]").inner_text() == "受理"

    # An action the status does not allow is not offered, and a forged one is refused with its reason.
    assert page.locator("#do-resolve").count() == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "case-accepted.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_script_in_a_lead_shows_as_text_and_the_dashboard_draws(site, page):
    env, base = site
    dialogs, refused = [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
    page.goto(f"{base}/login")
    page.fill("input[name=key]", env.keys["analyst"])
    page.click("#login")
    page.wait_for_url(f"{base}/search")
    page.goto(f"{base}/cases/{env.case_id('script')}")
    assert "<script>alert('x')</script>" in page.locator("h1").inner_text()
    page.goto(f"{base}/dashboard")
    assert page.locator(".charts svg").count() == 4
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)
    assert dialogs == []  # no injected script ran
    assert refused == []  # the pages, charts included, live within their Content-Security-Policy


def test_logout_ends_the_session_and_its_cookie_stops_working(site, page):
    env, base = site
    page.goto(f"{base}/login")
    page.fill("input[name=key]", env.keys["officer"])
    page.click("#login")
    page.wait_for_url(f"{base}/search")
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["leadhub_session"]
    assert session["httpOnly"] and session["sameSite"] == "Lax" and env.keys["officer"] not in session["value"]

    with page.expect_navigation():
        page.click("form.who button[type=submit]")
    assert "/login" in page.url
    page.goto(f"{base}/search")
    assert "/login" in page.url  # logged out

    # The cookie's value, put back by hand (as a thief with a copy would), is refused: logout revoked it.
    page.context.add_cookies([{"name": "leadhub_session", "value": session["value"], "url": base}])
    page.goto(f"{base}/search")
    assert "/login" in page.url


def _wait_for(page, url, check, timeout_s=20.0):
    """Reload ``url`` until ``check()`` holds (the cluster's sink applies events a moment later)."""
    deadline = time.monotonic() + timeout_s
    while not check() and time.monotonic() < deadline:
        time.sleep(0.3)
        page.goto(url)
    return check()


def test_split_with_checkboxes(site, page):
    env, base = site
    leads, case = api_env.make_case(env, "e2e-split", [("hotline", "后宅街道菜场门口积水"), ("forum", "后宅菜场积水严重"),
                                                       ("news", "另一件事：后宅公园路灯不亮")])  # fmt: skip
    log_in(page, base, env.keys["officer"])
    url = f"{base}/cases/{case.case_id}"
    page.goto(url)
    for lead in leads:  # each lead shows its id, and the split form has a checkbox for it
        assert page.locator(f"#lead-{lead.lead_id} code.lead-id").inner_text() == lead.lead_id
    page.click("details:has(#do-split) summary")
    boxes = page.locator("form[data-action=split] input[type=checkbox][name=lead_ids]")
    assert boxes.count() == 3
    page.check(f"form[data-action=split] input[value='{leads[2].lead_id}']")
    page.fill("form[data-action=split] textarea[name=note]", "公园路灯是另一件事 / a different problem")
    with page.expect_navigation():
        page.click("#do-split")
    assert "已完成" in page.locator("#message").inner_text()
    assert _wait_for(page, url, lambda: "拆出" in page.locator(".timeline").inner_text())
    assert leads[2].lead_id in page.locator(".timeline").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "case-split.png"), full_page=True)


def test_assign_from_a_list(site, page):
    env, base = site
    _, case = api_env.make_case(env, "e2e-assign", [("hotline", "稠城街道幸福路井盖缺失")])
    log_in(page, base, env.keys["officer"])
    url = f"{base}/cases/{case.case_id}"
    page.goto(url)
    page.click("details:has(#do-accept) summary")
    with page.expect_navigation():
        page.click("#do-accept")
    assert _wait_for(page, url, lambda: page.locator("#do-assign").count() == 1)
    page.click("details:has(#do-assign) summary")
    select = page.locator("#assign-department")
    assert select.evaluate("e => e.tagName") == "SELECT"  # a choice, not free text
    options = select.locator("option").all_inner_texts()
    assert api_env.api_data.HOUSING in options and api_env.api_data.TRANSPORT in options
    select.select_option(api_env.api_data.HOUSING)
    page.fill("form[data-action=assign] input[name=assignee]", "李工")
    with page.expect_navigation():
        page.click("#do-assign")
    assert "已完成" in page.locator("#message").inner_text()
    assert _wait_for(page, url, lambda: page.locator("#case-status").get_attribute("data-status") == "assigned")
    assert "李工" in page.locator(".facts").inner_text()


def test_recategorize_from_the_taxonomy_selects(site, page):
    env, base = site
    leads, case = api_env.make_case(
        env, "e2e-recat", [("hotline", "稠城街道河道有人偷排污水，水面发黑"), ("forum", "河水发黑发臭")]
    )
    log_in(page, base, env.keys["officer"])
    url = f"{base}/cases/{case.case_id}"
    page.goto(url)
    page.click("details:has(#do-recategorize) summary")
    level1, level2 = page.locator("#recategorize-level1"), page.locator("#recategorize-level2")
    assert level1.evaluate("e => e.tagName") == "SELECT" and level2.evaluate("e => e.tagName") == "SELECT"
    assert "环境保护" in level1.locator("option").all_inner_texts()
    group = level2.locator("optgroup[label='环境保护']")  # level-2 classes grouped by their level-1 class
    assert "环境污染" in group.locator("option").all_inner_texts()
    level1.select_option("环境保护")
    level2.select_option("环境保护/环境污染")
    page.locator("#recategorize-department").select_option(api_env.api_data.ENVIRONMENT)
    page.fill("form[data-action=recategorize] textarea[name=note]", "排污问题 / pollution, not roads")
    with page.expect_navigation():
        page.click("#do-recategorize")
    assert "已完成" in page.locator("#message").inner_text()
    assert _wait_for(page, url, lambda: "环境污染" in page.locator("#case-category").inner_text())
    assert "人工改定" in page.locator("#case-category").inner_text()
    assert api_env.api_data.ENVIRONMENT in page.locator(".facts").inner_text()
    timeline = page.locator(".timeline .recategorized").inner_text()
    assert "城市建设和市政管理" in timeline and "环境污染" in timeline
    # The case is now the environment department's: the housing officer sees no actions on it.
    assert page.locator("#do-note").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "case-recategorized.png"), full_page=True)
