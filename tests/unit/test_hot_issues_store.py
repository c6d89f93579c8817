"""Hot issues of stored leads, read from embedded mode's SQLite index (no services)."""

import datetime as dt
from zoneinfo import ZoneInfo

from enrichers.hot_issues_settings import HotIssueSettings
from leadhub.hot_issues_view import likes_of, stored_hot_issues
from leadhub.readers.embedded import EmbeddedStore
from schemas.leads import Lead
from sinks.embedded_index import EmbeddedIndex

ZONE = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2024, 5, 1, 9, 0, tzinfo=ZONE)
MIXING = [
    ("翠湖新城小区旁边建搅拌站，噪音扰民", "翠湖新城附近新建的混凝土搅拌站日夜施工，噪音很大，粉尘满天飞，孩子晚上睡不着。"),
    ("投诉翠湖新城附近搅拌站噪音扰民", "我是翠湖新城的业主，小区旁边的搅拌站凌晨还在作业，噪音和粉尘严重，请环保部门查一查。"),
    ("翠湖新城小区搅拌站粉尘污染严重", "搅拌站的运渣车进出扬尘，粉尘落满阳台，噪音吵得老人心脏不舒服，要求搅拌站搬走。"),
]


def lead(n, title, text, days, likes=0, case_id=None):
    return Lead(
        lead_id=f"lead-{n}", source="board", channel="complaint_platform", external_id=str(n), title=title, text=text,
        author=f"user-{n}", published_at=T0 + dt.timedelta(days=days), fetched_at=T0 + dt.timedelta(days=days),
        extra={"点赞数": likes}, case_id=case_id or f"lead-{n}",
    )  # fmt: skip


def test_stored_leads_make_hot_issues_with_their_cases_and_likes(tmp_path):
    index = EmbeddedIndex(tmp_path / "index.sqlite")
    for n, (title, text) in enumerate(MIXING):
        index.write_lead(lead(n, title, text, days=n, likes=5))
    index.write_lead(lead(3, *MIXING[0], days=3, case_id="lead-0"))  # a re-post, in lead-0's case
    index.write_lead(lead(4, "蓝天景园滨江苑捆绑销售车位", "开发商要求必须捆绑购买车位。", days=1))
    index.write_lead(lead(5, *MIXING[1], days=40))  # outside the period asked for

    found = stored_hot_issues(EmbeddedStore(index), HotIssueSettings(), T0, T0 + dt.timedelta(days=10), 10, ZONE)

    assert found.leads_read == 5 and not found.truncated
    (issue,) = found.issues
    assert issue["lead_ids"] == ["lead-0", "lead-1", "lead-2", "lead-3"]
    assert issue["case_ids"] == ["lead-0", "lead-1", "lead-2"]
    assert issue["likes"] == 15 and issue["reporters"] == 4
    assert issue["title"].startswith("翠湖新城") and issue["first_seen"].startswith("2024-05-01T09:00:00+08:00")


def test_likes_of_reads_either_name_and_ignores_junk():
    assert likes_of({"likes": "7"}) == 7 and likes_of({"点赞数": 3}) == 3
    assert likes_of({"likes": "many"}) == 0 and likes_of({}) == 0 and likes_of({"likes": -2}) == 0
