"""The briefing from a store, one suite for both (embedded half: tests/unit/test_briefing_embedded.py;
cluster half: tests/integration/test_briefing_cluster.py).

Four cases with hand-built histories are written the way the pipeline writes them (leads and case
states, then case events with their own times) into two weeks of 2022 no other test uses; `leadhub
report` must write the same workbook from either store, with the figures worked out by hand below.
"""

from __future__ import annotations

import datetime as dt
import io
import time

import pytest
from openpyxl import load_workbook

from leadhub.cli import main
from schemas.cases import Action, Case, CaseEvent
from schemas.leads import Category, Lead, Place
from schemas.timezones import zone
from tests import api_data, api_env, hotspot_suite
from tests.performance_suite import _send_events

Z = zone(None)
HOUSING, ENVIRONMENT, TRANSPORT = api_data.HOUSING, api_data.ENVIRONMENT, api_data.TRANSPORT
DATE = "2022-03-09"  # a Wednesday: the week 2022-03-07 (Mon) .. 2022-03-13, compared with 02-28 .. 03-06
OFFICER = "体验官甲"


def at(day: int, hour: int = 9, month: int = 3) -> dt.datetime:
    return dt.datetime(2022, month, day, hour, tzinfo=Z)


HANDLED = [("accept", {}), ("assign", {"department": HOUSING}), ("start", {}), ("resolve", {"note": "已处理"})]
# name -> (level1, department, town, due, [(when, channel, source, author)], [(when, action, fields)])
PLAN = {
    # this week, 3 reports (one an officer's), accepted, overdue at the week's end
    "a": ("城乡建设", HOUSING, "稠城街道", at(9, 10), [(at(8, 10), "hotline", "hotline-12345", None), (at(9), "forum", "forum-yiwu", None),
          (at(10), "officer", "officer-intake", OFFICER)], [(at(8, 12), "accept", {})]),
    # this week, resolved the same day: not overdue
    "b": ("环境保护", ENVIRONMENT, "北苑街道", at(11), [(at(10), "hotline", "hotline-12345", None)],
          [(at(10, 10 + i), action, {**fields, **({"department": ENVIRONMENT} if action == "assign" else {})})
           for i, (action, fields) in enumerate(HANDLED)]),
    # last week, past due at its end, reported again this week, resolved after that (before this week's end)
    "c": ("城乡建设", HOUSING, "稠城街道", at(3), [(at(2), "hotline", "hotline-12345", None), (at(9, 15), "forum", "forum-yiwu", None)],
          [(at(12, 10 + i), action, fields) for i, (action, fields) in enumerate(HANDLED)]),
    # last week, no due time, never handled
    "d": ("交通运输", TRANSPORT, "江东街道", None, [(at(1), "forum", "forum-yiwu", None)], []),
}  # fmt: skip


def _models(env) -> tuple[list[Lead], list[Case], list[CaseEvent]]:
    leads, cases, events = [], [], []
    for name, (level1, department, town, due, reports, steps) in PLAN.items():
        cid = f"{env.run}-brief-{name}"
        category, place = Category(level1=level1), Place(town=town)
        ids = []
        for i, (when, channel, source, author) in enumerate(reports):
            lead_id = cid if i == 0 else f"{cid}-{i}"
            ids.append(lead_id)
            leads.append(Lead(lead_id=lead_id, source=source, channel=channel, external_id=lead_id, title=f"{name} 问题",
                              text=f"{name} 的问题 {i}", author=author, published_at=when, fetched_at=when, lang="zh",
                              category=category, department=department, place=place, case_id=cid, is_primary=i == 0))  # fmt: skip
        cases.append(Case(case_id=cid, title=f"简报 {name}", category=category, department=department, place=place,
                          report_count=len(reports), channels=sorted({r[1] for r in reports}), sources=sorted({r[2] for r in reports}),
                          first_seen=reports[0][0], last_seen=reports[-1][0], lead_ids=ids, due_at=due))  # fmt: skip
        events += [CaseEvent(event_id=f"{cid}-{n}", case_id=cid, action=Action(action), actor="root", at=when, **fields)
                   for n, (when, action, fields) in enumerate(steps)]  # fmt: skip
    return leads, cases, events


@pytest.fixture(scope="module")
def briefing_cases(env):
    leads, cases, events = _models(env)
    api_env.write(env, leads=leads, cases=cases)
    _send_events(env, events)
    wanted = {c.case_id: sum(1 for e in events if e.case_id == c.case_id) for c in cases}
    deadline = time.monotonic() + 30
    while not all(len((env.context.store.get("cases", cid) or {}).get("history") or []) == n for cid, n in wanted.items()):
        assert time.monotonic() < deadline, "the case events did not reach the store"
        time.sleep(0.2)
    if env.kind != "embedded":
        for kind in ("leads", "cases"):
            env.context.store.backend.refresh(f"i{env.run}-{kind}")
    ids = {name: f"{env.run}-brief-{name}" for name in PLAN}
    # A surge detected this week (then acknowledged), one detected the week before.
    this_week = hotspot_suite.make(env, 1, at=at(9, 14), count=6, case_ids=[ids["a"], ids["c"]])
    last_week = hotspot_suite.make(env, 2, at=at(5, 14), count=4, case_ids=[ids["d"]])
    hotspot_suite.write(env, this_week, last_week)
    from leadhub.hotspots_store import hotspot_store
    from schemas.hotspots import HotspotStatus

    hotspot_store(env.context.store).handle(this_week.hotspot_id, HotspotStatus.acknowledged, "root")
    return ids


def _report(env, tmp_path, *args: str) -> bytes:
    out = tmp_path / "out.bin"
    assert main([*env.cli_args, "report", "--period", "week", "--date", DATE, *args, "--out", str(out)]) == 0
    return out.read_bytes()


def _table(sheet) -> list[list]:
    return [[cell.value for cell in row] for row in sheet.iter_rows(min_row=3)]


def test_the_cli_writes_the_weeks_workbook_with_the_figures_worked_out_by_hand(env, briefing_cases, tmp_path):
    book = load_workbook(io.BytesIO(_report(env, tmp_path, "--format", "xlsx")))
    ids = briefing_cases
    assert book.sheetnames[:4] == ["说明", "总体情况", "按分类", "按地点"]
    assert {"部门办理情况", "热点", "反映最多的案件", "超期案件", "体验官履职"} <= set(book.sheetnames)
    assert book["说明"]["B1"].value == "周报 2022-W10" and book["说明"]["B2"].value == "2022-03-07 – 2022-03-13"

    totals = book["总体情况"]
    assert [c.value for c in totals[2]] == ["指标", "本期", "上期", "增减", "增减幅度"]
    # measure: this week, last week (cases first seen in each; open/resolved as they stand now)
    assert {row[0]: row[1:3] for row in _table(totals)} == {
        "新增线索": [5, 2], "新增案件": [2, 2], "其中仍在办理": [1, 1], "其中已办结": [1, 1], "其中不予受理": [0, 0],
        "期末超期案件": [1, 1],
    }  # fmt: skip
    assert {row[0]: row[1] for row in _table(book["按分类"])} == {"城乡建设": 1, "环境保护": 1, "交通运输": 0}
    assert {row[0]: (row[1], row[3]) for row in _table(book["按地点"])} == {
        "稠城街道": (1, 1), "北苑街道": (1, 0), "江东街道": (0, 1)}  # fmt: skip

    most = _table(book["反映最多的案件"])
    assert [(row[0], row[6], row[7]) for row in most] == [(ids["a"], 3, 3), (ids["c"], 1, 2), (ids["b"], 1, 1)]

    overdue = _table(book["超期案件"])
    assert [row[0] for row in overdue] == [ids["a"]]  # "c" was overdue at last week's end, resolved since
    assert overdue[0][5] == "已受理" and overdue[0][6] == dt.datetime(2022, 3, 9, 10, 0)

    officers = _table(book["体验官履职"])
    assert officers == [[OFFICER, None, 1, 1, 1, 0, 0, 0, 0]]

    (hotspot,) = _table(book["热点"])  # only the one detected this week
    assert hotspot[:6] == ["激增", "城乡建设", "稠城街道", 6, 0.5, 24]
    assert hotspot[7] == dt.datetime(2022, 3, 9, 14, 0) and hotspot[8:] == ["已确认", 2, f"{ids['a']} {ids['c']}"]

    departments = {row[0]: row for row in _table(book["部门办理情况"])}
    assert departments[HOUSING][1:4] == [1, 1, 0]  # received, accepted in time, resolved
    assert departments[ENVIRONMENT][1:4] == [1, 1, 1]


def test_the_html_briefing_names_every_section_and_draws_its_charts(env, briefing_cases, tmp_path):
    html = _report(env, tmp_path, "--format", "html", "--lang", "en").decode("utf-8")
    for title in ("Totals", "By category", "By place", "Departments", "Hotspots", "Hot issues", "Raised again and again",
                  "Most reported cases", "Overdue cases", "Experience officers"):  # fmt: skip
        assert f">{title}</h2>" in html
    assert html.count("<svg") == 2 and "<script" not in html and briefing_cases["a"] in html


@pytest.mark.parametrize("role,expected", [("analyst", 200), ("admin", 200), ("officer", 403), ("intake", 403)])
def test_the_briefing_page_is_for_analysts_and_admins(client, env, role, expected):
    page = client.get("/briefing", headers={**env.headers(role), "accept": "text/html"})
    assert page.status_code == expected
    if expected == 200:
        assert 'action="/briefing/download"' in page.text and 'id="download-xlsx"' in page.text


def test_the_download_is_an_attachment_with_a_chinese_name(client, env, briefing_cases):
    params = {"period": "week", "date": DATE, "format": "xlsx"}
    response = client.get("/briefing/download", params=params, headers={**env.headers("analyst"), "accept-language": "zh-CN"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="briefing-week-2022-W10.xlsx"')
    assert "filename*=UTF-8''%E7%AE%80%E6%8A%A5-%E5%91%A8%E6%8A%A5-2022-W10.xlsx" in disposition
    book = load_workbook(io.BytesIO(response.content))
    assert [row[0] for row in _table(book["超期案件"])] == [briefing_cases["a"]]
    html = client.get("/briefing/download", params={**params, "format": "html", "lang": "en"}, headers=env.headers("admin"))
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "Overdue cases" in html.text and "attachment;" in html.headers["content-disposition"]
    assert client.get("/briefing/download", params=params, headers=env.headers("officer")).status_code == 403
    bad = client.get("/briefing/download", params={**params, "date": "2022-02-30"}, headers=env.headers("admin"))
    assert bad.status_code == 422


def _scheduled_settings(env, tmp_path, smtp_port: int):
    from adapters.notify_senders import SmtpSettings

    briefing = env.settings.briefing.model_copy(update={"out_dir": tmp_path / "briefings", "recipients": ["leaders@example.cn"]})
    notify = env.settings.notify.model_copy(update={
        "enabled": True, "state_db": tmp_path / "notify.sqlite",
        "smtp": SmtpSettings(host="127.0.0.1", port=smtp_port, security="plain", sender="leadhub@example.cn"),
    })  # fmt: skip
    return env.settings.model_copy(update={"briefing": briefing, "notify": notify})


def test_the_scheduled_briefing_writes_the_last_week_and_mails_it_once(env, briefing_cases, tmp_path):
    from leadhub.briefing.schedule import run_scheduled
    from tests.notify_servers import smtp_server

    monday = dt.datetime(2022, 3, 14, 8, tzinfo=Z)
    with smtp_server() as inbox:
        settings = _scheduled_settings(env, tmp_path, inbox.port)
        done = run_scheduled(settings, env.context.store, monday)
        assert [p.name for p in done.written] == ["briefing-week-2022-W10.xlsx", "briefing-week-2022-W10.html"]
        book = load_workbook(done.written[0])
        assert [row[0] for row in _table(book["超期案件"])] == [briefing_cases["a"]]
        (mail,) = inbox.wait_for(1)
        assert mail.recipients == ["leaders@example.cn"] and "2022-W10" in mail.subject
        assert "新增线索 / New leads: 5 (+3 vs 2)" in mail.body
        assert "/briefing/download?period=week&date=2022-03-07&format=xlsx" in mail.body
        attached = {part.get_filename(): part.get_content() for part in mail.message.iter_attachments()}
        assert set(attached) == {"简报-周报-2022-W10.xlsx", "简报-周报-2022-W10.html"}
        mailed = load_workbook(io.BytesIO(attached["简报-周报-2022-W10.xlsx"]))
        assert [row[0] for row in _table(mailed["超期案件"])] == [briefing_cases["a"]]
        again = run_scheduled(settings, env.context.store, monday + dt.timedelta(hours=1))  # a retried job
        assert [d.outcome for d in again.deliveries] == ["already_sent"] and len(inbox.mails) == 1


def test_embedded_modes_schedule_runs_the_briefing_when_the_cron_line_comes(env, briefing_cases, tmp_path):
    from leadhub.briefing.schedule import start_briefing_schedule
    from tests.notify_servers import smtp_server

    # The clock stands early on Monday (last week's run is not due yet), then jumps past 08:00.
    times = iter([dt.datetime(2022, 3, 14, 3, tzinfo=Z)])

    def clock() -> dt.datetime:
        return next(times, dt.datetime(2022, 3, 14, 8, 0, 5, tzinfo=Z))

    with smtp_server() as inbox:
        settings = _scheduled_settings(env, tmp_path, inbox.port)
        stop = start_briefing_schedule(settings, env.context.store, now=clock, poll_s=0.05)
        try:
            assert len(inbox.wait_for(1, timeout_s=20)) == 1
        finally:
            stop()
    assert (tmp_path / "briefings" / "briefing-week-2022-W10.xlsx").exists()


def test_a_run_missed_while_the_server_was_down_is_made_at_start_once(env, briefing_cases, tmp_path):
    from leadhub.briefing.schedule import missed, start_briefing_schedule
    from tests.notify_servers import smtp_server

    tuesday = dt.datetime(2022, 3, 15, 10, tzinfo=Z)  # Monday 08:00 came while it was down
    with smtp_server() as inbox:
        settings = _scheduled_settings(env, tmp_path, inbox.port)
        assert missed(settings, tuesday)
        assert not missed(settings, dt.datetime(2022, 3, 14, 7, tzinfo=Z))  # before Monday's run was due
        stop = start_briefing_schedule(settings, env.context.store, now=lambda: tuesday, poll_s=0.05)
        try:
            assert len(inbox.wait_for(1, timeout_s=20)) == 1
        finally:
            stop()
        assert not missed(settings, tuesday)  # the files are there now
        assert "2022-W10" in inbox.mails[0].subject
