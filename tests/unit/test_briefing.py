"""The briefing's pure core: periods in local time, each section's figures on hand-built cases, and
the XLSX / HTML writers on a hand-built briefing (read back with openpyxl)."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter

import pytest
from openpyxl import load_workbook

from leadhub.api.briefing_routes import content_disposition
from leadhub.briefing import periods
from leadhub.briefing import sections as s
from leadhub.briefing.html import write_html
from leadhub.briefing.run import file_name
from leadhub.briefing.settings import BriefingSettings
from leadhub.briefing.xlsx import sheet_title, write_xlsx
from schemas.timezones import zone

Z = zone("Asia/Shanghai")
UTC = dt.UTC


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=Z)


# --- periods ------------------------------------------------------------------------------------


def test_a_week_runs_monday_to_sunday_in_local_time():
    week = periods.containing("week", dt.date(2026, 12, 3), Z)  # a Thursday
    assert (week.first_day, week.last_day) == (dt.date(2026, 11, 30), dt.date(2026, 12, 6))
    assert week.start == local(2026, 11, 30) and week.end == local(2026, 12, 7)
    assert week.label == "2026-W49" and week.previous().label == "2026-W48"
    # Sunday 23:30 local is still the week; Monday 00:00 local (Sunday 16:00 UTC) is the next.
    assert week.contains(local(2026, 12, 6, 23, 30))
    assert not week.contains(dt.datetime(2026, 12, 6, 16, 0, tzinfo=UTC))
    assert week.contains(dt.datetime(2026, 12, 6, 15, 59, tzinfo=UTC))


def test_a_month_and_its_previous_across_years_and_leap_days():
    jan = periods.containing("month", dt.date(2028, 1, 15), Z)
    assert jan.previous().span_text() == "2027-12-01 – 2027-12-31"
    feb = periods.containing("month", dt.date(2028, 2, 29), Z)
    assert (feb.first_day, feb.last_day, feb.label) == (dt.date(2028, 2, 1), dt.date(2028, 2, 29), "2028-02")
    assert feb.end == local(2028, 3, 1)


def test_the_default_is_the_last_complete_period_in_local_time():
    # Monday 2026-12-07 01:00 in Shanghai is Sunday 17:00 UTC: last week is W49 already.
    now = dt.datetime(2026, 12, 6, 17, 0, tzinfo=UTC)
    assert periods.choose("week", None, now, Z).label == "2026-W49"
    # The same instant read in UTC is still Sunday, so the last complete week there is W48.
    assert periods.choose("week", None, now, zone("UTC")).label == "2026-W48"
    assert periods.choose("month", None, now, Z).label == "2026-11"
    assert periods.choose("month", dt.date(2026, 12, 7), now, Z).label == "2026-12"  # --date picks its own


def test_an_iso_week_label_across_new_year():
    assert periods.containing("week", dt.date(2027, 1, 1), Z).label == "2026-W53"


def test_settings_refuse_a_bad_zone_or_cron_and_take_a_comma_list():
    assert BriefingSettings(recipients="a@x.cn, b@x.cn").recipients == ["a@x.cn", "b@x.cn"]
    with pytest.raises(ValueError, match="time zone"):
        BriefingSettings(timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="cron"):
        BriefingSettings(schedule="every monday")


# --- sections -----------------------------------------------------------------------------------


def entry(action: str, frm: str, to: str, at: dt.datetime) -> dict:
    return {"event_id": f"{action}-{at.isoformat()}", "action": action, "actor": "o", "at": at.isoformat(),
            "from_status": frm, "to_status": to}  # fmt: skip


def case(cid: str, first: dt.datetime, due: dt.datetime | None, history=(), **extra) -> dict:
    status = history[-1]["to_status"] if history else "new"
    return {"case_id": cid, "title": f"t-{cid}", "first_seen": first.isoformat(), "due_at": due.isoformat() if due else None,
            "status": status, "history": list(history), "category": {"level1": "城乡建设"}, "place": {"town": "稠城街道"},
            "department": "市住房和城乡建设局", "report_count": 1, **extra}  # fmt: skip


def test_status_at_replays_the_history_up_to_the_moment():
    c = case("a", local(2026, 3, 2), None, [entry("accept", "new", "accepted", local(2026, 3, 3)),
                                            entry("resolve", "accepted", "resolved", local(2026, 3, 5))])  # fmt: skip
    assert s.status_at(c, local(2026, 3, 2, 12)) == "new"
    assert s.status_at(c, local(2026, 3, 3)) == "accepted"  # at the moment itself: already changed
    assert s.status_at(c, local(2026, 3, 9)) == "resolved"


def test_overdue_at_a_moment_counts_what_was_open_and_past_due_then():
    end = local(2026, 3, 9)
    still_open = case("open", local(2026, 3, 2), local(2026, 3, 4), [entry("accept", "new", "accepted", local(2026, 3, 3))])
    resolved_in_time = case(
        "done", local(2026, 3, 2), local(2026, 3, 4), [entry("resolve", "new", "resolved", local(2026, 3, 3))]
    )
    resolved_later = case("late", local(2026, 3, 1), local(2026, 3, 3), [entry("resolve", "new", "resolved", local(2026, 3, 12))])
    not_due = case("future", local(2026, 3, 8), local(2026, 3, 20))
    no_due = case("nodue", local(2026, 3, 2), None)
    rejected = case("rej", local(2026, 3, 2), local(2026, 3, 3), [entry("reject", "new", "rejected", local(2026, 3, 2, 12))])
    reported_after = case("after", local(2026, 3, 10), local(2026, 3, 1))
    merged = case("merged", local(2026, 3, 2), local(2026, 3, 3), merged_into="open")
    cases = [still_open, resolved_in_time, resolved_later, not_due, no_due, rejected, reported_after, merged, still_open]
    found = s.overdue_cases(cases, end)
    assert [c["case_id"] for c in found] == ["late", "open"]  # most overdue first, each once
    section = s.overdue_section(found, end)
    assert section.rows[0][5] == "new" and section.rows[0][7] == 6.0  # status then, days past due
    assert section.rows[1][5] == "accepted"


def test_totals_compare_with_the_previous_period_without_dividing_by_zero():
    now = s.PeriodFigures(leads=12, cases=5, open_cases=3, resolved=2, rejected=0, overdue_at_end=1)
    before = s.PeriodFigures(leads=8, cases=5, open_cases=4, resolved=0, rejected=1, overdue_at_end=0)
    rows = {row[0]: row[1:] for row in s.totals_section(now, before).rows}
    assert rows["briefing.measure.leads"] == [12, 8, 4, 0.5]
    assert rows["briefing.measure.cases"] == [5, 5, 0, 0.0]
    assert rows["briefing.measure.resolved"] == [2, 0, 2, None]
    assert rows["briefing.measure.rejected"] == [0, 1, -1, -1.0]


def test_counts_by_name_rank_this_period_and_keep_names_only_seen_before():
    section = s.compared_counts("by_category", "category", {"城乡建设": 3, "环境保护": 1}, {"城乡建设": 1, "交通运输": 2})
    assert [row[0] for row in section.rows] == ["城乡建设", "环境保护", "交通运输"]
    assert section.rows[0] == ["城乡建设", 3, 0.75, 1, 2, 2.0]
    assert section.rows[2] == ["交通运输", 0, 0.0, 2, -2, -1.0]
    assert section.chart == [("城乡建设", 3), ("环境保护", 1)]


def test_most_reported_ranks_by_reports_in_the_period_then_in_all():
    leads = [{"case_id": "a"}] * 3 + [{"case_id": "b"}, {"case_id": "c"}, {"case_id": None}]
    cases = {"a": case("a", local(2026, 3, 2), None), "b": case("b", local(2026, 3, 2), None, report_count=1),
             "c": case("c", local(2026, 2, 2), None, report_count=7)}  # fmt: skip
    section = s.most_reported_section(s.reports_per_case(leads), cases, top=2)
    assert [(row[0], row[6], row[7]) for row in section.rows] == [("a", 3, 1), ("c", 1, 7)]
    assert s.reports_per_case(leads) == Counter({"a": 3, "b": 1, "c": 1})


def test_officers_activity_counts_their_reports_cases_and_ratings_in_the_period():
    week = periods.containing("week", dt.date(2026, 3, 4), Z)
    lead = lambda author, cid: {"source": s.OFFICER_SOURCE, "author": author, "case_id": cid, "reporter_group": "g1"}  # noqa: E731
    leads = [
        lead("甲", "a"),
        lead("甲", "a"),
        lead("甲", "b"),
        lead("乙", "c"),
        {"source": "hotline-12345", "author": "x", "case_id": "a"},
    ]
    rating = lambda who, at, r: {"actor": who, "at": at.isoformat(), "rating": r}  # noqa: E731
    cases = {
        "a": {**case("a", local(2026, 3, 2), None), "status": "resolved",
              "ratings": [rating("甲", local(2026, 3, 5), "satisfied"), rating("甲", local(2026, 2, 1), "dissatisfied")]},
        "b": {**case("b", local(2026, 3, 2), None), "status": "rejected"},
        "c": {**case("c", local(2026, 3, 2), None), "status": "new"},
    }  # fmt: skip
    rows = {row[0]: row[1:] for row in s.officer_section(leads, cases, week).rows}
    # group, reports, cases, accepted, rejected, resolved, ratings given, satisfied
    assert rows["甲"] == ["g1", 3, 2, 1, 1, 1, 1, 1]
    assert rows["乙"] == ["g1", 1, 1, 0, 0, 0, 0, 0]
    assert "x" not in rows


# --- writers ------------------------------------------------------------------------------------


def hand_built() -> s.Briefing:
    week = periods.containing("week", dt.date(2026, 3, 4), Z)
    now = local(2026, 3, 10, 9)
    overdue = [case("open", local(2026, 3, 2), local(2026, 3, 4, 8, 30))]
    figures = s.PeriodFigures(leads=4, cases=2, open_cases=1, resolved=1, rejected=0, overdue_at_end=1)
    return s.Briefing(week, week.previous(), now, week.end, [
        s.totals_section(figures, s.PeriodFigures(2, 1, 1, 0, 0, 0)),
        s.compared_counts("by_category", "category", {"城乡建设": 2}, {"交通运输": 1}),
        s.compared_counts("by_place", "town", {"稠城街道": 2}, {}),
        s.missing_section("hotspots", "briefing.note.no_hotspots"),
        s.most_reported_section(Counter({"open": 2}), {"open": overdue[0]}, 10),
        s.overdue_section(overdue, week.end),
        s.officer_section([], {}, week),
    ])  # fmt: skip


def test_the_xlsx_has_a_sheet_per_section_with_filterable_chinese_headers_and_real_dates():
    book = load_workbook(io.BytesIO(write_xlsx(hand_built())))
    assert book.sheetnames == ["说明", "总体情况", "按分类", "按地点", "热点", "反映最多的案件", "超期案件", "体验官履职"]
    totals = book["总体情况"]
    assert [c.value for c in totals[1]] == ["Measure", "This period", "Previous period", "Change", "Change %"]
    assert [c.value for c in totals[2]] == ["指标", "本期", "上期", "增减", "增减幅度"]
    assert [c.value for c in totals[3]] == ["新增线索", 4, 2, 2, 1.0]
    assert totals["E3"].number_format == "0.0%"
    assert totals.freeze_panes == "A3" and totals.auto_filter.ref == "A2:E8"
    overdue = book["超期案件"]
    assert overdue["G3"].value == dt.datetime(2026, 3, 4, 8, 30)  # local wall-clock time, a real date
    assert overdue["G3"].is_date and overdue["F3"].value == "待受理"
    assert overdue.column_dimensions["B"].width >= 8
    assert book["热点"]["A1"].value.startswith("热点暂未纳入") and "not landed" in book["热点"]["A2"].value
    assert [c.value for c in book["体验官履职"][2]][:3] == ["体验官", "所属组", "报送线索"]
    assert book["说明"]["B1"].value == "周报 2026-W10"


def test_the_html_is_one_printable_file_with_inline_svg_in_either_language():
    zh = write_html(hand_built(), "zh")
    assert zh.startswith("<!doctype html>") and '<html lang="zh-CN">' in zh and "@page { size: A4" in zh
    assert "<script" not in zh and "<link" not in zh and "http" not in zh.split("<svg")[0]
    assert zh.count("<svg") == 2 and "总体情况" in zh and "热点暂未纳入" in zh and "超期案件" in zh
    en = write_html(hand_built(), "en")
    assert '<html lang="en">' in en and "Overdue cases" in en and "New leads" in en and "+100.0%" in en


def test_file_names_and_a_chinese_safe_content_disposition():
    b = hand_built()
    assert file_name(b, "xlsx") == "简报-周报-2026-W10.xlsx" and file_name(b, "html", "en") == "briefing-week-2026-W10.html"
    header = content_disposition(file_name(b, "xlsx"), file_name(b, "xlsx", "en"))
    assert header == (
        'attachment; filename="briefing-week-2026-W10.xlsx"; '
        "filename*=UTF-8''%E7%AE%80%E6%8A%A5-%E5%91%A8%E6%8A%A5-2026-W10.xlsx"
    )
    assert sheet_title("overdue") == "超期案件"


def test_hotspots_detected_in_the_period_in_the_order_found():
    week = periods.containing("week", dt.date(2026, 3, 4), Z)

    def hotspot(hid: str, detected: dt.datetime, **extra) -> dict:
        return {"hotspot_id": hid, "kind": "surge", "category": "环境保护", "place": "北苑街道", "count": 9, "baseline": 1.234,
                "window": {"hours": 24.0}, "first_seen": (detected - dt.timedelta(hours=5)).isoformat(),
                "detected_at": detected.isoformat(), "case_ids": [f"c{i}" for i in range(7)], **extra}  # fmt: skip

    found = [hotspot("late", local(2026, 3, 8, 20), status="acknowledged"), hotspot("before", local(2026, 3, 1, 23)),
             hotspot("early", local(2026, 3, 2, 1), kind="growing_case", place=None)]  # fmt: skip
    section = s.hotspots_section(found, week)
    assert [row[0] for row in section.rows] == ["briefing.hotspot_kind.growing_case", "briefing.hotspot_kind.surge"]
    assert (
        section.rows[0][2] == s.NO_PLACE
        and section.rows[1][4] == 1.23
        and section.rows[1][8] == "briefing.hotspot_status.acknowledged"
    )
    assert section.rows[1][9:] == [7, "c0 c1 c2 c3 c4"]
    book = load_workbook(io.BytesIO(write_xlsx(s.Briefing(week, week.previous(), week.end, week.end, [section]))))
    assert [c.value for c in book["热点"][3]][:4] == ["持续发酵案件", "环境保护", "未知地点", 9]
