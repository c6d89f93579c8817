"""The embedded index's narrow tables: every column a search filters, sorts or counts facets by, one
small row per lead / case (``leads_facets``, ``cases_facets``, same rowids), indexed for filters and orders.

Why: the documents sit in the same rows as the columns of ``leads`` / ``cases``, one document to a
page or more, so every scan or row look-up there reads the document's pages too (8 s for one facet
over 200,000 leads). Here a row is about a hundred bytes, and a facet of a search with no filter is
read from ``facet_counts``, which triggers keep. Lists and fields held only in the document (a case's channels, sources,
officers' groups and activities, entities; a lead's group, activity, author, entities) are columns
here as their JSON, read once when written.

Triggers keep the tables equal to ``leads`` / ``cases`` through every write, the sink's, a replay's,
retention's and a direct UPDATE or DELETE alike, so nothing else has to remember them.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from schemas.timezones import zone

# name -> the row's column that fills it, or (``$.``) the path of a field of its document
_FROM_ROW = {
    "leads": {
        "lead_id": "lead_id", "case_id": "case_id", "channel": "channel", "source": "source", "category1": "category1",
        "category2": "category2", "department": "department", "town": "town", "community": "community", "lang": "lang",
        "needs_triage": "needs_triage", "priority": "priority", "reported": "reported",
        "reporter_group": "$.reporter_group", "activity": "$.activity", "author": "$.author", "entities": "$.entities",
    },
    "cases": {
        "case_id": "case_id", "status": "status", "category1": "category1", "category2": "category2",
        "department": "department", "town": "town", "community": "community", "priority": "priority",
        "report_count": "report_count", "first_seen": "first_seen", "last_seen": "last_seen", "due_at": "due_at",
        "channels": "$.channels", "sources": "$.sources", "reporter_groups": "$.reporter_groups",
        "activities": "$.activities", "entities": "$.entities",
        "text_lead": "text_lead",  # the lead whose text rows a search reads for the case (schema 7)
    },
}  # fmt: skip
# A search of cases joins the lead's text index rows to the cases reading them (most cases: none).
TEXT_LEAD_INDEX = "CREATE INDEX IF NOT EXISTS cases_facets_text_lead ON cases_facets(text_lead) WHERE text_lead IS NOT NULL"

# Filters' columns, and the orders the reader sorts by (missing last, then newest, ties by id), so a
# page is an index walk; the stats' lists and time series. (A facet over every row reads
# facet_counts; each index more costs every write, a case's at each of its leads.)
_INDEXES = {
    "leads": ["category1", "department", "channel", "source", "town", "community", "case_id",
              "reported IS NULL, reported DESC, lead_id",
              "priority IS NULL, priority DESC, reported IS NULL, reported DESC, lead_id"],
    "cases": ["category1", "department", "status, due_at", "town", "community",
              "first_seen IS NULL, first_seen DESC, case_id",
              "priority IS NULL, priority DESC, first_seen IS NULL, first_seen DESC, case_id",
              "report_count IS NULL, report_count DESC, first_seen IS NULL, first_seen DESC, case_id",
              "report_count DESC, priority DESC, case_id, status", "first_seen, category1", "due_at, case_id, status"],
}  # fmt: skip


# What a search with no filter counts, kept counted by triggers in facet_counts (table, name, value,
# rows): a facet is then one look-up, not a scan of 200,000 index entries. A missing value is x'00'
# (a blob, equal to no text) so it has a row of its own; lists are counted by their JSON.
COUNTED = {
    "leads": {"category1": "category1", "department": "department", "channel": "channel", "source": "source",
              "town": "town", "lang": "lang", "entities": "entities",
              "reporter_group": "CASE WHEN {row}.channel = 'officer' THEN {row}.reporter_group END",
              "activity": "CASE WHEN {row}.channel = 'officer' THEN {row}.activity END"},
    "cases": {"category1": "category1", "department": "department", "status": "status", "channels": "channels",
              "sources": "sources", "town": "town", "reporter_groups": "reporter_groups", "activities": "activities",
              "entities": "entities",
              # the stats' series: cases per local day (days since 1970 at the city's offset) and category
              "first_day": "CAST(({row}.first_seen + {offset}) / 86400 AS INTEGER) || '|' || ifnull({row}.category1, '')"},
}  # fmt: skip
MISSING = "x'00'"


def day_offset() -> int:
    """The city zone's offset now, in seconds, as first_day counts with it (kept in meta as
    ``day_offset``; the reader uses those counts only over dates the zone keeps it)."""
    offset = dt.datetime.now(zone(None)).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _counted(table: str, row: str, offset: int) -> list[tuple[str, str]]:
    return [(name, sql.format(row=row, offset=offset) if "{row}" in sql else f"{row}.{sql}") for name, sql in COUNTED[table].items()]


def _count_trigger(db: sqlite3.Connection, table: str, event: str, row: str, step: int, offset: int) -> None:
    values = ", ".join(f"('{table}', '{name}', ifnull({sql}, {MISSING}), {step})" for name, sql in _counted(table, row, offset))
    db.execute(f"DROP TRIGGER IF EXISTS {table}_facets_count_{event}")
    db.execute(
        f"CREATE TRIGGER {table}_facets_count_{event} AFTER {event.upper()} ON {table}_facets BEGIN "
        f"INSERT INTO facet_counts (tbl, name, value, n) VALUES {values} "
        f"ON CONFLICT (tbl, name, value) DO UPDATE SET n = n + excluded.n; END"
    )


def create_facet_counts(db: sqlite3.Connection) -> None:
    """Schema version 4: facet_counts, its triggers, filled from the narrow tables."""
    offset = day_offset()
    db.execute("INSERT INTO meta VALUES ('day_offset', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (str(offset),))
    db.execute("DROP TABLE IF EXISTS facet_counts")
    db.execute("CREATE TABLE facet_counts (tbl TEXT NOT NULL, name TEXT NOT NULL, value NOT NULL, n INTEGER NOT NULL, "
               "PRIMARY KEY (tbl, name, value)) WITHOUT ROWID")  # fmt: skip
    for table in COUNTED:
        _count_trigger(db, table, "insert", "new", 1, offset)
        _count_trigger(db, table, "delete", "old", -1, offset)
        for name, sql in _counted(table, "t", offset):
            db.execute(f"INSERT INTO facet_counts SELECT '{table}', '{name}', ifnull({sql}, {MISSING}), count(*) "  # noqa: S608
                       f"FROM {table}_facets t GROUP BY 3")  # fmt: skip


def _values(table: str, row: str) -> str:
    """The narrow row's values from ``row`` (``new``, or a table's alias) and ``d.j``, its document's JSON
    (unpacked once for all its fields: sinks/embedded_docs.py)."""
    return ", ".join(f"json_extract(d.j, '{sql}')" if sql.startswith("$.") else f"{row}.{sql}" for sql in _FROM_ROW[table].values())


def create_facet_triggers(db: sqlite3.Connection) -> None:
    """The triggers that keep the narrow tables equal to ``leads`` / ``cases`` (schema 3; since schema 5
    they read packed documents through ``doc_json``, which the index's connections define)."""
    for table, columns in _FROM_ROW.items():
        names = ", ".join(columns)
        # A DELETE then a plain INSERT, not INSERT OR REPLACE: an outer upsert's conflict rule would
        # override the trigger's own.
        for event, gone in (("insert", "new"), ("update", "old")):
            db.execute(f"DROP TRIGGER IF EXISTS {table}_facets_{event}")
            db.execute(
                f"CREATE TRIGGER {table}_facets_{event} AFTER {event.upper()} ON {table} BEGIN "
                f"DELETE FROM {table}_facets WHERE rowid = {gone}.rowid; "
                f"INSERT INTO {table}_facets (rowid, {names}) SELECT new.rowid, {_values(table, 'new')} "
                f"FROM (SELECT doc_json(new.doc) AS j) d; END"
            )
        db.execute(f"DROP TRIGGER IF EXISTS {table}_facets_delete")
        db.execute(f"CREATE TRIGGER {table}_facets_delete AFTER DELETE ON {table} BEGIN "
                   f"DELETE FROM {table}_facets WHERE rowid = old.rowid; END")  # fmt: skip


def _add_text_lead(db: sqlite3.Connection, table: str) -> None:
    if not any(column[1] == "text_lead" for column in db.execute(f"PRAGMA table_info({table})")):
        db.execute(f"ALTER TABLE {table} ADD COLUMN text_lead INTEGER")


def add_facet_text_lead(db: sqlite3.Connection) -> None:
    """Schema version 7's column of cases_facets (filled by the triggers as cases.text_lead changes)."""
    _add_text_lead(db, "cases_facets")
    db.execute(TEXT_LEAD_INDEX)
    create_facet_triggers(db)


def create_facet_tables(db: sqlite3.Connection) -> None:
    """Schema version 3: the narrow tables, their triggers and indexes, filled from the rows there are."""
    _add_text_lead(db, "cases")  # a file older than schema 7 (its step adds the rest)
    for table, columns in _FROM_ROW.items():
        db.execute(f"DROP TABLE IF EXISTS {table}_facets")  # noqa: S608 - fixed names
        db.execute(f"CREATE TABLE {table}_facets (rowid INTEGER PRIMARY KEY, {', '.join(columns)})")
        db.execute(f"INSERT INTO {table}_facets (rowid, {', '.join(columns)}) SELECT d.rowid, {_values(table, 'd')} "  # noqa: S608
                   f"FROM (SELECT *, doc_json(doc) AS j FROM {table}) d")  # fmt: skip
        for i, key in enumerate(_INDEXES[table]):
            db.execute(f"CREATE INDEX {table}_facets_{i} ON {table}_facets({key})")
    db.execute(TEXT_LEAD_INDEX)
    create_facet_triggers(db)
    # facet_counts: schema version 4's step, which follows
