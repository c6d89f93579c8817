"""Who sees reporters' contacts, web sessions, security headers and input limits, on both stores:
tests/integration/test_api_security.py (OpenSearch) and tests/unit/test_api_security_embedded.py
(embedded, no services) each give the suite its `env` and import its tests."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from leadhub.api import outcomes
from leadhub.api.app import create_app
from leadhub.api.auth import COOKIE
from leadhub.api.guards import PAGE_POLICY
from leadhub.cli import main
from tests import api_data

PHONE = "13800000000"  # the hotline reporter's phone on the housing department's lift case


# --- contacts: every role x every endpoint that returns case or lead data ---------------------------

ROLES = ("analyst", "officer", "other_officer", "intake", "admin")
SEES = {"analyst": False, "officer": True, "other_officer": False, "intake": False, "admin": True}
ENDPOINTS = [  # (path, html page?, shows contacts at all)
    ("/api/v1/leads?case_id={lift}", False, True),
    ("/api/v1/leads?q=电梯", False, True),
    ("/api/v1/cases/{lift}", False, True),
    ("/api/v1/cases?q=电梯", False, False),
    ("/open311/v2/requests.json?service_request_id={lift}", False, False),
    ("/open311/v2/requests/{lift}.json", False, False),
    ("/cases/{lift}", True, True),
    ("/search?kind=leads&case_id={lift}", True, False),
]


@pytest.mark.parametrize("path,page,shows", ENDPOINTS, ids=[p for p, _, _ in ENDPOINTS])
@pytest.mark.parametrize("role", ROLES)
def test_contacts_reach_only_admins_and_officers_of_the_cases_department(client, env, role, path, page, shows):
    headers = {**env.headers(role), **({"accept": "text/html"} if page else {})}
    response = client.get(path.format(lift=env.case_id("lift")), headers=headers)
    if role == "intake":
        assert response.status_code == 403
        return
    assert response.status_code == 200, response.text[:300]
    assert (PHONE in response.text) is (shows and SEES[role]), response.text[:500]


def test_the_search_command_prints_contacts_by_the_terminal_role(env, capsys, monkeypatch):
    args = [*env.cli_args, "search", "--kind", "leads", "--json", "电梯"]

    def printed(*settings: str) -> str:
        assert main([*args[: len(env.cli_args)], *settings, *args[len(env.cli_args):]]) == 0
        return capsys.readouterr().out

    assert env.case_id("lift") in printed() and PHONE not in printed()  # default: analyst
    assert PHONE in printed("--set", "cli.role=admin")
    assert PHONE not in printed("--set", "cli.role=officer")  # an officer of no department
    monkeypatch.setenv("LEADHUB_CLI__DEPARTMENTS", json.dumps([api_data.TRANSPORT]))
    assert PHONE not in printed("--set", "cli.role=officer")
    monkeypatch.setenv("LEADHUB_CLI__DEPARTMENTS", json.dumps([api_data.HOUSING]))
    assert PHONE in printed("--set", "cli.role=officer")


def test_contacts_follow_the_case_when_it_is_assigned_to_another_department(client, env):
    lift = env.case_id("lift")

    def phone_shown(role: str) -> tuple[bool, bool]:
        case = client.get(f"/api/v1/cases/{lift}", headers=env.headers(role)).text
        leads = client.get("/api/v1/leads", params={"case_id": lift}, headers=env.headers(role)).text
        return PHONE in case, PHONE in leads

    assert phone_shown("officer") == (True, True) and phone_shown("other_officer") == (False, False)
    for body in ({"action": "accept"}, {"action": "assign", "department": api_data.TRANSPORT, "assignee": "李工"}):
        response = client.post(f"/api/v1/cases/{lift}/events", json=body, headers=env.headers("admin"))
        assert response.status_code == 201, response.text
    assert phone_shown("officer") == (False, False) and phone_shown("other_officer") == (True, True)


# --- web sessions ---------------------------------------------------------------------------------------

def _login(client, env, role="officer"):
    return client.post("/login", data={"key": env.keys[role], "next": "/search"}, follow_redirects=False)


def test_login_sets_a_session_not_the_key_and_logout_revokes_it(env):
    with TestClient(create_app(env.context)) as browser:
        response = _login(browser, env)
        assert response.status_code == 303 and response.headers["location"] == "/search"
        cookie = response.headers["set-cookie"]
        assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower() and "secure" not in cookie.lower()
        token = browser.cookies[COOKIE]
        assert env.keys["officer"] not in cookie and env.keys["officer"] not in token
        html = {"accept": "text/html"}
        assert browser.get("/search", headers=html).status_code == 200
        assert browser.post("/logout", follow_redirects=False).status_code == 303
    with TestClient(create_app(env.context)) as thief:  # a copy of the cookie, after the logout
        thief.cookies.set(COOKIE, token)
        response = thief.get("/search", headers={"accept": "text/html"}, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
        assert thief.get("/api/v1/cases").status_code == 401


def test_a_wrong_key_or_a_forged_session_gets_nowhere(env):
    with TestClient(create_app(env.context)) as browser:
        response = browser.post("/login", data={"key": "nope", "next": "/search"}, follow_redirects=False)
        assert response.status_code == 401 and outcomes.error_text("zh", "unknown_key") in response.text
        browser.cookies.set(COOKIE, env.keys["admin"])  # the old cookie held the key itself
        assert browser.get("/api/v1/cases").status_code == 401


def test_the_cookie_is_secure_when_the_public_url_is_https(env):
    settings = env.context.settings.model_copy(update={"public_url": "https://leads.example.gov.cn"})
    context = type(env.context)(**{**env.context.__dict__, "settings": settings})
    with TestClient(create_app(context)) as browser:
        assert "secure" in _login(browser, env).headers["set-cookie"].lower()


# --- headers, messages, limits, health ------------------------------------------------------------------

def test_pages_and_api_carry_the_security_headers_and_docs_its_own_policy(client, env):
    page = client.get("/search", headers={"accept": "text/html", **env.headers("analyst")})
    api = client.get("/api/v1/cases", headers=env.headers("analyst"))
    for response in (page, api, client.get("/login")):
        assert response.headers["content-security-policy"] == PAGE_POLICY
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger-ui" in docs.text
    policy = docs.headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in policy and "frame-ancestors 'none'" in policy  # no CDN: leadhub.api.docs
    assert client.get("/openapi.json").status_code == 200


def test_the_case_page_shows_only_fixed_messages(client, env):
    html = {"accept": "text/html", **env.headers("officer")}
    lure = "请立即拨打 400-000-0000 领取补贴"
    page = client.get(f"/cases/{env.case_id('noise')}", params={"error": lure}, headers=html)
    assert page.status_code == 200 and lure not in page.text and outcomes.error_text("zh", "failed") in page.text
    forged = client.get(f"/cases/{env.case_id('noise')}", params={"message": lure, "action": lure}, headers=html)
    assert lure not in forged.text
    login = client.get("/login", params={"error": lure})
    assert lure not in login.text


def test_a_422_does_not_echo_a_large_input_and_a_large_body_is_a_413(client, env):
    garbage = "{" + "电" * 200_000  # 600 kB of invalid JSON, under the 1 MiB limit
    response = client.post("/api/v1/reports", content=garbage.encode(), headers={**env.headers("intake"), "content-type": "application/json"})
    assert response.status_code == 422 and len(response.content) < 2_000
    assert {"loc", "msg", "type"} <= set(response.json()["detail"][0])
    huge = client.post("/api/v1/reports", content=b"x" * (2 * 1024 * 1024), headers={**env.headers("intake"), "content-type": "application/json"})
    assert huge.status_code == 413 and "api.max_body_bytes" in huge.json()["detail"]


def test_health_tells_the_store_location_to_admins_only(client, env):
    anonymous = client.get("/healthz").json()
    assert anonymous["status"] == "ok" and anonymous["store"] == env.kind
    admin = client.get("/healthz", headers=env.headers("admin")).json()
    assert admin["store"].startswith(env.kind)
    if env.kind == "embedded":
        assert "embedded.sqlite" in admin["store"] and "/" not in json.dumps(anonymous)
    assert client.get("/healthz", headers=env.headers("officer")).json()["store"] == env.kind
