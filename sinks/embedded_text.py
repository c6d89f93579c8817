"""The embedded index's two text indexes (sinks/embedded_index.py): an FTS5 trigram index for terms
of three characters and more, and a contentless index of characters and character pairs for shorter
ones (sinks/short_terms.py). Both hold no text of their own: a row's values are taken from its
document, to index it and to remove it. Also how a case reads its founding lead's rows (TEXT_LEAD)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from sinks.embedded_docs import unpack
from sinks.short_terms import tokens

FTS_COLUMNS = {"leads": ("title", "text", "location_text", "address"), "cases": ("title", "summary", "resolution", "address")}
# Since schema 5 the trigram index holds no text of its own either (content=''): a row's text is taken
# from its document (fts_values), both to index it and to remove it (FTS5's 'delete' with the values
# it was indexed with, as the short-term index always did). rank (bm25) still works: the column sizes
# are kept.
FTS_TABLE = "CREATE VIRTUAL TABLE {table}_fts USING fts5({columns}, content='', tokenize='trigram')"
# Contentless (it holds only the index: the text is in {table}_fts already) and rowids only. A row is
# removed with FTS5's 'delete' command and the tokens it was indexed with, which works on SQLite
# before 3.43 too (a plain DELETE on a contentless table needs 3.43's contentless_delete).
SHORT_TABLE = "CREATE VIRTUAL TABLE {table}_short USING fts5(tokens, content='', detail='none', columnsize=0, tokenize='ascii')"


def fts_values(table: str, doc: dict[str, Any]) -> tuple[str, ...]:
    """The searchable text of a lead's or case's document, by FTS_COLUMNS (address is the place's). A
    title the text holds whole (a case's is its summary's first line) is not indexed again: every term
    or phrase found in it is found in the text, so the same rows match (a fifth of a case's index)."""
    place = doc.get("place") or {}
    body, extra = ("text", "location_text") if table == "leads" else ("summary", "resolution")
    title, text = doc.get("title") or "", doc.get(body) or ""
    return ("" if title in text else title, text, doc.get(extra) or "", place.get("address") or "")


# TEXT_LEAD. Most cases are one report: the founding lead's title and text (up to 300 characters)
# are the case's title and summary, and the place's address is the same, so a case's four indexed
# values (fts_values) often equal its founding lead's. Such a case's rows in the text indexes would
# repeat the lead's: it has none, and cases.text_lead holds the lead's rowid, so a search of cases
# matches it exactly where it matches the lead (the same values in the same columns: the same
# matches, and totals stay the cluster's). Kept exact: a case's text or its lead's that changes, or
# the lead deleted, gives the case its own rows again (own_text).


def borrowable(db: sqlite3.Connection, case_id: str, values: tuple[str, ...]) -> int | None:
    """The rowid of the case's founding lead (its id is the case's) if its indexed values are ``values``."""
    found = db.execute("SELECT rowid, doc FROM leads WHERE lead_id = ?", (case_id,)).fetchone()
    return found[0] if found and fts_values("leads", json.loads(unpack(found[1]))) == values else None


def own_text(db: sqlite3.Connection, lead_rowid: int) -> None:
    """The cases reading their text from this lead's rows get rows of their own (the lead's text changes
    or it is deleted)."""
    for rowid, doc in db.execute("SELECT rowid, doc FROM cases WHERE text_lead = ?", (lead_rowid,)).fetchall():
        index_text(db, "cases", rowid, None, fts_values("cases", json.loads(unpack(doc))))
        db.execute("UPDATE cases SET text_lead = NULL WHERE rowid = ?", (rowid,))


def lend_text(db: sqlite3.Connection, lead_id: str, lead_rowid: int, values: tuple[str, ...]) -> None:
    """A case written before its founding lead: its own rows go if the lead's values are its own."""
    found = db.execute("SELECT rowid, doc FROM cases WHERE case_id = ? AND text_lead IS NULL", (lead_id,)).fetchone()
    if found and fts_values("cases", json.loads(unpack(found[1]))) == values:
        index_text(db, "cases", found[0], values, None)
        db.execute("UPDATE cases SET text_lead = ? WHERE rowid = ?", (lead_rowid, found[0]))


def index_text(db: sqlite3.Connection, table: str, rowid: int, old: tuple[str, ...] | None, new: tuple[str, ...] | None) -> None:
    """Both text indexes of one row from ``old`` (the values it was indexed with; None: not indexed) to
    ``new`` (None: removed)."""
    if old == new:
        return  # the same text (a replay, a status change): both indexes are right already
    fts = FTS_COLUMNS[table]
    if old is not None:
        db.execute(f"INSERT INTO {table}_fts ({table}_fts, rowid, {', '.join(fts)}) VALUES ('delete', ?{',?' * len(fts)})",  # noqa: S608
                   (rowid, *old))  # fmt: skip
        db.execute(f"INSERT INTO {table}_short ({table}_short, rowid, tokens) VALUES ('delete', ?, ?)", (rowid, tokens(old)))  # noqa: S608
    if new is not None:
        db.execute(f"INSERT INTO {table}_fts (rowid, {', '.join(fts)}) VALUES (?{',?' * len(fts)})", (rowid, *new))  # noqa: S608
        db.execute(f"INSERT INTO {table}_short (rowid, tokens) VALUES (?, ?)", (rowid, tokens(new)))  # noqa: S608


def remove_text(db: sqlite3.Connection, table: str, rowid: int, old: tuple[str, ...]) -> None:
    """A row's entries in both text indexes, given the values it was indexed with (retention's deletes):
    a case reading its lead's rows has none; a lead's borrowers get their own first."""
    if table == "leads":
        own_text(db, rowid)
    elif db.execute("SELECT text_lead FROM cases WHERE rowid = ?", (rowid,)).fetchone() not in (None, (None,)):
        return
    index_text(db, table, rowid, old, None)


def build_text_indexes(db: sqlite3.Connection) -> None:
    """Both text indexes (trigram, short-term) of every lead and case again, from their documents."""
    for table, fts in FTS_COLUMNS.items():
        db.execute(f"DROP TABLE IF EXISTS {table}_fts")  # noqa: S608 - fixed names
        db.execute(FTS_TABLE.format(table=table, columns=", ".join(fts)))
        db.execute(f"DROP TABLE IF EXISTS {table}_short")  # noqa: S608
        db.execute(SHORT_TABLE.format(table=table))
        owned = " WHERE text_lead IS NULL" if table == "cases" and has_text_lead(db) else ""
        rows = db.execute(f"SELECT rowid, doc FROM {table}{owned}")  # noqa: S608
        while batch := rows.fetchmany(5000):
            for rowid, doc in batch:
                index_text(db, table, rowid, None, fts_values(table, json.loads(unpack(doc))))


def build_short_index(db: sqlite3.Connection) -> None:
    """(Re)build the short-term index from the text the trigram index holds: schema version 2, so a
    file made before it keeps working without ingesting anything again."""
    for table, fts in FTS_COLUMNS.items():
        db.execute(f"DROP TABLE IF EXISTS {table}_short")  # noqa: S608 - fixed names
        db.execute(SHORT_TABLE.format(table=table))
        rows = db.execute(f"SELECT rowid, {', '.join(fts)} FROM {table}_fts")  # noqa: S608
        while batch := rows.fetchmany(5000):
            db.executemany(f"INSERT INTO {table}_short (rowid, tokens) VALUES (?, ?)",  # noqa: S608
                           [(row[0], tokens(row[1:])) for row in batch])  # fmt: skip


def optimize_text_indexes(db: sqlite3.Connection) -> None:
    """Merge each text index into one segment: a term's postings spread over a dozen segments as rows
    come in, each with its own term entry and page headers, and a rewritten or deleted row's postings
    stay until merged (a fifth of the trigram index, an eighth of the short-term one at 50,000 leads).
    Seconds a 50,000 leads; the retention run does it (its nightly pass), and a bulk load at its end."""
    for table in FTS_COLUMNS:
        for index in (f"{table}_fts", f"{table}_short"):
            db.execute(f"INSERT INTO {index} ({index}) VALUES ('optimize')")  # noqa: S608 - fixed names


def has_text_lead(db: sqlite3.Connection) -> bool:
    return any(column[1] == "text_lead" for column in db.execute("PRAGMA table_info(cases)"))
