"""The embedded index's narrow tables and counts (sinks/embedded_facets.py): equal to the documents'
rows through inserts, updates and deletes from any writer, a file of schema version 2 migrated on
open, and the dashboard's day chart bounded."""

from __future__ import annotations

import json
import sqlite3

from leadhub.api.charts import categories_over_time
from leadhub.queries import CountSeries
from sinks.embedded_facets import COUNTED, MISSING
from sinks.embedded_index import SCHEMA_VERSION, EmbeddedIndex


def _lead_row(i: int, *, channel: str = "hotline", town: str | None = "稠城街道", entities: list[str] | None = None) -> tuple:
    doc = {"lead_id": f"l{i}", "reporter_group": "g1", "entities": entities or []}
    return (f"l{i}", json.dumps(doc, ensure_ascii=False), f"c{i % 3}", channel, "src", "城乡建设", None, "住建局",
            town, None, "zh", 0, 2, 1_700_000_000.0 + i)  # fmt: skip


def _insert(db: sqlite3.Connection, row: tuple) -> None:
    db.execute(
        "INSERT INTO leads (lead_id, doc, case_id, channel, source, category1, category2, department, town, community,"
        " lang, needs_triage, priority, reported) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        row,
    )


def _counts_by_scan(db: sqlite3.Connection) -> dict:
    """facet_counts as a GROUP BY over leads_facets computes them."""
    found = {}
    for name, sql in COUNTED["leads"].items():
        expression = sql.format(row="t") if "{row}" in sql else f"t.{sql}"
        for value, n in db.execute(f"SELECT ifnull({expression}, {MISSING}), count(*) FROM leads_facets t GROUP BY 1"):  # noqa: S608
            found[(name, value)] = n
    return found


def _kept_counts(db: sqlite3.Connection) -> dict:
    return {(name, value): n for name, value, n in db.execute("SELECT name, value, n FROM facet_counts WHERE tbl = 'leads' AND n > 0")}


def test_the_narrow_table_and_counts_follow_inserts_updates_and_deletes(tmp_path):
    index = EmbeddedIndex(tmp_path / "e.sqlite")
    with index.transaction() as db:
        for i in range(6):
            _insert(db, _lead_row(i, channel="officer" if i % 2 else "hotline", entities=["金色家园", "金色家园"] if i == 1 else None))
        _insert(db, _lead_row(9, town=None))
        # a writer that knows nothing of the narrow tables (retention, a replay): plain SQL
        db.execute("UPDATE leads SET town = '北苑街道', doc = json_set(doc, '$.reporter_group', 'g2') WHERE lead_id = 'l1'")
        db.execute("DELETE FROM leads WHERE lead_id = 'l2'")
    db = index.db
    narrow = {row[0]: row[1:] for row in db.execute("SELECT lead_id, town, reporter_group, entities FROM leads_facets")}
    assert set(narrow) == {"l0", "l1", "l3", "l4", "l5", "l9"}
    assert narrow["l1"] == ("北苑街道", "g2", '["金色家园","金色家园"]')
    assert narrow["l9"][0] is None
    kept = _kept_counts(db)
    assert kept == _counts_by_scan(db)
    assert kept[("town", "北苑街道")] == 1 and kept[("town", "稠城街道")] == 4
    assert kept[("town", b"\x00")] == 1  # the lead without a town
    assert kept[("reporter_group", "g1")] == 2 and kept[("reporter_group", "g2")] == 1  # officers' reports only


def test_a_version_2_file_is_migrated_on_open_with_its_rows(tmp_path):
    path = tmp_path / "e.sqlite"
    index = EmbeddedIndex(path)
    with index.transaction() as db:
        for i in range(4):
            _insert(db, _lead_row(i))
        # back to what a leadhub of schema version 2 left: no narrow tables, no counts
        for table in ("leads", "cases"):
            for event in ("insert", "update", "delete"):
                db.execute(f"DROP TRIGGER {table}_facets_{event}")
            db.execute(f"DROP TABLE {table}_facets")
        db.execute("DROP TABLE facet_counts")
        db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    index.close()

    reopened = EmbeddedIndex(path)
    db = reopened.db
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    assert db.execute("SELECT count(*) FROM leads_facets").fetchone()[0] == 4
    assert _kept_counts(db) == _counts_by_scan(db)


def test_the_day_chart_draws_the_latest_buckets_only():
    days = [f"2026-01-{d:02d}" for d in range(1, 32)] * 10  # 310 buckets (labels need not be distinct here)
    data = CountSeries(buckets=days, series={"城乡建设": list(range(310))})
    svg = str(categories_over_time(data, bars=20))
    assert svg.count('class="rect reactive tooltip-trigger"') == 20


def test_the_stats_series_from_the_day_counts_equals_the_one_grouped_in_sql(tmp_path):
    from leadhub.queries import Interval
    from leadhub.readers.embedded import EmbeddedStore

    index = EmbeddedIndex(tmp_path / "e.sqlite")
    with index.transaction() as db:
        for i in range(40):  # every 7 hours: local days (Asia/Shanghai) differ from UTC days
            db.execute(
                "INSERT INTO cases (case_id, doc, status, category1, first_seen) VALUES (?, '{}', 'new', ?, ?)",
                (f"c{i}", [None, "城乡建设", "交通运输"][i % 3], 1_767_225_600.0 + i * 7 * 3600),
            )
        db.execute("UPDATE cases SET category1 = '教育文体' WHERE case_id = 'c4'")
        db.execute("DELETE FROM cases WHERE case_id = 'c5'")
    store = EmbeddedStore(index)
    for interval in Interval:
        counted = store._over_time("FROM cases_facets t WHERE 1", [], interval, every=True)
        grouped = store._over_time("FROM cases_facets t WHERE 1", [], interval, every=False)
        assert counted == grouped
        assert sum(sum(s) for s in counted.series.values()) == 39
