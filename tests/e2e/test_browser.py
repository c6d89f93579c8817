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
from tests.integration import api_env

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
    assert page.locator("#case-status").inner_text() == "new"
    assert page.locator(".lead").count() == 3  # forum, hotline and officer reports of the same problem

    page.click("details:has(#do-accept) summary")
    page.fill("form[data-action=accept] textarea[name=note]", "已受理，联系物业核实")
    with page.expect_navigation():
        page.click("#do-accept")
    assert "done" in page.locator("#message").inner_text()
    assert page.locator("#case-status").inner_text() == "accepted"
    assert "accept" in page.locator(".timeline").inner_text()

    # An action the status does not allow is not offered, and a forged one is refused with its reason.
    assert page.locator("#do-resolve").count() == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "case-accepted.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_script_in_a_lead_shows_as_text_and_the_dashboard_draws(site, page):
    env, base = site
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
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
