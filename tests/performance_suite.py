"""Department performance over HTTP, one suite for both stores (embedded half:
tests/unit/test_performance_api_embedded.py; cluster half: tests/integration/test_performance_api.py).

Cases with hand-built histories are written the way the pipeline writes them (case states, then case
events with their own times) into a period of 2021 no other test uses; both stores must give the
figures the pure function gives (leadhub/performance.py, whose definitions tests/unit/test_performance.py
checks one by one) and the same fixed answers.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from kafka import KafkaProducer

from adapters.kafka_clients import kafka_python_options
from schemas.cases import Action, Case, CaseEvent
from schemas.leads import Category, Lead, Place
from schemas.serialization import encode
from schemas.timezones import zone
from tests import api_data, api_env

Z = zone(None)
MON = dt.datetime(2021, 3, 1, 9, tzinfo=Z)  # a Monday
SINCE, UNTIL = "2021-03-01", "2021-03-08"
HOUSING, TRANSPORT = api_data.HOUSING, api_data.TRANSPORT
OFFICER = "体验员甲"  # an experience officer who reported "fast" and "bounced" and rated the first's answer


def _at(hours: float) -> dt.datetime:
    return MON + dt.timedelta(hours=hours)


# name -> (department, level1, last_seen hours, [(action, hours, fields)])
PLAN = {
    "fast": (HOUSING, "城乡建设", 0, [("accept", 2, {}), ("assign", 3, {"department": HOUSING}), ("start", 4, {}), ("resolve", 10, {"note": "修好了"}),
                                   ("rate", 11, {"rating": "satisfied", "actor": OFFICER})]),
    "late": (HOUSING, "城乡建设", 200, [("accept", 30, {}), ("assign", 31, {"department": HOUSING}), ("start", 32, {}),
                                     ("resolve", 150, {"note": "已处理"})]),
    "bounced": (TRANSPORT, "交通运输", 0, [("accept", 1, {}), ("assign", 2, {"department": HOUSING}), ("return", 3, {}),
                                        ("assign", 4, {"department": TRANSPORT})]),
    "waiting": (HOUSING, "公共安全", 0, []),
}


def _models(env) -> tuple[list[Lead], list[Case], list[CaseEvent]]:
    leads, cases, events = [], [], []
    for name, (department, level1, last_seen, steps) in PLAN.items():
        cid = f"{env.run}-perf-{name}"
        category = Category(level1=level1)
        leads.append(Lead(lead_id=cid, source="hotline-src", channel="hotline", external_id=cid, title=name, text=f"{name} 的问题",
                          published_at=MON, fetched_at=MON, lang="zh", category=category, department=department,
                          place=Place(town="稠城街道"), case_id=cid, is_primary=True))  # fmt: skip
        cases.append(Case(case_id=cid, title=name, category=category, department=department, report_count=1, channels=["hotline"],
                          sources=["hotline-src"], first_seen=MON, last_seen=_at(last_seen), lead_ids=[cid],
                          due_at=MON + dt.timedelta(days=5)))  # fmt: skip
        events += [CaseEvent(event_id=f"{cid}-{n}", case_id=cid, action=Action(action), at=_at(hours), **{"actor": "root", **fields})
                   for n, (action, hours, fields) in enumerate(steps)]  # fmt: skip
        if name in ("fast", "bounced"):
            leads.append(Lead(lead_id=f"{cid}-o", source="officer-intake", channel="officer", external_id=f"{cid}-o", title=name,
                              text=f"{name} 体验报告", published_at=MON, fetched_at=MON, lang="zh", author=OFFICER,
                              reporter_group="education", case_id=cid, is_primary=False))  # fmt: skip
    return leads, cases, events


def _send_events(env, events: list[CaseEvent]) -> None:
    from streams.records import Output

    if env.kind == "embedded":
        for event in events:
            value, headers = encode(event)
            env.pipeline.write(Output("cases.events", event.case_id.encode(), value, headers))
        return
    producer = KafkaProducer(**kafka_python_options(env.settings.kafka), acks="all")
    for event in events:
        value, headers = encode(event)
        producer.send(f"k{env.run}.cases.events", value=value, key=event.case_id.encode(), headers=headers)
    producer.flush()
    producer.close()


@pytest.fixture(scope="module")
def perf_cases(env, client):
    leads, cases, events = _models(env)
    api_env.write(env, leads=leads, cases=cases)
    _send_events(env, events)
    wanted = {c.case_id: sum(1 for e in events if e.case_id == c.case_id) for c in cases}
    deadline = time.monotonic() + 30
    while True:
        stored = {cid: env.context.store.get("cases", cid) for cid in wanted}
        if all(doc and len(doc.get("history") or []) == n for cid, (doc, n) in ((c, (stored[c], wanted[c])) for c in wanted)):
            break
        assert time.monotonic() < deadline, "the case events did not reach the store"
        time.sleep(0.2)
        if env.kind != "embedded":
            env.context.store.backend.refresh(f"i{env.run}-cases")
    return [Case.model_validate(doc) for doc in stored.values()]


def _rows(client, env, role="admin", **params):
    response = client.get("/api/v1/stats/departments", params={"since": SINCE, "until": UNTIL, **params}, headers=env.headers(role))
    assert response.status_code == 200, response.text
    return response.json()


def test_department_figures_from_the_store_match_the_definitions(client, env, perf_cases):
    body = _rows(client, env)
    by = {r["department"]: r for r in body["departments"]}
    housing, transport = by[HOUSING], by[TRANSPORT]
    assert (housing["received"], housing["resolved"], housing["accepted_in_time"]) == (3, 2, 1)
    assert housing["on_time_rate"] == 0.5  # "late" resolved after its due time (5 days)
    assert housing["median_hours_to_resolve"] == 80.0 and housing["p90_hours_to_resolve"] == 150.0
    assert housing["returned"] == 1 and transport["returned"] == 0  # housing handed "bounced" back
    assert housing["repeat_rate"] == 0.5  # "late" was reported again after its resolve
    assert (housing["rated"], housing["satisfaction_rate"]) == (1, 1.0)
    assert (transport["received"], transport["accepted_in_time"], transport["resolved"]) == (1, 1, 0)
    assert transport["on_time_rate"] is None and transport["satisfaction_rate"] is None
    assert "case_ids" not in housing


def test_the_api_gives_what_the_pure_function_gives_on_the_stored_cases(client, env, perf_cases):
    from leadhub.performance import category_rows, department_rows

    body = _rows(client, env, by="category")
    since, until = dt.datetime.fromisoformat(body["since"]), dt.datetime.fromisoformat(body["until"])
    now = dt.datetime.now(dt.UTC)
    expected = [r.model_dump(mode="json") for r in department_rows(perf_cases, since=since, until=until, now=now)]
    assert body["departments"] == expected
    split = {(r["department"], r["category"]): r["received"] for r in body["categories"]}
    # housing's return of a transport case gives it a 交通运输 row with only that return
    assert split == {(HOUSING, "城乡建设"): 2, (HOUSING, "公共安全"): 1, (HOUSING, "交通运输"): 0, (TRANSPORT, "交通运输"): 1}
    assert body["categories"] == [r.model_dump(mode="json") for r in category_rows(perf_cases, since=since, until=until, now=now)]


@pytest.mark.parametrize("role,expected", [("analyst", 200), ("officer", 200), ("admin", 200), ("intake", 403)])
def test_department_stats_are_for_analysts_officers_and_admins(client, env, role, expected):
    response = client.get("/api/v1/stats/departments", params={"since": SINCE, "until": UNTIL}, headers=env.headers(role))
    assert response.status_code == expected


def test_a_backwards_or_too_long_period_is_a_clear_422(client, env):
    for params in ({"since": "2021-03-08", "until": "2021-03-01"}, {"since": "2010-01-01", "until": "2021-01-01"}):
        response = client.get("/api/v1/stats/departments", params=params, headers=env.headers("admin"))
        assert response.status_code == 422 and "since" in response.text or "period" in response.text


def test_the_departments_page_links_every_figure_to_its_cases(client, env, perf_cases):
    page = client.get("/departments", params={"since": SINCE, "until": UNTIL, "sort": "returned", "dir": "desc"},
                      headers={**env.headers("analyst"), "accept": "text/html"})  # fmt: skip
    assert page.status_code == 200
    html = page.text
    assert "<svg class=\"spark\"" in html and "<script" not in html
    bounced = f"{env.run}-perf-bounced"
    assert f"/search?kind=cases&amp;ids={bounced}" in html  # the return links to the case returned
    # The page's links lead to the same cases on the search page.
    found = client.get("/api/v1/cases", params={"ids": [bounced]}, headers=env.headers("admin")).json()
    assert [hit["case_id"] for hit in found["hits"]] == [bounced]
    # sorted by returned, descending: housing's row (1 return) before transport's (0)
    assert html.index(HOUSING) < html.index(TRANSPORT)
    ascending = client.get("/departments", params={"since": SINCE, "until": UNTIL, "sort": "returned", "dir": "asc"},
                           headers={**env.headers("analyst"), "accept": "text/html"}).text  # fmt: skip
    assert ascending.index(TRANSPORT) < ascending.index(HOUSING)


def test_the_officers_page_counts_each_officers_reports_outcomes_and_ratings(client, env, perf_cases):
    import re

    html = client.get("/officers", params={"since": SINCE, "until": UNTIL}, headers={**env.headers("admin"), "accept": "text/html"}).text
    row = re.search(rf"<tr>\s*<th scope=\"row\">{OFFICER}</th>(.*?)</tr>", html, re.S)
    assert row is not None, html
    cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]
    # group (by its title), reports, accepted, rejected, resolved, satisfied, basically satisfied, dissatisfied
    assert cells[1:] == ["2", "2", "0", "1", "1", "0", "0"]
    assert cells[0] and cells[0] != "education"  # the group's title in the page's language, not its id


def test_the_officers_page_is_for_admins(client, env):
    html = {"accept": "text/html"}
    assert client.get("/officers", headers={**env.headers("admin"), **html}).status_code == 200
    assert client.get("/officers", headers={**env.headers("analyst"), **html}).status_code == 403


def test_the_period_is_read_whole_a_page_at_a_time(client, env, perf_cases):
    from leadhub.queries import Filters
    from leadhub.readers import windows

    period = Filters(since=dt.datetime(2021, 3, 1, tzinfo=Z), until=dt.datetime(2021, 3, 8, tzinfo=Z))
    paged = list(windows.documents(env.context.store, "cases", period, page_size=2))  # 4 cases: pages of 2, 2 and 0
    assert sorted(doc["case_id"] for doc in paged) == sorted(c.case_id for c in perf_cases)
    assert [doc["case_id"] for doc in paged] == sorted(doc["case_id"] for doc in paged)  # id order, no repeats
    assert {d["case_id"]: len(d.get("history") or []) for d in paged} == {c.case_id: len(c.history) for c in perf_cases}  # whole
    by_id = windows.by_ids(env.context.store, "cases", [perf_cases[0].case_id, "no-such-case"], page_size=1)
    assert list(by_id) == [perf_cases[0].case_id]
