"""The briefing's hot-issues section on hand-written hot-issue documents (pure)."""

from __future__ import annotations

import datetime as dt

from leadhub.briefing import sections as s
from leadhub.briefing.periods import choose

ZONE = dt.timezone(dt.timedelta(hours=8))


def issue(issue_id: str, heat: float, last_seen: str, cases: int = 2) -> dict:
    return {"issue_id": issue_id, "title": f"丽发新城：搅拌站 {issue_id}", "entities": ["丽发新城小区", "搅拌站"], "leads": 3,
            "reporters": 3, "likes": 7, "heat": heat, "first_seen": "2022-03-01T09:00:00+08:00", "last_seen": last_seen,
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
