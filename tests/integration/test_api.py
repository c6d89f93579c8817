"""The HTTP API and web pages, one suite for both stores: the real Kafka + sink + OpenSearch, and
embedded mode's SQLite index."""

from __future__ import annotations

import json
import uuid

import pytest
from fastapi.testclient import TestClient
from leadhub.api.app import create_app
from tests.integration import api_env

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=["opensearch", "embedded"])
def env(request, settings, tmp_path_factory):
    if request.param == "embedded":
        environment = api_env.start_embedded(tmp_path_factory.mktemp("embedded"))
    else:
        request.getfixturevalue("kafka_settings"), request.getfixturevalue("search")
        environment = api_env.start(settings.search.url)
    yield environment
    environment.close()


@pytest.fixture(scope="module")
def client(env):
    with TestClient(create_app(env.context)) as test_client:
        yield test_client


def get(client, env, path, role="admin", **params):
    return client.get(path, params=params, headers=env.headers(role) if role else {})


# --- access: every endpoint x role ------------------------------------------------------------

ROLES = ("none", "bad_key", "analyst", "officer", "other_officer", "intake", "admin")
READ = {"none": 401, "bad_key": 401, "analyst": 200, "officer": 200, "other_officer": 200, "intake": 403, "admin": 200}
ACT = {"none": 401, "bad_key": 401, "analyst": 403, "officer": 201, "other_officer": 403, "intake": 403, "admin": 201}
REPORT = {"none": 401, "bad_key": 401, "analyst": 403, "officer": 403, "other_officer": 403, "intake": 201, "admin": 201}
PUBLIC = dict.fromkeys(ROLES, 200)


def _report():
    return {"title": "办事大厅排队太久", "place": "义乌市行政服务中心", "visited_at": "2024-05-02T10:00:00+08:00",
            "tried": "办理居住证", "went_wrong": "取号后等了两个小时", "report_id": uuid.uuid4().hex}  # fmt: skip


ENDPOINTS = [
    ("GET", "/api/v1/leads", None, READ),
    ("GET", "/api/v1/cases", None, READ),
    ("GET", "/api/v1/cases/{lift}", None, READ),
    ("POST", "/api/v1/cases/{lift}/events", lambda: {"action": "note", "note": "已电话联系物业"}, ACT),
    ("POST", "/api/v1/reports", _report, REPORT),
    ("GET", "/api/v1/stats", None, READ),
    ("GET", "/open311/v2/services.json", None, READ),
    ("GET", "/open311/v2/requests.json", None, READ),
    ("GET", "/open311/v2/requests/{lift}.json", None, READ),
    ("GET", "/healthz", None, PUBLIC),
    ("GET", "/metrics", None, PUBLIC),
]


@pytest.mark.parametrize("method,path,body,expected", ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS])
@pytest.mark.parametrize("role", ROLES)
def test_every_endpoint_answers_each_role_as_its_permissions_say(client, env, method, path, body, expected, role):
    special = {"none": {}, "bad_key": {"Authorization": "Bearer not-a-key"}}
    headers = special[role] if role in special else env.headers(role)
    url = path.format(lift=env.case_id("lift"))
    response = client.request(method, url, headers=headers, json=body() if body else None)
    assert response.status_code == expected[role], response.text
    if expected[role] == 401:
        assert response.headers["www-authenticate"] == "Bearer"


PAGE = {"none": 303, "bad_key": 303, "analyst": 200, "officer": 200, "other_officer": 200, "intake": 403, "admin": 200}
PAGES = ["/search?q=电梯", "/search?kind=leads&channel=hotline", "/cases/{lift}", "/dashboard"]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("role", ROLES)
def test_every_page_answers_each_role_as_its_permissions_say(client, env, path, role):
    special = {"none": {}, "bad_key": {"Authorization": "Bearer not-a-key"}}
    headers = {"accept": "text/html", **(special[role] if role in special else env.headers(role))}
    response = client.get(path.format(lift=env.case_id("lift")), headers=headers, follow_redirects=False)
    assert response.status_code == PAGE[role], response.text[:300]
    if PAGE[role] == 303:
        assert response.headers["location"].startswith("/login?next=")


# A form post answers with a redirect back to the case page, carrying the outcome.
FORM = {"none": "login", "bad_key": "login", "analyst": 403, "officer": "error", "other_officer": "message",
        "intake": 403, "admin": "message"}  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_the_case_action_form_answers_each_role_as_its_permissions_say(client, env, role):
    special = {"none": {}, "bad_key": {"Authorization": "Bearer not-a-key"}}
    headers = {"accept": "text/html", **(special[role] if role in special else env.headers(role))}
    bus = env.case_id("bus")  # the transport department's case: not the housing officer's
    response = client.post(f"/cases/{bus}/actions", data={"action": "note", "note": f"{role} 已知悉"}, headers=headers,
                           follow_redirects=False)  # fmt: skip
    expected = FORM[role]
    if isinstance(expected, int):
        assert response.status_code == expected
        return
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/login") if expected == "login" else f"{expected}=" in location


def test_web_pages_need_a_login_and_respect_roles(client, env):
    anonymous = client.get("/search", headers={"accept": "text/html"}, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    page = client.get("/search", headers={"accept": "text/html", **env.headers("intake")})
    assert page.status_code == 403 and "Not allowed" in page.text
    form = client.post(f"/cases/{env.case_id('lift')}/actions", data={"action": "note", "note": "x"},
                       headers={"accept": "text/html", **env.headers("analyst")}, follow_redirects=False)  # fmt: skip
    assert form.status_code == 403


# --- search --------------------------------------------------------------------------------------

def test_full_text_search_finds_leads_and_cases(client, env):
    cases = get(client, env, "/api/v1/cases", q="电梯 停运").json()
    assert [h["case_id"] for h in cases["hits"]] == [env.case_id("lift")]
    leads = get(client, env, "/api/v1/leads", q="电梯").json()
    assert {h["lead_id"] for h in leads["hits"]} == {env.case_id("lift"), f"{env.case_id('lift')}-1", f"{env.case_id('lift')}-2"}


@pytest.mark.parametrize("text", [
    '"', '电梯"停运', "(((", "\\", '{"query": {"match_all": {}}}', "AND OR NOT", "*?~^", "/", "[1 TO 2]",
    "a:b", "-", "||", "&&", "!", "<script>", "\x00", "电梯 +++ ---", "~" * 300, "%s%n", "' OR 1=1 --",
])  # fmt: skip
def test_any_user_text_answers_without_a_server_error(client, env, text):
    for kind in ("leads", "cases"):
        response = get(client, env, f"/api/v1/{kind}", q=text)
        assert response.status_code == 200, (text, response.text)
        assert isinstance(response.json()["total"], int)


def test_filters_facets_paging_and_sorting(client, env):
    run_filter = {"source": ["hotline-12345", "forum-yiwu", "board-jinhua", "news-yiwu", "officer-intake"]}
    housing = get(client, env, "/api/v1/cases", department="市住房和城乡建设局", size=100).json()
    mine = {env.case_id(k) for k in ("lift", "script", "water")}
    assert mine <= {h["case_id"] for h in housing["hits"]}
    assert all(h["department"] == "市住房和城乡建设局" for h in housing["hits"])

    ids = [env.case_id(k) for k in api_env.api_data.CASES]
    by_reports = client.get("/api/v1/cases", params={"sort": "reports", "size": 2, "q": "", **run_filter},
                            headers=env.headers("analyst")).json()  # fmt: skip
    assert by_reports["hits"][0]["report_count"] >= by_reports["hits"][1]["report_count"]

    own = [("case_id", i) for i in ids]
    page1 = client.get("/api/v1/leads", params=[*own, ("size", 3), ("page", 1), ("sort", "oldest")], headers=env.headers("analyst")).json()
    page2 = client.get("/api/v1/leads", params=[*own, ("size", 3), ("page", 2), ("sort", "oldest")], headers=env.headers("analyst")).json()
    assert page1["total"] == len(env.leads) == page2["total"]
    assert not {h["lead_id"] for h in page1["hits"]} & {h["lead_id"] for h in page2["hits"]}
    assert page1["hits"][0]["published_at"] <= page1["hits"][-1]["published_at"]

    channels = {b["value"]: b["count"] for b in page1["facets"]["channel"]}
    assert channels["hotline"] == 3 and channels["forum"] == 4
    two = client.get("/api/v1/leads", params=[*own, ("channel", "hotline"), ("channel", "officer")], headers=env.headers("analyst")).json()
    assert two["total"] == 4

    chengcheng = client.get("/api/v1/cases", params={"place": "稠城街道", "size": 100}, headers=env.headers("analyst")).json()
    assert {env.case_id("lift"), env.case_id("water")} <= {h["case_id"] for h in chengcheng["hits"]}
    assert all(h["place"]["town"] == "稠城街道" for h in chengcheng["hits"])


def test_invalid_parameters_are_clear_422s(client, env):
    bad = get(client, env, "/api/v1/cases", since="2024-05-02", until="2024-05-01")
    assert bad.status_code == 422 and "since" in bad.text
    assert get(client, env, "/api/v1/leads", status="new").status_code == 422
    assert get(client, env, "/api/v1/cases", status="done").status_code == 422
    assert get(client, env, "/api/v1/cases", page=600, size=20).status_code == 422


# --- cases and contacts --------------------------------------------------------------------------

def test_a_case_comes_with_its_leads_from_every_channel_and_contacts_only_for_officers(client, env):
    lift = env.case_id("lift")
    officer = get(client, env, f"/api/v1/cases/{lift}", role="officer").json()
    assert officer["report_count"] == 3 and sorted(l["channel"] for l in officer["leads"]) == ["forum", "hotline", "officer"]
    assert any(l.get("contact", {}) and l["contact"]["phone"] == "13800000000" for l in officer["leads"])
    assert "accept" in officer["allowed_actions"]

    analyst = get(client, env, f"/api/v1/cases/{lift}", role="analyst").json()
    assert all("contact" not in l for l in analyst["leads"]) and analyst["allowed_actions"] == []
    leads = get(client, env, "/api/v1/leads", role="analyst", case_id=lift).json()
    assert leads["total"] == 3 and all("contact" not in h for h in leads["hits"])
    assert "13800000000" not in json.dumps(analyst) + json.dumps(leads)
    assert get(client, env, "/api/v1/cases/no-such-case").status_code == 404


def test_case_workflow_through_events_with_illegal_actions_refused(client, env):
    water = env.case_id("water")
    post = lambda body, role="officer": client.post(f"/api/v1/cases/{water}/events", json=body, headers=env.headers(role))  # noqa: E731

    illegal = post({"action": "resolve", "note": "已修复"})
    assert illegal.status_code == 409 and "new" in illegal.json()["detail"]
    assert post({"action": "assign"}).status_code == 422  # assign needs a department

    for body, status in [
        ({"action": "accept"}, "accepted"),
        ({"action": "assign", "department": "市住房和城乡建设局", "assignee": "张工"}, "assigned"),
        ({"action": "start"}, "in_progress"),
        ({"action": "resolve", "note": "已协调供水公司，今后停水提前24小时通知"}, "resolved"),
        ({"action": "feedback", "note": "已电话回访来电人，表示满意"}, "closed"),
    ]:
        response = post(body)
        assert response.status_code == 201, response.text
        assert response.json()["status"] == status and response.json()["visible"] is True

    case = get(client, env, f"/api/v1/cases/{water}", role="analyst").json()
    assert case["status"] == "closed" and case["assignee"] == "张工"
    assert [h["action"] for h in case["history"]] == ["accept", "assign", "start", "resolve", "feedback"]
    assert case["history"][0]["actor"] == "officer-housing"
    assert case["resolution"].startswith("已协调供水公司")

    request = get(client, env, f"/open311/v2/requests/{water}.json", role="analyst").json()[0]
    assert request["status"] == "closed" and request["status_notes"].startswith("已协调供水公司")
    assert post({"action": "start"}).status_code == 409

    # The same event id twice: the second is a no-op, not an error.
    note = {"action": "reopen", "note": "来电人再次反映停水", "event_id": f"reopen-{env.run}"}
    assert post(note).status_code == 201 and post(note).status_code == 201
    case = get(client, env, f"/api/v1/cases/{water}").json()
    assert case["status"] == "accepted" and [h["action"] for h in case["history"]].count("reopen") == 1


def test_officers_act_only_on_their_departments_cases(client, env):
    bus = env.case_id("bus")
    assert client.post(f"/api/v1/cases/{bus}/events", json={"action": "accept"}, headers=env.headers("officer")).status_code == 403
    assert client.post(f"/api/v1/cases/{bus}/events", json={"action": "accept"}, headers=env.headers("other_officer")).status_code == 201
    # A case not routed to any department is open to every officer, who can then assign it.
    untriaged = env.case_id("untriaged")
    response = client.post(f"/api/v1/cases/{untriaged}/events", json={"action": "accept"}, headers=env.headers("other_officer"))
    assert response.status_code == 201


# --- field reports -------------------------------------------------------------------------------

def test_a_field_report_becomes_a_raw_lead_on_the_officer_channel(client, env):
    report = {**_report(), "title": "Queue number system broken", "lang": "en", "evidence": ["https://example.org/p/1.jpg"]}
    response = client.post("/api/v1/reports", json=report, headers=env.headers("intake"))
    assert response.status_code == 201, response.text
    lead = env.submitted_lead(response.json()["lead_id"])
    assert lead["channel"] == "officer" and lead["author"] == "experience-officer-1" and lead["lang"] == "en"
    assert "取号后等了两个小时" in lead["body"] and lead["attachments"][0]["url"].endswith("1.jpg")

    bad = client.post("/api/v1/reports", json={"title": "x"}, headers=env.headers("intake"))
    assert bad.status_code == 422 and "place" in bad.text
    evil = client.post("/api/v1/reports", json={**_report(), "evidence": ["javascript:alert(1)"]}, headers=env.headers("intake"))
    assert evil.status_code == 422


# --- statistics and Open311 ---------------------------------------------------------------------

def test_stats_hold_what_the_dashboard_shows(client, env):
    stats = get(client, env, "/api/v1/stats", role="analyst", top=100).json()
    assert stats["cases_total"] >= len(env.cases) and stats["leads_total"] >= len(env.leads)
    funnel = {b["value"]: b["count"] for b in stats["status_funnel"]}
    assert list(funnel) == ["new", "accepted", "assigned", "in_progress", "resolved", "closed", "rejected"]
    assert sum(funnel.values()) == stats["cases_total"]
    overdue_ids = {c["case_id"] for c in stats["overdue"]}
    assert env.case_id("noise") in overdue_ids and env.case_id("lift") not in overdue_ids
    hot = [c["case_id"] for c in stats["hot"]]
    assert env.case_id("lift") in hot
    assert sum(sum(s) for s in stats["by_category_over_time"]["series"].values()) == stats["cases_total"]
    assert {b["value"] for b in stats["by_channel"]} >= {"hotline", "forum"}


def test_open311_services_and_requests(client, env):
    services = get(client, env, "/open311/v2/services.json", role="analyst").json()
    assert len(services) == len(env.context.taxonomy.subcategories)
    assert {"service_code", "service_name", "group", "type", "metadata"} <= set(services[0])

    requests = get(client, env, "/open311/v2/requests.json", role="analyst", service_code="环境保护/噪声污染").json()
    noise = [r for r in requests if r["service_request_id"] == env.case_id("noise")]
    assert noise and noise[0]["status"] == "open" and noise[0]["agency_responsible"] == "金华市生态环境局义乌分局"
    assert noise[0]["lat"] == pytest.approx(29.31)
    assert all(r["service_code"] == "环境保护/噪声污染" for r in requests)

    one = get(client, env, "/open311/v2/requests.json", role="analyst",
              service_request_id=f"{env.case_id('lift')},{env.case_id('bus')}").json()  # fmt: skip
    assert {r["service_request_id"] for r in one} == {env.case_id("lift"), env.case_id("bus")}
    assert get(client, env, "/open311/v2/requests.json", status="pending").status_code == 400
    assert get(client, env, "/open311/v2/requests/nope.json").status_code == 404


# --- pages ---------------------------------------------------------------------------------------

def test_pages_render_and_escape_what_leads_contain(client, env):
    html = {"accept": "text/html", **env.headers("officer")}
    search = client.get("/search", params={"q": "路灯"}, headers=html)
    assert search.status_code == 200 and env.case_id("script") in search.text
    assert "<script>alert" not in search.text and "&lt;script&gt;alert" in search.text
    case = client.get(f"/cases/{env.case_id('script')}", headers=html)
    assert case.status_code == 200 and "<script>alert" not in case.text and "&lt;script&gt;" in case.text
    dashboard = client.get("/dashboard", headers=html)
    assert dashboard.status_code == 200 and dashboard.text.count("<svg") == 4 and "<script" not in dashboard.text


def test_health_and_metrics(client, env):
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["store"].startswith(env.kind)
    metrics = client.get("/metrics").text
    assert "leadhub_api_requests_total" in metrics
    assert client.get("/docs").status_code == 200 and client.get("/openapi.json").json()["info"]["title"] == "leadhub API"


def test_search_command_prints_a_table_or_json(env, capsys):
    from leadhub.cli import main

    args = env.cli_args
    assert main([*args, "search", "噪音", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert [h["case_id"] for h in answer["hits"]] == [env.case_id("noise")] and answer["facets"]["status"]
    assert main([*args, "search", "--kind", "leads", "--channel", "hotline", "--size", "50"]) == 0
    table = capsys.readouterr().out
    assert "hotline-12345" in table and "forum-yiwu" not in table
    if env.kind == "opensearch":
        assert main(["--set", "search.index_prefix=nosuchprefix", "search", "x"]) == 2
        assert "leadhub index init" in capsys.readouterr().err
