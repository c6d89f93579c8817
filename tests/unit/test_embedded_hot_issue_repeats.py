"""The embedded index's hot_issues.repeats (schema 11): written with each record, what the raised-again
list sorts by; a schema 10 file gets it filled from its stored records on open, without the rewrite
the earlier steps need (a big file's takes minutes)."""

from __future__ import annotations

import datetime as dt

from schemas.hot_issues import HotIssue
from schemas.leads import Lead
from sinks.embedded_index import SCHEMA_VERSION, EmbeddedIndex

T = dt.datetime(2024, 5, 1, 8, tzinfo=dt.UTC)


def issue(issue_id: str, leads: int, reporters: int, heat: float, days_before: float = 0.0) -> HotIssue:
    lead_ids = [f"{issue_id}-{n}" for n in range(leads)]
    at = T - dt.timedelta(days=days_before)
    return HotIssue(issue_id=issue_id, title=f"{issue_id}：噪音", lead_ids=lead_ids, case_ids=lead_ids, first_seen=at, last_seen=at,
                    heat=heat, leads=leads, reporters=reporters)  # fmt: skip


ISSUES = [issue("many", 6, 6, 9.0), issue("one", 4, 1, 2.0), issue("two", 5, 2, 3.5), issue("again", 3, 2, 5.0), issue("old", 9, 1, 1.0, 40)]


def _ids(found: list[dict]) -> list[str]:
    return [doc["issue_id"] for doc in found]


def test_the_raised_again_order_reads_the_repeats_column(tmp_path):
    index = EmbeddedIndex(tmp_path / "e.sqlite")
    for record in ISSUES:
        index.write_hot_issue(record)
    since = (T - dt.timedelta(days=30)).timestamp()
    assert _ids(index.hot_issue_documents(since=since)) == ["many", "again", "two", "one"]
    assert _ids(index.hot_issue_documents(since=since, min_repeats=1)) == ["two", "one", "again"]  # 3, 3 (the hotter first), 1
    assert _ids(index.hot_issue_documents(since=since, min_repeats=2)) == ["two", "one"]
    assert _ids(index.hot_issue_documents(min_repeats=1, limit=1)) == ["old"]  # 8 repeats, no period
    index.write_hot_issue(issue("many", 7, 6, 9.5))  # a resident wrote again
    assert _ids(index.hot_issue_documents(since=since, min_repeats=1)) == ["two", "one", "many", "again"]


def test_a_schema_10_file_gets_its_repeats_on_open_and_is_not_rewritten(tmp_path):
    path = tmp_path / "e.sqlite"
    index = EmbeddedIndex(path)
    index.write_lead(Lead(lead_id="l1", source="board", channel="complaint_platform", external_id="e1", title="噪音",
                          text="小区旁边搅拌站噪音扰民", fetched_at=T))  # fmt: skip
    for record in ISSUES:
        index.write_hot_issue(record)
    with index.transaction() as db:
        db.execute("ALTER TABLE hot_issues DROP COLUMN repeats")
        db.execute("UPDATE meta SET value = '10' WHERE key = 'schema_version'")
    index.db.execute("PRAGMA journal_mode=DELETE")
    index.db.execute("PRAGMA page_size=4096")  # what a rewrite would change back to 8 KB
    index.db.execute("VACUUM")
    index.close()

    reopened = EmbeddedIndex(path)
    db = reopened.db
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION) == "11"
    assert dict(db.execute("SELECT issue_id, repeats FROM hot_issues").fetchall()) == {"many": 0, "one": 3, "two": 3, "again": 1, "old": 8}
    assert db.execute("PRAGMA page_size").fetchone()[0] == 4096  # not rewritten
    assert _ids(reopened.hot_issue_documents(since=(T - dt.timedelta(days=30)).timestamp(), min_repeats=1)) == ["two", "one", "again"]
