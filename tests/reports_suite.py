"""Experience officers' reports (/api/v1/reports, the /my page), one suite for both stores: its
embedded half is tests/unit/test_reports_api_embedded.py, its cluster half
tests/integration/test_reports_api.py (each gives the suite its `env`); not collected on its own."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest

from leadhub.queries import CITY_ZONE
from leadhub.reports_settings import ActivitySpec, ReportsSettings
from schemas.cases import Case
from schemas.leads import Category, Lead, Place
from tests import api_data, api_env

HOUSING = api_data.HOUSING


def _activity(env) -> str:
    return f"hall-{env.run}"


@pytest.fixture
def activities(env, monkeypatch):
    """This run's themed activity configured (reports.activities), as an admin would in leadhub.yaml."""
    today = dt.datetime.now(CITY_ZONE).date()
    week = dict(starts=today - dt.timedelta(days=3), ends=today + dt.timedelta(days=3))
    spec = ActivitySpec(id=_activity(env), title_zh="办事大厅体验", title_en="Service hall visits", **week)
    clinics = ActivitySpec(id=f"clinics-{env.run}", title_zh="社区卫生服务体验", title_en="Clinics", group="health", **week)
    monkeypatch.setattr(env.context, "reports", ReportsSettings(activities=[spec, clinics]))
    return spec


def report_case(env, role="intake", *, activity: str | None = None) -> str:
    """A report of the officer of ``role`` and its new case (housing), written as the pipeline writes
    them; returns the report's id (its lead id, which is also its case's id)."""
    name, _, _ = api_env.ROLES[role]
    group = api_env.GROUPS.get(role)
    cid = f"{env.run}-r{uuid.uuid4().hex[:8]}"
    at = api_data.NOW - dt.timedelta(hours=1)
    category = Category(level1="城乡建设", level2="城市建设和市政管理")
    lead = Lead(
        lead_id=cid, source="officer-intake", channel="officer", external_id=f"{name}:{cid}", title="小区电梯停运一周",
        text="体验地点: 幸福小区\n\n遇到的问题: 电梯停运一周无人维修", author=name, location_text="幸福小区",
        published_at=at, fetched_at=at, lang="zh", category=category, department=HOUSING, place=Place(town="稠城街道"),
        case_id=cid, is_primary=True, reporter_group=group, activity=activity,
    )  # fmt: skip
    case = Case(
        case_id=cid, title="小区电梯停运一周", summary=lead.text, category=category, department=HOUSING,
        place=Place(town="稠城街道"), report_count=1, channels=["officer"], sources=["officer-intake"], first_seen=at,
        last_seen=at, lead_ids=[cid], due_at=api_data.NOW + dt.timedelta(days=5),
        reporter_groups=[group] if group else [], activities=[activity] if activity else [],
    )  # fmt: skip
    api_env.write(env, leads=[lead], cases=[case])
    return cid


def act(client, env, case_id, action, role="officer", **fields):
    response = client.post(f"/api/v1/cases/{case_id}/events", json={"action": action, **fields}, headers=env.headers(role))
    assert response.status_code in (201, 202), response.text
    return response.json()


def resolve(client, env, case_id, *, reopened=False):
    """The housing officer handles the case to resolved (from new, or from accepted after a reopen)."""
    if not reopened:
        act(client, env, case_id, "accept")
    act(client, env, case_id, "assign", department=HOUSING)
    act(client, env, case_id, "start")
    act(client, env, case_id, "resolve", note="已联系物业，电梯已修复")


def rate(client, env, report_id, rating, role="intake", comment="谢谢"):
    return client.post(f"/api/v1/reports/{report_id}/rating", json={"rating": rating, "comment": comment}, headers=env.headers(role))


# --- role rules ----------------------------------------------------------------------------------

SPECIAL = {"none": {}, "bad_key": {"Authorization": "Bearer not-a-key"}}
ROLES = ("none", "bad_key", "analyst", "officer", "intake", "other_intake", "admin")
LIST = {"none": 401, "bad_key": 401, "analyst": 403, "officer": 403, "intake": 200, "other_intake": 200, "admin": 200}
ONE = {**LIST, "other_intake": 404}  # another officer's report is as if it did not exist
# Before the case is resolved: the report's officer hears why (409); an admin may read but not rate it.
RATE = {**LIST, "intake": 409, "other_intake": 404, "admin": 403}


@pytest.mark.parametrize("role", ROLES)
def test_the_report_endpoints_answer_each_role_as_the_rules_say(client, env, role):
    report_id = report_case(env)
    headers = SPECIAL[role] if role in SPECIAL else env.headers(role)
    assert client.get("/api/v1/reports", headers=headers).status_code == LIST[role]
    assert client.get(f"/api/v1/reports/{report_id}", headers=headers).status_code == ONE[role]
    rated = client.post(f"/api/v1/reports/{report_id}/rating", json={"rating": "satisfied"}, headers=headers)
    assert rated.status_code == RATE[role], rated.text


def test_an_officer_lists_only_their_own_reports_newest_first(client, env):
    older, newer = report_case(env), report_case(env)
    theirs = report_case(env, "other_intake")
    rows = client.get("/api/v1/reports", params={"size": 200}, headers=env.headers("intake")).json()["rows"]
    ids = [r["report_id"] for r in rows]
    assert older in ids and newer in ids and theirs not in ids
    assert {r["officer"] for r in rows} == {"experience-officer-1"}
    stamps = [r["submitted_at"] for r in rows]
    assert stamps == sorted(stamps, reverse=True) or len(set(stamps)) < len(stamps)
    row = next(r for r in rows if r["report_id"] == newer)
    assert row["case_id"] == newer and row["status"] == "new" and row["department"] == HOUSING
    assert row["due_at"] and row["resolution"] is None and row["feedback"] == [] and row["rating"] is None
    assert row["rateable"] is False and row["group"] == "education"
    assert client.get(f"/api/v1/reports/{theirs}", headers=env.headers("intake")).status_code == 404
    assert client.get(f"/api/v1/reports/{theirs}", headers=env.headers("admin")).json()["officer"] == "experience-officer-2"


def test_an_admin_filters_by_officer_group_and_activity_and_an_officer_may_not(client, env):
    mine = report_case(env, activity=_activity(env))
    theirs = report_case(env, "other_intake", activity=_activity(env))
    plain = report_case(env, "other_intake")

    def ids(**params):
        response = client.get("/api/v1/reports", params={"size": 200, **params}, headers=env.headers("admin"))
        assert response.status_code == 200, response.text
        return {r["report_id"] for r in response.json()["rows"]}

    assert {mine, theirs} <= ids(activity=_activity(env)) and plain not in ids(activity=_activity(env))
    assert ids(activity=_activity(env), group="health") == {theirs}
    assert ids(activity=_activity(env), officer="experience-officer-1") == {mine}
    assert {mine, theirs, plain} <= ids()
    refused = client.get("/api/v1/reports", params={"officer": "experience-officer-2"}, headers=env.headers("intake"))
    assert refused.status_code == 403


# --- rating --------------------------------------------------------------------------------------

def test_a_rating_waits_for_the_result_and_counts_once_per_resolution(client, env):
    report_id = report_case(env)
    early = rate(client, env, report_id, "satisfied")
    assert early.status_code == 409 and "resolved or closed" in early.json()["detail"]
    resolve(client, env, report_id)
    row = client.get(f"/api/v1/reports/{report_id}", headers=env.headers("intake")).json()
    assert row["status"] == "resolved" and row["resolution"] == "已联系物业，电梯已修复" and row["rateable"] is True
    first = rate(client, env, report_id, "basically_satisfied", comment="修得有点慢")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["status"] == "resolved" and body["reopened"] is False
    assert body["report"]["rating"]["rating"] == "basically_satisfied" and body["report"]["rating"]["comment"] == "修得有点慢"
    assert body["report"]["rateable"] is False
    again = rate(client, env, report_id, "dissatisfied")
    assert again.status_code == 409 and "already rated" in again.json()["detail"]
    case = client.get(f"/api/v1/cases/{report_id}", headers=env.headers("admin")).json()
    assert [r["rating"] for r in case["ratings"]] == ["basically_satisfied"]
    assert case["ratings"][0]["resolution"] == "已联系物业，电梯已修复" and case["ratings"][0]["actor"] == "experience-officer-1"
    assert case["history"][-1]["action"] == "rate" and case["history"][-1]["rating"] == "basically_satisfied"


def test_feedback_shows_on_the_report_and_a_closed_case_can_be_rated(client, env):
    report_id = report_case(env)
    resolve(client, env, report_id)
    act(client, env, report_id, "feedback", note="已回访，居民表示满意")
    row = client.get(f"/api/v1/reports/{report_id}", headers=env.headers("intake")).json()
    assert row["status"] == "closed" and [f["note"] for f in row["feedback"]] == ["已回访，居民表示满意"]
    assert rate(client, env, report_id, "satisfied").status_code == 201


def test_a_dissatisfied_rating_reopens_the_case_and_the_next_result_is_rated_again(client, env):
    report_id = report_case(env)
    resolve(client, env, report_id)
    response = rate(client, env, report_id, "dissatisfied", comment="电梯又坏了")
    assert response.status_code == 201, response.text
    assert response.json()["reopened"] is True and response.json()["status"] == "accepted"
    case = client.get(f"/api/v1/cases/{report_id}", headers=env.headers("admin")).json()
    assert case["status"] == "accepted" and case["resolution"] is None
    rate_entry, reopen_entry = case["history"][-2:]
    assert rate_entry["action"] == "rate" and rate_entry["rating"] == "dissatisfied"
    assert reopen_entry["action"] == "reopen" and reopen_entry["actor"] == "experience-officer-1"
    assert "dissatisfied" in reopen_entry["note"] and "电梯又坏了" in reopen_entry["note"]
    assert rate(client, env, report_id, "satisfied").status_code == 409  # no result to rate until resolved again
    resolve(client, env, report_id, reopened=True)
    assert rate(client, env, report_id, "satisfied").status_code == 201
    ratings = client.get(f"/api/v1/reports/{report_id}", headers=env.headers("intake")).json()["rating"]
    assert ratings["rating"] == "satisfied"


def test_with_the_setting_off_a_dissatisfied_rating_leaves_the_case_resolved(client, env, monkeypatch):
    monkeypatch.setattr(env.context, "reports", ReportsSettings(reopen_on_dissatisfied=False))
    report_id = report_case(env)
    resolve(client, env, report_id)
    response = rate(client, env, report_id, "dissatisfied")
    assert response.status_code == 201 and response.json()["reopened"] is False and response.json()["status"] == "resolved"
    case = client.get(f"/api/v1/cases/{report_id}", headers=env.headers("admin")).json()
    assert case["status"] == "resolved" and case["history"][-1]["action"] == "rate"


def test_another_officer_cannot_rate_or_see_a_report(client, env):
    report_id = report_case(env)
    resolve(client, env, report_id)
    assert rate(client, env, report_id, "dissatisfied", role="other_intake").status_code == 404
    assert client.get(f"/api/v1/cases/{report_id}", headers=env.headers("admin")).json()["status"] == "resolved"


def test_a_rating_is_checked(client, env):
    report_id = report_case(env)
    bad = client.post(f"/api/v1/reports/{report_id}/rating", json={"rating": "great"}, headers=env.headers("intake"))
    assert bad.status_code == 422
    assert rate(client, env, "no-such-report", "satisfied").status_code == 404


# --- groups and activities -----------------------------------------------------------------------

def test_a_report_names_a_configured_activity_and_carries_the_officers_group(client, env, activities):
    visited = (dt.datetime.now(CITY_ZONE) - dt.timedelta(minutes=5)).isoformat()
    report = {"title": "窗口无人", "place": "义乌市行政服务中心", "visited_at": visited,
              "tried": "办理居住证", "went_wrong": "窗口无人", "report_id": uuid.uuid4().hex}  # fmt: skip
    unknown = client.post("/api/v1/reports", json={**report, "activity": "no-such-activity"}, headers=env.headers("intake"))
    assert unknown.status_code == 422 and "unknown activity 'no-such-activity'" in unknown.json()["detail"]
    assert _activity(env) in unknown.json()["detail"]
    old = {**report, "visited_at": "2024-05-02T10:00:00+08:00", "activity": _activity(env)}
    late = client.post("/api/v1/reports", json=old, headers=env.headers("intake"))
    assert late.status_code == 422 and "the visit was on 2024-05-02" in late.json()["detail"]
    other_group = client.post("/api/v1/reports", json={**report, "activity": f"clinics-{env.run}"}, headers=env.headers("intake"))
    assert other_group.status_code == 422 and "is for the health group; you are in education" in other_group.json()["detail"]
    sent = client.post("/api/v1/reports", json={**report, "activity": _activity(env)}, headers=env.headers("intake"))
    assert sent.status_code == 201, sent.text
    lead = env.submitted_lead(sent.json()["lead_id"])
    if env.kind == "embedded":  # routed: the lead's own fields
        assert lead["reporter_group"] == "education" and lead["activity"] == _activity(env)
    else:  # as sent to leads.raw: the normalize stage makes them the lead's fields
        assert lead["extra"]["reporter_group"] == "education" and lead["extra"]["activity"] == _activity(env)


def test_leads_cases_and_stats_filter_and_facet_by_group_and_activity(client, env):
    activity = f"facets-{env.run}"  # this test's own: other tests' reports name the run's activity
    report_id = report_case(env, "other_intake", activity=activity)
    if env.kind != "embedded":  # api_env.write waits for the documents by id; a search needs the refresh
        env.context.store.backend.refresh(f"i{env.run}-cases")
    for kind, key in (("leads", "lead_id"), ("cases", "case_id")):
        found = client.get(f"/api/v1/{kind}", params={"group": "health", "activity": activity}, headers=env.headers("admin"))
        assert found.status_code == 200, found.text
        assert [h[key] for h in found.json()["hits"]] == [report_id], kind
        facets = found.json()["facets"]
        assert {"value": "health", "count": 1} in facets["group"] and {"value": activity, "count": 1} in facets["activity"]
        none = client.get(f"/api/v1/{kind}", params={"group": "education", "activity": activity}, headers=env.headers("admin"))
        assert none.json()["total"] == 0, kind
    stats = client.get("/api/v1/stats", params={"group": "health", "activity": activity}, headers=env.headers("admin")).json()
    assert stats["cases_total"] == 1 and stats["leads_total"] == 1 and stats["open_cases"] == 1
    assert [h["case_id"] for h in stats["hot"]] == [report_id]
    other = client.get("/api/v1/stats", params={"group": "education", "activity": activity}, headers=env.headers("admin")).json()
    assert other["cases_total"] == 0 and other["leads_total"] == 0


def test_a_merged_report_follows_the_case_it_joined_which_counts_its_group(client, env):
    activity = f"merge-{env.run}"
    mine = report_case(env, activity=activity)
    target = report_case(env, "other_intake")
    act(client, env, mine, "merge", role="admin", target_case_id=target)
    row = client.get(f"/api/v1/reports/{mine}", headers=env.headers("intake")).json()
    assert row["case_id"] == target and row["status"] == "new"  # where it is handled now
    resolve(client, env, target)
    assert client.get(f"/api/v1/reports/{mine}", headers=env.headers("intake")).json()["rateable"] is True
    if env.kind != "embedded":
        env.context.store.backend.refresh(f"i{env.run}-cases")
    found = client.get("/api/v1/cases", params={"activity": activity, "group": "education"}, headers=env.headers("admin")).json()
    assert target in [h["case_id"] for h in found["hits"]]


def test_the_search_page_names_groups_and_activities_in_the_readers_language(client, env, activities):
    report_case(env, "other_intake", activity=_activity(env))
    if env.kind != "embedded":
        env.context.store.backend.refresh(f"i{env.run}-cases")
    params = {"activity": _activity(env)}
    zh = client.get("/search", params=params, headers={"accept": "text/html", "accept-language": "zh-CN", **env.headers("admin")})
    assert zh.status_code == 200 and "医疗卫生" in zh.text and "办事大厅体验" in zh.text
    en = client.get("/search", params=params, headers={"accept": "text/html", "accept-language": "en", **env.headers("admin")})
    assert "Health care" in en.text and "Service hall visits" in en.text


# --- the /my page ---------------------------------------------------------------------------------

def _page(client, env, role="intake", lang="zh", path="/my"):
    headers = {"accept": "text/html", "accept-language": "en" if lang == "en" else "zh-CN", **env.headers(role)}
    return client.get(path, headers=headers)


def test_the_my_page_shows_the_officers_reports_and_rating_form(client, env):
    waiting, done = report_case(env), report_case(env)
    theirs = report_case(env, "other_intake")
    resolve(client, env, done)
    page = _page(client, env)
    assert page.status_code == 200
    assert f'id="report-{waiting}"' in page.text and f'id="report-{done}"' in page.text and theirs not in page.text
    assert "待受理" in page.text and "已办结" in page.text and "已联系物业，电梯已修复" in page.text
    forms = re.findall(r'<form[^>]*action="/my/([^/"]+)/rating"', page.text)
    assert done in forms and waiting not in forms
    english = _page(client, env, lang="en")
    assert "resolved" in english.text and "Housing" in english.text and "Rate the answer" in english.text
    assert "Choucheng Subdistrict" in english.text and "稠城街道" not in english.text  # the place named in English
    for role, code in (("analyst", 403), ("officer", 403), ("admin", 200)):
        assert _page(client, env, role).status_code == code, role
    admin = _page(client, env, "admin")
    assert "experience-officer-2" in admin.text  # the officer column


def test_rating_on_the_my_page_says_what_happened(client, env):
    report_id = report_case(env)
    resolve(client, env, report_id)
    headers = {"accept": "text/html", **env.headers("intake")}
    posted = client.post(f"/my/{report_id}/rating", data={"rating": "dissatisfied", "comment": "没修好"}, headers=headers,
                         follow_redirects=False)  # fmt: skip
    assert posted.status_code == 303 and posted.headers["location"].startswith("/my?")
    shown = client.get(posted.headers["location"], headers=headers)
    assert re.search(r'id="message"[^>]*>[^<]*已重新打开', shown.text)  # the case was reopened, in words
    assert client.get(f"/api/v1/cases/{report_id}", headers=env.headers("admin")).json()["status"] == "accepted"
    again = client.post(f"/my/{report_id}/rating", data={"rating": "satisfied"}, headers=headers, follow_redirects=False)
    assert "error=conflict" in again.headers["location"]
    other = client.post(f"/my/{report_id}/rating", data={"rating": "satisfied"}, headers={**headers, "origin": "https://evil.example"},
                        follow_redirects=False)  # fmt: skip
    assert other.status_code == 403  # cross-site posts are refused


def test_an_experience_officer_lands_on_my_after_login(client, env):
    response = client.post("/login", data={"key": env.keys["intake"]}, headers={"accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/my"
    response = client.post("/login", data={"key": env.keys["analyst"]}, headers={"accept": "text/html"}, follow_redirects=False)
    assert response.headers["location"] == "/search"
    client.cookies.clear()
