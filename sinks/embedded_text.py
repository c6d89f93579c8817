"""The embedded index's text index (sinks/embedded_index.py): one FTS5 index of characters with their
positions (schema 8, sinks/short_terms.py), which finds terms of any length. It holds no text of its
own: a row's values are taken from its document, to index it and to remove it. Also how a case
reads its founding lead's rows (TEXT_LEAD)."""

from __future__ import annotations

import sqlite3
from typing import Any

from sinks.embedded_docs import load
from sinks.short_terms import column_tokens

# The indexed values, in the order fts_values gives them.
FTS_COLUMNS = {"leads": ("title", "text", "location_text", "address"), "cases": ("title", "summary", "resolution", "address")}
# The index's columns: the body first. A position in any other column is written with its column's
# number in front, and most positions are the body's (a third of the index, were it second). No
# search names a column, and bm25 with equal weights adds up the columns alike, so the order changes
# neither matches nor ranks.
INDEX_COLUMNS = {"leads": ("text", "title", "location_text", "address"), "cases": ("summary", "title", "resolution", "address")}
# Contentless (content=''): a row's text is taken from its document (fts_values), both to index it
# and to remove it (FTS5's 'delete' with the values it was indexed with, which works on SQLite before
# 3.43 too: a plain DELETE on a contentless table needs 3.43's contentless_delete). The tokens are
# characters written as words (sinks/short_terms.py), which the ascii tokenizer splits at spaces.
# rank (bm25) works: the column sizes are kept.
FTS_TABLE = "CREATE VIRTUAL TABLE {table}_fts USING fts5({columns}, content='', tokenize='ascii')"


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
    return found[0] if found and fts_values("leads", load(found[1])) == values else None


def own_text(db: sqlite3.Connection, lead_rowid: int) -> None:
    """The cases reading their text from this lead's rows get rows of their own (the lead's text changes
    or it is deleted)."""
    # (cases_facets has the index of text_lead; cases none)
    rows = db.execute("SELECT rowid, doc FROM cases WHERE rowid IN (SELECT rowid FROM cases_facets WHERE text_lead = ?)", (lead_rowid,))
    for rowid, doc in rows.fetchall():
        index_text(db, "cases", rowid, None, fts_values("cases", load(doc)))
        db.execute("UPDATE cases SET text_lead = NULL WHERE rowid = ?", (rowid,))


def lend_text(db: sqlite3.Connection, lead_id: str, lead_rowid: int, values: tuple[str, ...], *, reindex: bool = True) -> None:
    """A case written before its founding lead: its own rows go if the lead's values are its own
    (``reindex`` False: only marked, for an index about to be built again without them)."""
    found = db.execute("SELECT rowid, doc FROM cases WHERE case_id = ? AND text_lead IS NULL", (lead_id,)).fetchone()
    if found and fts_values("cases", load(found[1])) == values:
        if reindex:
            index_text(db, "cases", found[0], values, None)
        db.execute("UPDATE cases SET text_lead = ? WHERE rowid = ?", (lead_rowid, found[0]))


def index_tokens(values: tuple[str, ...]) -> list[str]:
    """What fts_values' values are indexed as, column by column (FTS_COLUMNS' order)."""
    return [column_tokens(value) for value in values]


def index_text(db: sqlite3.Connection, table: str, rowid: int, old: tuple[str, ...] | None, new: tuple[str, ...] | None) -> None:
    """The text index of one row from ``old`` (the values it was indexed with; None: not indexed) to
    ``new`` (None: removed)."""
    if old == new:
        return  # the same text (a replay, a status change): the index is right already
    fts = ", ".join(FTS_COLUMNS[table])
    marks = ",?" * len(FTS_COLUMNS[table])
    if old is not None:
        db.execute(f"INSERT INTO {table}_fts ({table}_fts, rowid, {fts}) VALUES ('delete', ?{marks})", (rowid, *index_tokens(old)))  # noqa: S608
    if new is not None:
        db.execute(f"INSERT INTO {table}_fts (rowid, {fts}) VALUES (?{marks})", (rowid, *index_tokens(new)))  # noqa: S608


def remove_text(db: sqlite3.Connection, table: str, rowid: int, old: tuple[str, ...]) -> None:
    """A row's entries in the text index, given the values it was indexed with (retention's deletes):
    a case reading its lead's rows has none; a lead's borrowers get their own first."""
    if table == "leads":
        own_text(db, rowid)
    elif db.execute("SELECT text_lead FROM cases WHERE rowid = ?", (rowid,)).fetchone() not in (None, (None,)):
        return
    index_text(db, table, rowid, old, None)


def build_text_indexes(db: sqlite3.Connection) -> None:
    """The text index of every lead and case again, from their documents (a case reading its lead's
    rows has none); the short-term index of schemas 2-7 dropped."""
    for table in FTS_COLUMNS:
        db.execute(f"DROP TABLE IF EXISTS {table}_fts")  # noqa: S608 - fixed names
        db.execute(FTS_TABLE.format(table=table, columns=", ".join(INDEX_COLUMNS[table])))
        db.execute(f"DROP TABLE IF EXISTS {table}_short")  # noqa: S608
        owned = " WHERE text_lead IS NULL" if table == "cases" and has_text_lead(db) else ""
        rows = db.execute(f"SELECT rowid, doc FROM {table}{owned}")  # noqa: S608
        while batch := rows.fetchmany(5000):
            for rowid, doc in batch:
                index_text(db, table, rowid, None, fts_values(table, load(doc)))


def has_character_index(db: sqlite3.Connection) -> bool:
    """Whether the text indexes are schema 8's (characters), not the trigram and short-term ones."""
    found = db.execute("SELECT sql FROM sqlite_master WHERE name = 'leads_fts'").fetchone()
    return found is not None and "'ascii'" in found[0]


def optimize_text_indexes(db: sqlite3.Connection) -> None:
    """Merge each text index into one segment: a term's postings spread over a dozen segments as rows
    come in, each with its own term entry and page headers, and a rewritten or deleted row's postings
    stay until merged (a fifth of the index at 50,000 leads when it was trigrams). Seconds a 50,000
    leads; the retention run does it (its nightly pass), and a bulk load at its end."""
    for table in FTS_COLUMNS:
        db.execute(f"INSERT INTO {table}_fts ({table}_fts) VALUES ('optimize')")  # noqa: S608 - fixed names


def has_text_lead(db: sqlite3.Connection) -> bool:
    return any(column[1] == "text_lead" for column in db.execute("PRAGMA table_info(cases)"))
