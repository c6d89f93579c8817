"""The HTTP API and web pages, one suite for both stores: the real Kafka + sink + OpenSearch
(tests/integration/test_api.py) and embedded mode's SQLite index (tests/unit/test_api_embedded.py, no
services, so the fast loop checks parity). Each of those files gives the suite its `env`
(tests/api_env.py) and imports its tests; this module is not collected on its own."""

from __future__ import annotations

import json
import uuid

import pytest

from tests import api_env


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
    ("GET", "/api/v1/hot-issues", None, READ),
    ("GET", "/open311/v2/services.json", None, READ),
    ("GET", "/open311/v2/requests.json", None, READ),
    ("GET", "/open311/v2/requests/{lift}.json", None, READ),
    ("GET", "/open311/v2/requests.xml", None, READ),
    ("GET", "/open311/v2/services/城乡建设.其他.xml", None, READ),
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
    assert page.status_code == 403 and "无权访问" in page.text  # Chinese unless the browser asks otherwise
    english = client.get("/search", headers={"accept": "text/html", "accept-language": "en-US,en;q=0.9", **env.headers("intake")})
    assert english.status_code == 403 and "Not allowed" in english.text
    form = client.post(f"/cases/{env.case_id('lift')}/actions", data={"action": "note", "note": "x"},
                       headers={"accept": "text/html", **env.headers("analyst")}, follow_redirects=False)  # fmt: skip
    assert form.status_code == 403


# --- search --------------------------------------------------------------------------------------

def test_ids_by_their_start_and_a_start_several_cases_share_is_searched_as_words(client, env):
    from leadhub.case_lookup import case_id_for

    store, lift = env.context.store, env.case_id("lift")
    assert store.ids_starting("cases", lift[:-1], 2) == [lift]
    assert store.ids_starting("leads", lift, 10) == [lift, f"{lift}-1", f"{lift}-2"]  # in id order
    assert store.ids_starting("cases", "ffffffff-none", 2) == []
    every = store.ids_starting("cases", env.run, 100)
    assert set(every) >= {env.case_id(k) for k in api_env.api_data.CASES} and every == sorted(every)
    assert case_id_for(store, env.run) is None  # the run's 8 hex characters start every case of it
    page = client.get("/search", params={"q": env.run}, headers={"accept": "text/html", **env.headers("analyst")}, follow_redirects=False)
    assert page.status_code == 200


def test_full_text_search_finds_leads_and_cases(client, env):
    cases = get(client, env, "/api/v1/cases", q="电梯 停运").json()
    assert [h["case_id"] for h in cases["hits"]] == [env.case_id("lift")]
    leads = get(client, env, "/api/v1/leads", q="电梯").json()
    assert {h["lead_id"] for h in leads["hits"]} == {env.case_id("lift"), f"{env.case_id('lift')}-1", f"{env.case_id('lift')}-2"}


# The class of odd text: control characters, unpaired quotes, lone operators, very long q.
ODD_TEXT = [
    '"', '电梯"停运', "(((", "\\", '{"query": {"match_all": {}}}', "AND OR NOT", "*?~^", "/", "[1 TO 2]",
    "a:b", "-", "||", "&&", "!", "<script>", "\x00", "电梯\x00", "\x07\x1b", "\u200b", "电梯 +++ ---", "~" * 300,
    "%s%n", "' OR 1=1 --", "电" * 1000, "电梯 " * 200, '"电梯', '电梯"', "- - -", "+", "\t电梯\n",
]  # fmt: skip


@pytest.mark.parametrize("text", ODD_TEXT)
def test_any_user_text_answers_without_a_server_error_and_never_everything(client, env, text):
    from leadhub.queries import TextLimits, parse_text, text_problem

    for kind in ("leads", "cases"):
        response = get(client, env, f"/api/v1/{kind}", q=text)
        problem = text_problem(text, TextLimits(env.context.settings.max_query_terms, env.context.settings.max_query_exclusions))
        if problem:  # control characters, nothing searchable, too many terms: a 422 that says so
            assert response.status_code == 422 and "q " in response.text, (text, response.text)
            continue
        assert response.status_code == 200, (text, response.text)
        everything = get(client, env, f"/api/v1/{kind}", size=0).json()["total"]
        if parse_text(text).must:  # some words must occur: never the whole index
            assert response.json()["total"] < everything, text


def test_a_nul_or_operators_alone_never_match_everything(client, env):
    for text in ("\x00", "-", "||", "+++", "\x00\x00 "):
        response = get(client, env, "/api/v1/leads", q=text)
        assert response.status_code == 422, text
    assert "control character (U+0000" in get(client, env, "/api/v1/cases", q="电梯\x00").text


def test_too_many_terms_or_exclusions_are_clear_422s(client, env):
    limits = env.context.settings
    many = " ".join(f"词{i}" for i in range(limits.max_query_terms + 1))
    response = get(client, env, "/api/v1/leads", q=many)
    assert response.status_code == 422 and f"at most {limits.max_query_terms}" in response.text
    negations = "电梯 " + " ".join(f"-词{i}" for i in range(limits.max_query_exclusions + 1))
    response = get(client, env, "/api/v1/cases", q=negations)
    assert response.status_code == 422 and "excludes" in response.text
    ok = "电梯 " + " ".join(f"-词{i}" for i in range(limits.max_query_exclusions))
    assert get(client, env, "/api/v1/cases", q=ok).status_code == 200


def _seed_matches(env, text: str) -> int:
    """How many seed leads hold ``text`` in a searched field: the substring truth both stores must give."""
    fields = lambda lead: [lead.title, lead.text, lead.location_text or "", (lead.place.address if lead.place else None) or ""]  # noqa: E731
    return sum(any(text in f for f in fields(lead)) for lead in env.leads)


@pytest.mark.parametrize("text", ["灯", "梯", "水", "停水", "电梯", "噪音", "幸福小", "夜间施", "3号楼", "电梯停运一"])
def test_one_two_and_three_character_queries_find_what_contains_them(client, env, text):
    seed = [("case_id", env.case_id(k)) for k in api_env.api_data.CASES]
    found = client.get("/api/v1/leads", params=[*seed, ("q", text), ("size", 100)], headers=env.headers("analyst")).json()
    assert found["total"] == _seed_matches(env, text) > 0 if text != "电梯停运一" else found["total"] == 0, text
    assert all(any(text in (h.get(f) or "") for f in ("title", "text", "location_text")) for h in found["hits"])


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
    for path in ("/api/v1/stats", "/api/v1/cases", "/api/v1/leads"):
        later = get(client, env, path, since="2024-06-01T00:00:00", until="2024-05-01")
        assert later.status_code == 422 and "must be before until" in later.text, path


def test_needs_triage_and_overdue_filters_on_the_api_and_the_search_page(client, env):
    seed = [("case_id", env.case_id(k)) for k in api_env.api_data.CASES]
    ask = lambda path, *extra: client.get(path, params=[*seed, *extra], headers=env.headers("analyst"))  # noqa: E731
    triage = ask("/api/v1/cases", ("needs_triage", "true"))
    assert triage.status_code == 200 and [h["case_id"] for h in triage.json()["hits"]] == [env.case_id("untriaged")]
    routed = ask("/api/v1/cases", ("needs_triage", "false")).json()
    assert routed["total"] == len(env.cases) - 1
    leads = ask("/api/v1/leads", ("needs_triage", "true")).json()
    assert [h["lead_id"] for h in leads["hits"]] == [env.case_id("untriaged")]
    overdue = ask("/api/v1/cases", ("overdue", "true")).json()
    assert {h["case_id"] for h in overdue["hits"]} == {env.case_id(k) for k in api_env.api_data.OVERDUE}
    html = {"accept": "text/html", **env.headers("analyst")}
    for params in ({"needs_triage": "true"}, {"overdue": "true"}, {"needs_triage": "false", "kind": "leads"}):
        page = client.get("/search", params=params, headers=html)
        assert page.status_code == 200, (params, page.text[:300])
    page = client.get("/search", params={"needs_triage": "true"}, headers=html)
    assert env.case_id("untriaged") in page.text and 'name="needs_triage" value="true"' in page.text


def test_place_filters_take_gazetteer_names_and_aliases(client, env):
    seed = [("case_id", env.case_id(k)) for k in api_env.api_data.CASES]
    ask = lambda *extra: client.get("/api/v1/cases", params=[*seed, *extra], headers=env.headers("analyst")).json()  # noqa: E731
    full = ask(("place", "稠城街道"))
    assert {h["case_id"] for h in full["hits"]} == {env.case_id("lift"), env.case_id("water")}
    assert ask(("place", "稠城"))["total"] == full["total"] == ask(("place", " 稠城 "))["total"]
    assert ask(("place", "稠城"), ("place", "北苑"))["total"] == full["total"] + 1  # 北苑 = 北苑街道 (noise)
    facet = {b["value"]: b["count"] for b in ask(("place", "稠城"))["facets"]["place"]}
    assert facet == {"稠城街道": 2}  # facets name places as the gazetteer does, so a facet is a filter
    assert ask(("place", "没有这个地方"))["total"] == 0


def test_a_lone_surrogate_in_a_json_body_is_a_422(client, env):
    raw = json.dumps({**_report(), "went_wrong": "PLACEHOLDER"}).replace("PLACEHOLDER", "\\ud800 坏了")
    response = client.post("/api/v1/reports", content=raw.encode(), headers={**env.headers("intake"), "content-type": "application/json"})
    assert response.status_code == 422 and "surrogate" in response.text and "went_wrong" in response.text
    event = client.post(f"/api/v1/cases/{env.case_id('lift')}/events", content=b'{"action": "note", "note": "\\udfff"}',
                        headers={**env.headers("officer"), "content-type": "application/json"})  # fmt: skip
    assert event.status_code == 422
    paired = json.dumps({**_report(), "went_wrong": "表情 \U0001F600 也是字"})  # a pair is one character: fine
    assert client.post("/api/v1/reports", content=paired.encode(), headers={**env.headers("intake"), "content-type": "application/json"}).status_code == 201


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
    assert all(r["service_code"] == "环境保护.噪声污染" for r in requests)

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


def test_the_docs_page_loads_only_from_this_server(client, env):
    import re

    page = client.get("/docs")
    assert page.status_code == 200
    urls = re.findall(r'(?:src|href)=["\']([^"\']+)', page.text) + re.findall(r"url: ?'([^']+)'", page.text)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert "cdn" not in page.text.lower() and "https://" not in page.text


def test_search_command_prints_a_table_or_json(env, capsys):
    from leadhub.cli import main

    args = env.cli_args
    assert main([*args, "search", "噪音", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert [h["case_id"] for h in answer["hits"]] == [env.case_id("noise")] and answer["facets"]["status"]
    assert main([*args, "search", "--kind", "leads", "--channel", "hotline", "--size", "50"]) == 0
    table = capsys.readouterr().out
    assert "hotline-12345" in table and "forum-yiwu" not in table
    if env.kind != "embedded":
        assert main([*args, "--set", "search.index_prefix=nosuchprefix", "search", "x"]) == 2
        assert "leadhub index init" in capsys.readouterr().err


# --- case actions that must not corrupt a case (issues 18, 19) ------------------------------------

def _post(client, env, case_id, body, role="admin"):
    return client.post(f"/api/v1/cases/{case_id}/events", json=body, headers=env.headers(role))


def _settled(client, env, case_id, check, timeout_s=20.0):
    """The case once ``check`` holds (the cluster's sink applies events a moment after the API)."""
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        case = get(client, env, f"/api/v1/cases/{case_id}").json()
        if check(case) or time.monotonic() > deadline:
            return case
        time.sleep(0.2)


def test_sixteen_concurrent_accepts_one_wins_the_rest_are_409(client, env):
    import threading

    _, case = api_env.make_case(env, "race", [("hotline", "幸福路口红绿灯坏了三天，早高峰车辆乱成一团。"), ("forum", "幸福路红绿灯不亮了")])
    barrier = threading.Barrier(16)
    answers: list[int] = []

    def accept() -> None:
        barrier.wait()
        answers.append(_post(client, env, case.case_id, {"action": "accept"}).status_code)

    threads = [threading.Thread(target=accept) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 16 and sum(a in (201, 202) for a in answers) == 1 and answers.count(409) == 15, answers
    final = _settled(client, env, case.case_id, lambda c: c["status"] == "accepted")
    assert final["status"] == "accepted" and [h["action"] for h in final["history"]] == ["accept"]
    # The sink refused nothing: the one accepted event was the only one sent.
    assert not [d for d in api_env.sink_dead_letters(env, timeout_s=2) if case.case_id.encode() in (d.payload or b"")]


ACTION_BODIES = {
    "accept": {}, "assign": {"department": api_env.api_data.HOUSING}, "start": {}, "return": {},
    "resolve": {"note": "已处理"}, "feedback": {"note": "已回访"}, "close": {}, "reopen": {}, "reject": {"note": "不予受理"},
    "note": {"note": "备注"}, "merge": {"target_case_id": "{target}"}, "split": {"lead_ids": ["{case}-1"]},
    "recategorize": {"level1": "城乡建设"},
}  # fmt: skip


def test_every_status_and_action_answers_legal_or_409(client, env):
    from tests.unit.test_status_machine import EXPECTED

    _, case = api_env.make_case(env, "table", [("hotline", "北门菜场污水横流"), ("forum", "菜场门口一直有污水")])
    _, target = api_env.make_case(env, "table-target", [("hotline", "菜场附近下水道堵塞")])
    cid = case.case_id
    # A walk through every status; at each, every illegal action is refused and the case is unchanged.
    walk = [("accept", "accepted"), ("assign", "assigned"), ("start", "in_progress"), ("resolve", "resolved"),
            ("feedback", "closed"), ("reopen", "accepted"), ("reject", "rejected")]  # fmt: skip
    status = "new"
    for next_action, next_status in [(None, "new"), *walk]:
        if next_action:
            body = {"action": next_action, **ACTION_BODIES[next_action]}
            assert _post(client, env, cid, body).status_code in (201, 202), (status, next_action)
            status = next_status
        shown = _settled(client, env, cid, lambda c, s=status: c["status"] == s)
        legal = {a.value for (a, s) in EXPECTED if s.value == status}
        assert set(shown["allowed_actions"]) == legal, status
        for action, fields in ACTION_BODIES.items():
            if action in legal:
                continue
            body = {"action": action, **{k: (v.format(target=target.case_id) if isinstance(v, str) else
                                             [x.format(case=cid) for x in v] if isinstance(v, list) else v)
                                         for k, v in fields.items()}}  # fmt: skip
            answer = _post(client, env, cid, body)
            assert answer.status_code == 409, (status, action, answer.text)
            assert f"it is {status}" in answer.json()["detail"]
        assert get(client, env, f"/api/v1/cases/{cid}").json()["status"] == status


def test_merge_only_into_an_existing_open_case_and_it_moves_the_reports(client, env):
    leads_a, a = api_env.make_case(env, "merge-a", [("forum", "城西街道公厕无人打扫，臭气熏天。"), ("hotline", "反映城西公厕卫生差")])
    leads_b, b = api_env.make_case(env, "merge-b", [("officer", "体验发现城西街道公共厕所脏乱，无保洁人员。")])
    _, done = api_env.make_case(env, "merge-closed", [("hotline", "城西公厕门坏了")])
    assert _post(client, env, done.case_id, {"action": "reject", "note": "重复"}).status_code in (201, 202)

    missing = _post(client, env, a.case_id, {"action": "merge", "target_case_id": "no-such-case"})
    assert missing.status_code == 422 and "no-such-case" in missing.json()["detail"]
    closed = _post(client, env, a.case_id, {"action": "merge", "target_case_id": done.case_id})
    assert closed.status_code == 409 and "rejected" in closed.json()["detail"]
    untouched = get(client, env, f"/api/v1/cases/{a.case_id}").json()
    assert untouched["status"] == "new" and not untouched.get("history") and not untouched.get("merged_into")

    merged = _post(client, env, a.case_id, {"action": "merge", "target_case_id": b.case_id, "note": "同一公厕"})
    assert merged.status_code in (201, 202) and merged.json()["status"] == "closed", merged.text
    source = _settled(client, env, a.case_id, lambda c: c["status"] == "closed")
    assert source["merged_into"] == b.case_id and source["history"][-1]["other_case_id"] == b.case_id
    target = get(client, env, f"/api/v1/cases/{b.case_id}").json()
    assert target["status"] == "new" and target["report_count"] == 3
    assert set(target["channels"]) == {"forum", "hotline", "officer"}
    assert set(target["sources"]) == {"forum-src", "hotline-src", "officer-src"}
    assert set(target["lead_ids"]) == {lead.lead_id for lead in leads_a + leads_b}
    assert {lead["lead_id"] for lead in target["leads"]} == {lead.lead_id for lead in leads_a + leads_b}
    assert [(h["action"], h["other_case_id"]) for h in target["history"]] == [("merge", a.case_id)]
    # A merged (closed) case takes no more merges, and nothing merges into it.
    assert _post(client, env, b.case_id, {"action": "merge", "target_case_id": a.case_id}).status_code == 409

    notes = get(client, env, f"/open311/v2/requests/{a.case_id}.json", role="analyst").json()[0]
    assert notes["status"] == "closed" and f"Merged into request {b.case_id}" in notes["status_notes"]
    assert "closed after feedback" not in notes["status_notes"].lower()

    # The route stage's next snapshot of the target knows only its own leads: the merged ones stay counted.
    grown = b.model_copy(update={"report_count": 2, "lead_ids": [*b.lead_ids, f"{b.case_id}-new"], "channels": ["news", "officer"]})
    api_env.write(env, cases=[grown])
    later = _settled(client, env, b.case_id, lambda c: c["report_count"] == 4)
    assert later["report_count"] == 4 and set(later["channels"]) == {"forum", "hotline", "news", "officer"}
    assert later["status"] == "new" and len(later["history"]) == 1
    assert not [d for d in api_env.sink_dead_letters(env, timeout_s=2) if a.case_id.encode() in (d.payload or b"")]


def test_assign_takes_only_a_known_department(client, env):
    _, case = api_env.make_case(env, "assign", [("hotline", "江东街道路面塌陷")])
    assert _post(client, env, case.case_id, {"action": "accept"}).status_code in (201, 202)
    wrong = _post(client, env, case.case_id, {"action": "assign", "department": "隔壁老王"})
    assert wrong.status_code == 422
    assert "隔壁老王" in wrong.json()["detail"] and api_env.api_data.HOUSING in wrong.json()["detail"]
    original = env.context.settings
    env.context.settings = original.model_copy(update={"extra_departments": ["市信访局"]})
    try:
        page = client.get(f"/cases/{case.case_id}", headers={"accept": "text/html", **env.headers("admin")}).text
        assert '<select name="department"' in page and '<option value="市信访局"' in page
        assert f'<option value="{api_env.api_data.TRANSPORT}"' in page
        extra = _post(client, env, case.case_id, {"action": "assign", "department": "市信访局"})
        assert extra.status_code in (201, 202), extra.text
    finally:
        env.context.settings = original
    assert _settled(client, env, case.case_id, lambda c: c["status"] == "assigned")["department"] == "市信访局"


def test_split_shows_each_lead_with_a_checkbox_and_removes_the_checked_ones(client, env):
    leads, case = api_env.make_case(env, "split", [("hotline", "稠城街道路灯不亮"), ("forum", "路灯坏了"), ("news", "另一件事：公园长椅坏了")])
    html = {"accept": "text/html", **env.headers("admin")}
    page = client.get(f"/cases/{case.case_id}", headers=html).text
    for lead in leads:
        assert f'<input type="checkbox" name="lead_ids" value="{lead.lead_id}">' in page
        assert f'<code class="lead-id">{lead.lead_id}</code>' in page
    answer = client.post(f"/cases/{case.case_id}/actions", headers=html, follow_redirects=False,
                         data={"action": "split", "lead_ids": [leads[2].lead_id], "note": "不是同一问题"})  # fmt: skip
    assert answer.status_code == 303 and "message=done" in answer.headers["location"], answer.headers["location"]
    after = _settled(client, env, case.case_id, lambda c: c["history"])
    assert after["lead_ids"] == [leads[0].lead_id, leads[1].lead_id]
    assert after["history"][-1]["action"] == "split" and after["history"][-1]["lead_ids"] == [leads[2].lead_id]


def test_official_replies_priority_reasons_and_reports_after_close(client, env):
    import datetime as dt

    from schemas.leads import Lead

    reply = {"text": "您好，经核查，该路段积水系雨水井堵塞所致，已安排疏通。", "unit": "市住房和城乡建设局",
             "at": (api_env.api_data.NOW - dt.timedelta(hours=5)).isoformat()}  # fmt: skip
    leads, case = api_env.make_case(env, "reply", [("hotline", "北苑街道春风路积水严重"), ("complaint_platform", "春风路一下雨就积水")],
                                    replies={1: reply})  # fmt: skip
    api = get(client, env, f"/api/v1/cases/{case.case_id}", role="analyst").json()
    assert [(r["unit"], r["text"], r["lead_id"]) for r in api["official_replies"]] == [(reply["unit"], reply["text"], leads[1].lead_id)]
    assert api["priority_reasons"] == ["reports:2"]
    for body in ({"action": "accept"}, {"action": "assign", "department": api_env.api_data.HOUSING}, {"action": "start"},
                 {"action": "resolve", "note": "已疏通"}):  # fmt: skip
        assert _post(client, env, case.case_id, body).status_code in (201, 202)
    _settled(client, env, case.case_id, lambda c: c["status"] == "resolved")
    # After the resolve just recorded (at the real clock, which has moved on from the suite's NOW).
    after = dt.datetime.now(api_env.api_data.TZ) + dt.timedelta(minutes=1)
    late = Lead(lead_id=f"{case.case_id}-late", source="hotline-src", channel="hotline", external_id=f"{case.case_id}-late",
                text="春风路又积水了", published_at=after, fetched_at=after, case_id=case.case_id)  # fmt: skip
    api_env.write(env, leads=[late])
    page = client.get(f"/cases/{case.case_id}", headers={"accept": "text/html", **env.headers("analyst")}).text
    assert "部门答复" in page and reply["text"] in page and reply["unit"] in page
    assert 'id="priority-reasons"' in page and "被反映 2 次" in page and "reports:2" not in page  # reasons in words
    assert page.count("结案后新反映") == 1
    english = client.get(f"/cases/{case.case_id}", headers={"accept": "text/html", "accept-language": "en", **env.headers("analyst")}).text
    assert "Official replies" in english and "Reported 2 times" in english
    assert english.count("Reported after the case was closed") == 1
    flagged = get(client, env, f"/api/v1/cases/{case.case_id}", role="analyst").json()
    assert [lead["lead_id"] for lead in flagged["leads"] if lead["after_close"]] == [late.lead_id]


def test_a_report_id_sent_again_with_other_content_is_refused(client, env):
    from schemas.leads import Lead, RawLead

    report = _report()
    first = client.post("/api/v1/reports", json=report, headers=env.headers("intake"))
    assert first.status_code == 201
    if env.kind != "embedded":  # no streams worker here: route the raw lead as the worker would
        raw = RawLead.model_validate({k: v for k, v in env.submitted_lead(first.json()["lead_id"]).items() if k != "lead_id"})
        api_env.write(env, leads=[Lead.from_raw(raw, case_id=raw.lead_id)])
    again = client.post("/api/v1/reports", json=report, headers=env.headers("intake"))
    assert again.status_code == 201 and again.json()["lead_id"] == first.json()["lead_id"]
    changed = client.post("/api/v1/reports", json={**report, "title": "另一件事"}, headers=env.headers("intake"))
    assert changed.status_code == 409 and report["report_id"] in changed.json()["detail"]
    assert env.context.store.get("leads", first.json()["lead_id"])["title"] == report["title"]


# --- recategorize: an officer corrects the routing (issue 21) --------------------------------------

RECATEGORIZE = {"action": "recategorize", "level1": "环境保护", "level2": "环境污染",
                "department": api_env.api_data.ENVIRONMENT, "note": "是排污问题，不是市政"}  # fmt: skip


def test_recategorize_is_for_the_cases_department_or_admin_and_takes_only_taxonomy_values(client, env):
    _, case = api_env.make_case(env, "recat-rules", [("hotline", "稠城街道河道有人偷排污水，水面发黑发臭。")])
    cid = case.case_id
    assert _post(client, env, cid, RECATEGORIZE, role="other_officer").status_code == 403
    assert _post(client, env, cid, RECATEGORIZE, role="analyst").status_code == 403
    assert _post(client, env, cid, RECATEGORIZE, role="intake").status_code == 403

    unknown = _post(client, env, cid, {**RECATEGORIZE, "level1": "天气"}, role="officer")
    assert unknown.status_code == 422 and "天气" in unknown.json()["detail"]
    assert "环境保护" in unknown.json()["detail"] and "城乡建设" in unknown.json()["detail"]  # the allowed classes
    wrong_sub = _post(client, env, cid, {**RECATEGORIZE, "level2": "出租车管理"}, role="officer")
    assert wrong_sub.status_code == 422 and "出租车管理" in wrong_sub.json()["detail"]
    assert "环境污染" in wrong_sub.json()["detail"]  # the level-2 classes of 环境保护
    department = _post(client, env, cid, {**RECATEGORIZE, "department": "隔壁老王"}, role="officer")
    assert department.status_code == 422 and "隔壁老王" in department.json()["detail"]
    assert api_env.api_data.ENVIRONMENT in department.json()["detail"]
    assert _post(client, env, cid, {"action": "recategorize"}, role="officer").status_code == 422
    assert _post(client, env, cid, {"action": "recategorize", "level2": "环境污染"}, role="officer").status_code == 422
    untouched = get(client, env, f"/api/v1/cases/{cid}").json()
    assert untouched["category"]["level1"] == "城乡建设" and not untouched.get("history")
    assert "recategorize" in untouched["allowed_actions"]


def test_recategorize_reaches_the_case_and_its_leads_and_later_stages_keep_it(client, env):
    import datetime as dt

    from schemas.leads import Category, Lead

    leads, case = api_env.make_case(env, "recat", [("hotline", "稠城街道河道有人偷排污水，水面发黑发臭。"),
                                                   ("forum", "河里的水又黑又臭，是不是有工厂偷排？")])  # fmt: skip
    cid = case.case_id
    answer = _post(client, env, cid, RECATEGORIZE, role="officer")
    assert answer.status_code in (201, 202), answer.text
    assert answer.json()["status"] == "new"  # a correction changes no status

    def decided(c):
        return c.get("category_source") == "human" and all(lead.get("category_source") == "human" for lead in c["leads"])

    after = _settled(client, env, cid, decided)
    assert after["category"] == {"level1": "环境保护", "level2": "环境污染"}
    assert after["department"] == api_env.api_data.ENVIRONMENT and after["decided_by"] == "officer-housing"
    entry = after["history"][-1]
    assert entry["action"] == "recategorize" and entry["actor"] == "officer-housing" and entry["note"] == RECATEGORIZE["note"]
    assert entry["from_category"] == {"level1": "城乡建设", "level2": "城市建设和市政管理"}
    assert entry["category"] == after["category"]
    assert (entry["from_department"], entry["department"]) == (api_env.api_data.HOUSING, api_env.api_data.ENVIRONMENT)
    assert {lead["lead_id"] for lead in after["leads"]} == {lead.lead_id for lead in leads}
    for lead in after["leads"]:
        assert lead["category"] == after["category"] and lead["department"] == api_env.api_data.ENVIRONMENT
        assert lead["decided_by"] == "officer-housing" and lead["needs_triage"] is False
    found = get(client, env, "/api/v1/leads", category="环境保护", department=api_env.api_data.ENVIRONMENT, q="偷排").json()
    assert {lead.lead_id for lead in leads} <= {hit["lead_id"] for hit in found["hits"]}
    # The case now belongs to the environment department: the housing officer no longer acts on it.
    assert _post(client, env, cid, {"action": "note", "note": "已转"}, role="officer").status_code == 403

    # A later lead joins the case: the route stage writes it with its own routing and a new snapshot
    # of the case's membership, with the category and department it would give. Neither wins.
    at = api_env.api_data.NOW
    joining = Lead(lead_id=f"{cid}-late", source="news-src", channel="news", external_id=f"{cid}-late", title="河道发黑",
                   text="稠城街道河道污水问题再次被反映。", published_at=at, fetched_at=at, lang="zh",
                   category=Category(level1="城乡建设", level2="城市建设和市政管理"), department=api_env.api_data.HOUSING,
                   case_id=cid, needs_triage=True)  # fmt: skip
    grown = case.model_copy(update={"report_count": 3, "lead_ids": [*case.lead_ids, joining.lead_id],
                                    "channels": ["forum", "hotline", "news"], "last_seen": at,
                                    "due_at": at + dt.timedelta(days=3)})  # fmt: skip
    api_env.write(env, leads=[joining], cases=[grown])
    later = _settled(client, env, cid, lambda c: c["report_count"] == 3 and len(c["leads"]) == 3)
    assert later["report_count"] == 3 and "news" in later["channels"]  # the membership update landed
    assert later["category"] == {"level1": "环境保护", "level2": "环境污染"}
    assert later["department"] == api_env.api_data.ENVIRONMENT and later["category_source"] == "human"
    by_id = {lead["lead_id"]: lead for lead in later["leads"]}
    assert by_id[joining.lead_id]["category"]["level1"] == "城乡建设"  # the new lead keeps its own routing
    assert all(by_id[lead.lead_id]["category"]["level1"] == "环境保护" for lead in leads)
    assert not [d for d in api_env.sink_dead_letters(env, timeout_s=2) if cid.encode() in (d.payload or b"")]


def test_recategorize_from_the_case_page_picks_from_the_taxonomy(client, env):
    _, case = api_env.make_case(env, "recat-page", [("hotline", "江东街道菜场门口污水横流，气味难闻。")])
    html = {"accept": "text/html", **env.headers("admin")}
    page = client.get(f"/cases/{case.case_id}", headers=html).text
    assert '<select name="level1" id="recategorize-level1">' in page and '<option value="环境保护">' in page
    assert '<select name="level2" id="recategorize-level2">' in page and '<optgroup label="环境保护">' in page
    assert '<option value="环境保护/环境污染">环境污染</option>' in page
    assert '<select name="department" id="recategorize-department">' in page
    assert f'<option value="{api_env.api_data.ENVIRONMENT}">' in page

    # A level-2 class of another level-1 class than the one chosen: refused, nothing changes.
    mixed = client.post(f"/cases/{case.case_id}/actions", headers=html, follow_redirects=False,
                        data={"action": "recategorize", "level1": "交通运输", "level2": "环境保护/环境污染"})  # fmt: skip
    assert mixed.status_code == 303 and "error=invalid" in mixed.headers["location"]
    assert not get(client, env, f"/api/v1/cases/{case.case_id}").json().get("history")

    done = client.post(f"/cases/{case.case_id}/actions", headers=html, follow_redirects=False,
                       data={"action": "recategorize", "level1": "", "level2": "环境保护/环境污染",
                             "department": api_env.api_data.ENVIRONMENT})  # fmt: skip
    assert done.status_code == 303 and "message=done" in done.headers["location"], done.headers["location"]
    after = _settled(client, env, case.case_id, lambda c: c.get("category_source") == "human")
    assert after["category"] == {"level1": "环境保护", "level2": "环境污染"} and after["department"] == api_env.api_data.ENVIRONMENT
    shown = client.get(f"/cases/{case.case_id}", headers=html).text
    assert "root 人工改定" in shown or "set by root" in shown
    assert 'class="recategorized"' in shown
