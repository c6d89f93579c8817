"""The briefing's hot-issues section on hand-written hot-issue documents (pure)."""

from __future__ import annotations

import datetime as dt

from leadhub.briefing import sections as s
from leadhub.briefing.periods import choose

ZONE = dt.timezone(dt.timedelta(hours=8))


def issue(issue_id: str, heat: float, last_seen: str, cases: int = 2, leads: int = 3, reporters: int = 3) -> dict:
    return {"issue_id": issue_id, "title": f"丽发新城：搅拌站 {issue_id}", "entities": ["丽发新城小区", "搅拌站"], "leads": leads,
            "reporters": reporters, "likes": 7, "heat": heat, "first_seen": "2022-03-01T09:00:00+08:00", "last_seen": last_seen,
            "case_ids": [f"c{n}" for n in range(cases)]}  # fmt: skip


def test_hot_issues_with_a_lead_in_the_period_hottest_first_at_most_top():
    week = choose("week", dt.date(2022, 3, 9), dt.datetime(2022, 3, 20, tzinfo=ZONE), ZONE)
    found = [issue("warm", 2.0, "2022-03-08T10:00:00+08:00"), issue("hot", 5.5, "2022-03-12T10:00:00+08:00", cases=7),
             issue("before", 9.0, "2022-03-06T23:00:00+08:00"), issue("hotter", 6.0, "2022-03-10T10:00:00+08:00")]  # fmt: skip
    section = s.hot_issues_section(found, week, top=2)
    assert section.key == "hot_issues"
    assert [row[0] for row in section.rows] == ["丽发新城：搅拌站 hotter", "丽发新城：搅拌站 hot"]
    hot = section.rows[1]
    assert hot[1:6] == ["丽发新城小区、搅拌站", 3, 3, 7, 5.5]
    assert hot[7] == dt.datetime(2022, 3, 12, 10, tzinfo=ZONE) and hot[8] == 7 and hot[9] == "c0 c1 c2 c3 c4"
    assert [c.key for c in section.columns][:2] == ["hot_issue", "entities"]


def test_raised_again_lists_the_periods_issues_with_enough_repeats_most_first_then_hottest_then_newest():
    week = choose("week", dt.date(2022, 3, 9), dt.datetime(2022, 3, 20, tzinfo=ZONE), ZONE)
    found = [
        issue("once-each", 9.0, "2022-03-08T10:00:00+08:00", leads=5, reporters=5),  # no repeat
        issue("one-more", 8.0, "2022-03-09T10:00:00+08:00", leads=4, reporters=3),  # 1 repeat
        issue("older", 2.0, "2022-03-08T10:00:00+08:00", leads=4, reporters=1),  # 3 repeats; tie with "newer" but for the time
        issue("newer", 2.0, "2022-03-11T10:00:00+08:00", leads=4, reporters=1),
        issue("hotter", 3.0, "2022-03-07T10:00:00+08:00", leads=5, reporters=2),  # 3 repeats, hotter
        issue("before", 1.0, "2022-03-06T23:00:00+08:00", leads=9, reporters=1),  # out of the period
    ]
    section = s.raised_again_section(found, week, top=10)
    assert section.key == "raised_again"
    assert [row[0].split()[-1] for row in section.rows] == ["hotter", "newer", "older", "one-more"]
    assert section.rows[0][1:5] == ["丽发新城小区、搅拌站", 3, 5, 2]
    assert [c.key for c in section.columns][2:5] == ["repeats", "leads", "reporters"]
    at_least_two = s.raised_again_section(found, week, top=10, min_repeats=2)
    assert [row[0].split()[-1] for row in at_least_two.rows] == ["hotter", "newer", "older"]
    assert [row[0].split()[-1] for row in s.raised_again_section(found, week, top=1).rows] == ["hotter"]
