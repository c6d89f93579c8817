"""Officers' reports without services: the row a report and its case make, the events a rating sends,
the reports settings, `api key create --group`, and how a report carries group and activity into its lead."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from enrichers.normalize import normalize_lead
from leadhub.cli import main
from leadhub.intake import FieldReport, report_digest, report_to_raw_lead
from leadhub.reports import NotRateable, activity_problem, rating_events, report_row
from leadhub.reports_settings import ActivitySpec, ReportsSettings
from leadhub.settings import build_settings
from schemas.cases import Action, Case, CaseEvent, Rating, Status
from schemas.errors import ConfigError
from schemas.status_machine import apply_event

T0 = dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC)
OFFICER = "王老师"


def _lead(**extra):
    return {"lead_id": "L1", "title": "电梯停运", "fetched_at": T0.isoformat(), "case_id": "C1", "author": OFFICER,
            "department": "市住房和城乡建设局", "reporter_group": "education", "activity": "hall",
            "place": {"town": "稠城街道", "community": "幸福社区"}, "category": {"level1": "城乡建设"}, **extra}  # fmt: skip


def _case_through(*steps: tuple[Action, dict]) -> Case:
    case = Case(case_id="C1", title="电梯停运", department="市住房和城乡建设局", due_at=T0 + dt.timedelta(days=5))
    for i, (action, fields) in enumerate(steps):
        case = apply_event(case, CaseEvent(case_id="C1", action=action, actor=fields.pop("actor", "officer"),
                                           at=T0 + dt.timedelta(hours=i + 1), **fields))  # fmt: skip
    return case


RESOLVED = [(Action.accept, {}), (Action.assign, {"department": "市住房和城乡建设局"}), (Action.start, {}),
            (Action.resolve, {"note": "已修复"})]  # fmt: skip


def test_a_report_without_an_indexed_case_shows_the_lead_only():
    row = report_row(_lead(), None)
    assert row.report_id == "L1" and row.case_id == "C1" and row.status is None and row.department == "市住房和城乡建设局"
    assert row.place == "幸福社区" and row.group == "education" and row.activity == "hall" and row.officer == OFFICER
    assert row.rateable is False and row.rating is None and row.feedback == []


def test_a_report_shows_its_cases_status_due_date_result_and_feedback():
    case = _case_through(*RESOLVED, (Action.feedback, {"note": "已回访"}))
    row = report_row(_lead(), case.model_dump(mode="json"))
    assert row.status is Status.closed and row.resolution == "已修复" and row.due_at == (T0 + dt.timedelta(days=5)).isoformat().replace("+00:00", "Z")
    assert [f.note for f in row.feedback] == ["已回访"] and row.rateable is True


def test_the_rating_shown_is_this_officers_latest_and_a_rated_result_is_not_rateable():
    case = _case_through(*RESOLVED, (Action.rate, {"rating": Rating.dissatisfied, "note": "慢", "actor": OFFICER}),
                         (Action.reopen, {"note": "r", "actor": OFFICER}), (Action.assign, {"department": "市住房和城乡建设局"}),
                         (Action.start, {}), (Action.resolve, {"note": "再次修复"}),
                         (Action.rate, {"rating": Rating.satisfied, "actor": OFFICER}))  # fmt: skip
    row = report_row(_lead(), case.model_dump(mode="json"))
    assert row.rating is not None and row.rating.rating is Rating.satisfied and row.rating.resolution == "再次修复"
    assert row.rateable is False
    someone_else = report_row(_lead(author="另一位体验官"), case.model_dump(mode="json"))
    assert someone_else.rating is None


def test_a_resolved_case_not_yet_rated_is_rateable_an_open_one_is_not():
    assert report_row(_lead(), _case_through(*RESOLVED).model_dump(mode="json")).rateable is True
    assert report_row(_lead(), _case_through(*RESOLVED[:3]).model_dump(mode="json")).rateable is False


def test_a_dissatisfied_rating_sends_a_reopen_by_the_officer_unless_the_setting_is_off():
    rate, reopen = rating_events("C1", Status.resolved, OFFICER, Rating.dissatisfied, "没修好", reopen_on_dissatisfied=True, at=T0)
    assert rate.action is Action.rate and rate.rating is Rating.dissatisfied and rate.note == "没修好" and rate.actor == OFFICER
    assert reopen.action is Action.reopen and reopen.actor == OFFICER and "dissatisfied" in reopen.note and "没修好" in reopen.note
    assert len(rating_events("C1", Status.closed, OFFICER, Rating.dissatisfied, None, reopen_on_dissatisfied=False)) == 1
    assert len(rating_events("C1", Status.resolved, OFFICER, Rating.basically_satisfied, None, reopen_on_dissatisfied=True)) == 1


@pytest.mark.parametrize("status", [None, Status.new, Status.accepted, Status.in_progress, Status.rejected])
def test_there_is_nothing_to_rate_before_a_result(status):
    with pytest.raises(NotRateable, match="resolved or closed"):
        rating_events("C1", status, OFFICER, Rating.satisfied, None, reopen_on_dissatisfied=True)


# --- settings and keys ----------------------------------------------------------------------------

def test_the_default_groups_follow_the_seeds_specialities_in_both_languages():
    groups = ReportsSettings().groups
    assert {g.id for g in groups} >= {"education", "health", "commerce", "transport", "legal", "international"}
    assert all(g.title_zh and g.title_en for g in groups)


def test_activities_are_checked():
    day = dt.date(2026, 5, 1)
    with pytest.raises(ValueError, match="ends .* is before starts"):
        ActivitySpec(id="a", title_zh="甲", title_en="A", starts=day, ends=day - dt.timedelta(days=1))
    with pytest.raises(ValueError, match="unknown group 'chefs'"):
        ReportsSettings(activities=[ActivitySpec(id="a", title_zh="甲", title_en="A", starts=day, ends=day, group="chefs")])
    with pytest.raises(ValueError, match="unique; repeated: a"):
        spec = ActivitySpec(id="a", title_zh="甲", title_en="A", starts=day, ends=day)
        ReportsSettings(activities=[spec, spec])


def test_a_key_of_an_unknown_group_is_a_settings_error(tmp_path):
    config = tmp_path / "leadhub.yaml"
    key = {"name": "li", "sha256": "0" * 64, "role": "intake", "group": "chefs"}
    config.write_text(yaml.safe_dump({"api": {"keys": [key]}}), encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown group 'chefs'"):
        build_settings(config)


def test_key_create_gives_an_officer_a_group_and_refuses_an_unknown_one(tmp_path, capsys):
    config = tmp_path / "leadhub.yaml"
    config.write_text("{}", encoding="utf-8")
    base = ["--config", str(config), "api", "key", "create", "--role", "intake", "--name", "li"]
    assert main([*base, "--group", "chefs"]) != 0
    err = capsys.readouterr().err
    assert "unknown group 'chefs'" in err and "education" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert main(base) != 0 and "needs --group" in capsys.readouterr().err
    assert main([*base, "--group", "health", "--email", "li@example.cn"]) == 0
    entry = yaml.safe_load(capsys.readouterr().out.split("api.keys:\n", 1)[1])[0]
    assert entry["group"] == "health" and entry["email"] == "li@example.cn" and entry["role"] == "intake"


def test_a_report_names_an_activity_on_its_days_and_of_its_group():
    day = dt.date(2026, 5, 1)
    settings = ReportsSettings(activities=[
        ActivitySpec(id="hall", title_zh="大厅", title_en="Hall", starts=day, ends=day + dt.timedelta(days=6)),
        ActivitySpec(id="clinics", title_zh="诊所", title_en="Clinics", starts=day, ends=day, group="health"),
    ])  # fmt: skip
    at = dt.datetime(2026, 5, 7, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # the last day, city time
    assert activity_problem(settings, None, at, None) is None
    assert activity_problem(settings, "hall", at, "education") is None
    assert "unknown activity 'x'; activities: hall, clinics" == activity_problem(settings, "x", at, None)
    late = dt.datetime(2026, 5, 7, 16, 30, tzinfo=dt.UTC)  # 00:30 on 8 May in the city
    assert "runs from 2026-05-01 to 2026-05-07; the visit was on 2026-05-08" in activity_problem(settings, "hall", late, None)
    first = dt.datetime(2026, 5, 1, 10, tzinfo=dt.UTC)
    assert activity_problem(settings, "clinics", first, "health") is None
    assert "is for the health group; you are in education" in activity_problem(settings, "clinics", first, "education")
    assert "you are in no group" in activity_problem(settings, "clinics", first, None)


# --- the lead a report becomes ----------------------------------------------------------------------

def _report(**fields) -> FieldReport:
    return FieldReport(title="窗口无人", place="行政服务中心", visited_at=T0, tried="办证", went_wrong="无人", report_id="r1", **fields)


def test_the_lead_of_a_report_carries_the_officers_group_and_the_activity():
    lead = normalize_lead(report_to_raw_lead(_report(activity="hall"), OFFICER, "education"))
    assert lead.reporter_group == "education" and lead.activity == "hall"
    plain = normalize_lead(report_to_raw_lead(_report(), OFFICER))
    assert plain.reporter_group is None and plain.activity is None


def test_a_report_sent_before_activities_existed_keeps_its_digest():
    # A retry of an earlier report (no activity field then) must not look like a changed report (409).
    assert report_digest(_report()) == report_digest(_report(activity=None))
    assert report_digest(_report()) != report_digest(_report(activity="hall"))
