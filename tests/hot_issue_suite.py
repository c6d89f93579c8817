"""Hot issues through the API, one suite for both stores: the real Kafka + sink + OpenSearch
(tests/integration/test_hot_issues_api.py) and embedded mode's SQLite index
(tests/unit/test_hot_issues_api_embedded.py). Records are written the way the clusterer's stage sends
them (the hot_issues topic; embedded: the pipeline's writer); this module is not collected on its own."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from kafka import KafkaProducer

from adapters.kafka_clients import kafka_python_options
from leadhub.hot_issues_store import hot_issue_store
from schemas.hot_issues import HotIssue
from schemas.serialization import encode
from streams.records import Output

T0 = dt.datetime(2024, 5, 1, 8, tzinfo=dt.UTC)


def make(
    env, *, heat: float, leads: int = 3, last_seen: dt.datetime = T0, entity: str = "丽发新城", reporters: int | None = None
) -> HotIssue:
    issue_id = f"{env.run}-{uuid.uuid4().hex[:8]}"
    lead_ids = [f"{issue_id}-{n}" for n in range(leads)]
    return HotIssue(
        issue_id=issue_id, title=f"{entity}：搅拌站 噪音", entities=[f"{entity}小区"], entity_keys=[entity], lead_ids=lead_ids,
        case_ids=[env.case_id("lift"), *lead_ids[1:]], first_seen=last_seen - dt.timedelta(days=3), last_seen=last_seen,
        heat=heat, leads=leads, reporters=leads if reporters is None else reporters,
    )  # fmt: skip


def write(env, *issues: HotIssue, wait_for: tuple[HotIssue, ...] | None = None, timeout_s: float = 60.0) -> None:
    """Records into the store as the stage sends them; returns once the store shows ``wait_for``
    (default: all of them) with their lead counts. The topic has one partition: applied in order."""
    if env.kind == "embedded":
        for issue in issues:
            value, headers = encode(issue)
            env.pipeline.write(Output("hot_issues", issue.issue_id.encode(), value, headers))
        return
    producer = KafkaProducer(**kafka_python_options(env.settings.kafka), acks="all")
    for issue in issues:
        value, headers = encode(issue)
        producer.send(f"k{env.run}.hot_issues", value=value, key=issue.issue_id.encode(), headers=headers)
    producer.flush()
    producer.close()
    backend = env.context.store.backend
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        backend.refresh(f"i{env.run}-hot_issues")
        stored = {doc["issue_id"]: doc for doc in hot_issue_store(env.context.store).list(limit=100)}
        if all(stored.get(i.issue_id, {}).get("leads") == i.leads for i in (wait_for or issues)):
            return
        time.sleep(0.3)
    raise AssertionError("the hot issues written did not reach the index")


def get(client, env, **params):
    return client.get("/api/v1/hot-issues", params=params, headers=env.headers("analyst"))


ROLES = ("none", "bad_key", "analyst", "officer", "other_officer", "intake", "admin")
READ = {"none": 401, "bad_key": 401, "analyst": 200, "officer": 200, "other_officer": 200, "intake": 403, "admin": 200}


@pytest.mark.parametrize("role", ROLES)
def test_listing_hot_issues_answers_each_role_as_its_permissions_say(client, env, role):
    special = {"none": {}, "bad_key": {"Authorization": "Bearer not-a-key"}}
    headers = special[role] if role in special else env.headers(role)
    assert client.get("/api/v1/hot-issues", headers=headers).status_code == READ[role]


def test_hot_issues_of_a_period_come_hottest_first_with_their_fields(client, env):
    at = T0 + dt.timedelta(days=400)  # a period of this test's own
    warm, hot, hottest = make(env, heat=2.5, last_seen=at), make(env, heat=4.0, last_seen=at - dt.timedelta(days=2)), make(env, heat=6.0, leads=5, last_seen=at - dt.timedelta(days=5))
    old = make(env, heat=9.0, last_seen=at - dt.timedelta(days=40))  # hottest of all, but its latest lead is before the period
    write(env, warm, hot, hottest, old)
    until = (at + dt.timedelta(hours=1)).isoformat()
    body = get(client, env, days=30, until=until, top=10).json()
    assert [i["issue_id"] for i in body["hot_issues"]] == [hottest.issue_id, hot.issue_id, warm.issue_id]
    assert body["count"] == 3
    first = body["hot_issues"][0]
    assert first["title"] == "丽发新城：搅拌站 噪音" and first["entities"] == ["丽发新城小区"] and first["entity_keys"] == ["丽发新城"]
    assert first["leads"] == 5 and len(first["lead_ids"]) == 5 and first["case_ids"][0] == env.case_id("lift")
    assert first["heat"] == 6.0 and first["reporters"] == 5
    assert dt.datetime.fromisoformat(first["last_seen"]) == hottest.last_seen
    assert [i["issue_id"] for i in get(client, env, days=30, until=until, top=2).json()["hot_issues"]] == [hottest.issue_id, hot.issue_id]
    assert old.issue_id in [i["issue_id"] for i in get(client, env, days=60, until=until, top=10).json()["hot_issues"]]


def test_the_raised_again_list_puts_the_most_repeats_first_and_leaves_out_issues_without_any(client, env):
    at = T0 + dt.timedelta(days=600)  # a period of this test's own
    hottest = make(env, heat=9.0, leads=6, last_seen=at)  # six people once each: no repeat
    one_person = make(env, heat=2.0, leads=4, reporters=1, last_seen=at - dt.timedelta(days=3))  # 3 repeats
    two_people = make(env, heat=3.5, leads=5, reporters=2, last_seen=at - dt.timedelta(days=1))  # 3 repeats, hotter
    once_again = make(env, heat=5.0, leads=3, reporters=2, last_seen=at - dt.timedelta(days=2))  # 1 repeat
    old = make(env, heat=1.0, leads=9, reporters=1, last_seen=at - dt.timedelta(days=40))  # before the period
    write(env, hottest, one_person, two_people, once_again, old)
    until = (at + dt.timedelta(hours=1)).isoformat()
    body = get(client, env, days=30, until=until, order="repeats").json()
    assert body["order"] == "repeats"
    assert [(i["issue_id"], i["repeats"]) for i in body["hot_issues"]] == [
        (two_people.issue_id, 3), (one_person.issue_id, 3), (once_again.issue_id, 1),
    ]  # fmt: skip
    assert body["hot_issues"][1]["reporters"] == 1 and body["hot_issues"][1]["leads"] == 4
    assert [i["issue_id"] for i in get(client, env, days=30, until=until, order="repeats", top=1).json()["hot_issues"]] == [two_people.issue_id]
    by_heat = get(client, env, days=30, until=until).json()
    assert by_heat["order"] == "heat" and by_heat["hot_issues"][0]["issue_id"] == hottest.issue_id and by_heat["hot_issues"][0]["repeats"] == 0
    # the same repeats and heat: the latest lead first, as both stores order them
    tie = make(env, heat=3.5, leads=5, reporters=2, last_seen=at - dt.timedelta(hours=12))
    write(env, tie)
    again = [i["issue_id"] for i in get(client, env, days=30, until=until, order="repeats").json()["hot_issues"]]
    assert again == [tie.issue_id, two_people.issue_id, one_person.issue_id, once_again.issue_id]
    since = at - dt.timedelta(days=30)
    at_least_two = hot_issue_store(env.context.store).list(since=since, until=at + dt.timedelta(hours=1), order="repeats", min_repeats=2)
    assert [i["issue_id"] for i in at_least_two] == [tie.issue_id, two_people.issue_id, one_person.issue_id]
    wrong = get(client, env, order="likes")
    assert wrong.status_code == 422 and "heat" in wrong.text and "repeats" in wrong.text


def test_an_older_record_of_a_hot_issue_never_shrinks_it(client, env):
    at = T0 + dt.timedelta(days=800)
    grown = make(env, heat=5.0, leads=4, last_seen=at)
    earlier = grown.model_copy(update={"leads": 2, "lead_ids": grown.lead_ids[:2], "heat": 3.0, "last_seen": at - dt.timedelta(days=1)})
    write(env, grown, earlier, wait_for=(grown,))
    time.sleep(0.5 if env.kind != "embedded" else 0)
    if env.kind != "embedded":
        env.context.store.backend.refresh(f"i{env.run}-hot_issues")
    body = get(client, env, days=3, until=(at + dt.timedelta(hours=1)).isoformat()).json()
    found = [i for i in body["hot_issues"] if i["issue_id"] == grown.issue_id]
    assert len(found) == 1 and found[0]["leads"] == 4 and found[0]["heat"] == 5.0
    if env.kind != "embedded":  # the engine's refusal of the older record (409) is no dead letter
        from kafka import KafkaConsumer, TopicPartition

        consumer = KafkaConsumer(**kafka_python_options(env.settings.kafka), group_id=None, enable_auto_commit=False)
        try:
            consumer.assign([TopicPartition(f"k{env.run}.leads.dlq", 0)])
            consumer.seek_to_beginning()
            keys = [r.key for records in consumer.poll(timeout_ms=3000, max_records=1000).values() for r in records]
        finally:
            consumer.close()
        assert grown.issue_id.encode() not in keys


def test_a_period_without_hot_issues_is_empty_and_until_needs_a_zone(client, env):
    body = get(client, env, days=1, until="2000-01-02T00:00:00+08:00").json()
    assert body["count"] == 0 and body["hot_issues"] == []
    assert get(client, env, until="2024-05-01T00:00:00").status_code == 422


# --- entities as a filter and facet of lead and case search -------------------------------------


def _write_routed(env, leads, cases, timeout_s: float = 60.0) -> None:
    """Leads and case snapshots as the stages send them, then wait until the store shows them."""
    outputs = [("leads.routed", x.lead_id, x) for x in leads] + [("cases.state", c.case_id, c) for c in cases]
    if env.kind == "embedded":
        for topic, key, model in outputs:
            value, headers = encode(model)
            env.pipeline.write(Output(topic, key.encode(), value, headers))
        return
    producer = KafkaProducer(**kafka_python_options(env.settings.kafka), acks="all")
    for topic, key, model in outputs:
        value, headers = encode(model)
        producer.send(f"k{env.run}.{topic}", value=value, key=key.encode(), headers=headers)
    producer.flush()
    producer.close()
    backend = env.context.store.backend
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        backend.refresh(f"i{env.run}-leads"), backend.refresh(f"i{env.run}-cases")
        if len(backend.find(f"i{env.run}-leads", [x.lead_id for x in leads])) == len(leads) and all(
            (backend.get(f"i{env.run}-cases", c.case_id) or {}).get("_source", {}).get("entities") == c.entities for c in cases
        ):
            # A get sees a document before a refresh does: one more refresh, so searches see what the gets saw.
            backend.refresh(f"i{env.run}-leads"), backend.refresh(f"i{env.run}-cases")
            return
        time.sleep(0.3)
    raise AssertionError("the leads and cases written did not reach the index")


def test_entities_filter_and_facet_lead_and_case_search(client, env):
    from schemas.cases import Case
    from schemas.leads import Lead

    a, b = f"丽发新城{env.run}", f"伊景园滨河苑{env.run}"
    at = T0 + dt.timedelta(days=1200)
    c1, c2 = f"{env.run}-ent-c1", f"{env.run}-ent-c2"

    def lead(n: int, case_id: str, entities: list[str]) -> Lead:
        return Lead(lead_id=f"{env.run}-ent-{n}", source="forum-ent", channel="forum", external_id=f"ent-{n}", title=f"搅拌站噪音{n}",
                    text="小区旁边搅拌站噪音扰民", published_at=at, fetched_at=at, case_id=case_id, entities=entities)  # fmt: skip

    leads = [lead(1, c1, [a]), lead(2, c1, [a, b]), lead(3, c2, [b])]
    cases = [Case(case_id=c1, title="搅拌站噪音", report_count=2, lead_ids=[x.lead_id for x in leads[:2]], first_seen=at,
                  last_seen=at, entities=[a, b]),
             Case(case_id=c2, title="搅拌站噪音", report_count=1, lead_ids=[leads[2].lead_id], first_seen=at, last_seen=at,
                  entities=[b])]  # fmt: skip
    _write_routed(env, leads, cases)
    headers = env.headers("admin")

    def search(kind: str, *entities: str) -> dict:
        params = [("entity", e) for e in entities] + [("source", "forum-ent")] * (kind == "leads") + [("size", "50")]
        response = client.get(f"/api/v1/{kind}", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    def ids(page: dict, field: str) -> list[str]:
        return sorted(hit[field] for hit in page["hits"])

    def facet(page: dict) -> dict[str, int]:
        return {bucket["value"]: bucket["count"] for bucket in page["facets"]["entity"] if bucket["value"] in (a, b)}

    only_a = search("leads", a)
    assert ids(only_a, "lead_id") == [leads[0].lead_id, leads[1].lead_id]
    assert facet(only_a) == {a: 2, b: 1}
    assert ids(search("leads", a, b), "lead_id") == sorted(x.lead_id for x in leads)  # several values: any of them
    assert facet(search("leads")) == {a: 2, b: 2}
    only_b = search("cases", b)
    assert ids(only_b, "case_id") == [c1, c2]
    assert facet(only_b) == {a: 1, b: 2}
    assert ids(search("cases", a), "case_id") == [c1]


def test_the_dashboard_lists_the_hottest_recent_issues_with_links_to_their_cases_and_leads(client, env):
    issue = make(env, heat=999.0, last_seen=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1), entity=f"魅力之城{env.run}")
    write(env, issue)
    page = client.get("/dashboard", headers={"accept": "text/html", **env.headers("analyst")})
    assert page.status_code == 200
    assert 'id="hot-issues"' in page.text and "热点问题" in page.text and issue.title in page.text
    assert f'href="/cases/{env.case_id("lift")}"' in page.text
    assert f"/search?kind=leads&amp;entity=%E9%AD%85%E5%8A%9B%E4%B9%8B%E5%9F%8E{env.run}" in page.text  # its leads, by entity
    english = client.get("/dashboard", headers={"accept": "text/html", "accept-language": "en", **env.headers("analyst")})
    assert "Hot issues (last 30 days)" in english.text and "Reporters" in english.text


def test_the_dashboard_lists_the_problems_raised_again_and_again(client, env):
    now = dt.datetime.now(dt.UTC)
    again = make(env, heat=0.5, leads=4, reporters=1, last_seen=now - dt.timedelta(hours=2), entity=f"德雅苑{env.run}")
    write(env, again)
    page = client.get("/dashboard", headers={"accept": "text/html", **env.headers("analyst")})
    assert page.status_code == 200
    panel = page.text.split('id="raised-again"', 1)[1].split("</section>", 1)[0]
    assert "反复反映的问题" in panel and "重复反映" in panel and again.title in panel
    row = panel.split(again.title, 1)[1].split("</tr>", 1)[0]
    assert '<td data-label="重复反映">3</td>' in row  # 4 leads, 1 reporter
    english = client.get("/dashboard", headers={"accept": "text/html", "accept-language": "en", **env.headers("analyst")})
    assert "Raised again and again (last 30 days)" in english.text and "Repeats" in english.text


def test_the_briefing_lists_the_weeks_hot_issues_in_a_sheet_and_its_html(env, tmp_path):
    import io

    from openpyxl import load_workbook

    from leadhub.cli import main

    z = dt.timezone(dt.timedelta(hours=8))
    in_week = make(env, heat=7.5, leads=4, last_seen=dt.datetime(2021, 6, 9, 15, tzinfo=z), entity=f"伊景园{env.run}")
    next_week = make(env, heat=8.0, last_seen=dt.datetime(2021, 6, 15, 9, tzinfo=z))
    write(env, in_week, next_week)

    def report(*args: str) -> bytes:
        out = tmp_path / "out.bin"
        assert main([*env.cli_args, "report", "--period", "week", "--date", "2021-06-09", *args, "--out", str(out)]) == 0
        return out.read_bytes()

    sheet = load_workbook(io.BytesIO(report("--format", "xlsx")))["热点问题"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=3)]
    assert [row[0] for row in rows] == [in_week.title]
    assert rows[0][1:6] == [f"伊景园{env.run}小区", 4, 4, 0, 7.5]
    html = report("--format", "html", "--lang", "en").decode("utf-8")
    assert "Hot issues" in html and in_week.title in html and next_week.title not in html


def test_the_briefing_lists_the_weeks_problems_raised_again(env, tmp_path):
    import io

    from openpyxl import load_workbook

    from leadhub.cli import main

    z = dt.timezone(dt.timedelta(hours=8))
    again = make(env, heat=1.5, leads=3, reporters=1, last_seen=dt.datetime(2022, 3, 9, 15, tzinfo=z), entity=f"德雅苑{env.run}")
    once_each = make(env, heat=6.0, leads=5, last_seen=dt.datetime(2022, 3, 8, 9, tzinfo=z))
    write(env, again, once_each)
    out = tmp_path / "out.xlsx"
    assert main([*env.cli_args, "report", "--period", "week", "--date", "2022-03-09", "--format", "xlsx", "--out", str(out)]) == 0
    book = load_workbook(io.BytesIO(out.read_bytes()))
    rows = [[cell.value for cell in row] for row in book["反复反映的问题"].iter_rows(min_row=3)]
    assert [row[0] for row in rows] == [again.title]  # once_each: five people, no repeat
    assert rows[0][1:5] == [f"德雅苑{env.run}小区", 2, 3, 1]
    assert [row[0] for row in book["热点问题"].iter_rows(min_row=3, values_only=True)] == [once_each.title, again.title]
