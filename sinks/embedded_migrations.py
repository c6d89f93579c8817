"""The embedded index's schema migrations: each step takes a file from the version before to its own,
run in order by EmbeddedIndex when it opens an older file (the versions are listed at SCHEMA_VERSION)."""

from __future__ import annotations

import sqlite3

from schemas.cases import Case
from schemas.hot_issues import doc_repeats
from sinks.embedded_book import TEXT_IN_CASE, book_doc, book_dump
from sinks.embedded_docs import load, sketch_row
from sinks.embedded_facets import add_facet_text_lead, create_facet_counts, create_facet_tables, create_facet_triggers
from sinks.embedded_text import (
    FTS_COLUMNS,
    build_text_indexes,
    fts_values,
    has_character_index,
    has_text_lead,
    lend_text,
    optimize_text_indexes,
)


def short_index(db: sqlite3.Connection) -> None:
    """Schema version 2 added the short-term index; schema 8's character index replaced it (built by
    step 5 or 8 from the documents), so there is nothing to build on the way."""


def pack_documents(db: sqlite3.Connection) -> None:
    """Schema version 5: the documents packed, the text indexes made again from them (contentless).
    The triggers are left off while the documents are rewritten (packing changes no field they copy)."""
    build_text_indexes(db)
    _without_facet_triggers(db, "UPDATE {table} SET doc = doc_pack(doc) WHERE typeof(doc) = 'text'")


def compact_case_book(db: sqlite3.Connection) -> None:
    """Schema version 6: every book row without the text its case document holds, then the text
    indexes merged (the file is rewritten after, see EmbeddedIndex.__init__)."""
    rows = db.execute("SELECT b.case_id, b.doc, c.doc FROM case_book b LEFT JOIN cases c USING (case_id)").fetchall()
    for case_id, stored, held in rows:
        fields = load(stored)
        if fields.get(TEXT_IN_CASE):
            continue
        case = book_dump(Case.model_validate(fields))
        db.execute("UPDATE case_book SET doc = ? WHERE case_id = ?",
                   (book_doc(case, load(held) if held is not None else None), case_id))  # fmt: skip
    optimize_text_indexes(db)


def add_text_lead(db: sqlite3.Connection) -> None:
    """cases.text_lead, on a file made before schema 7 (sinks/embedded_facets.py copies it)."""
    if not has_text_lead(db):
        db.execute("ALTER TABLE cases ADD COLUMN text_lead INTEGER")


def lend_texts(db: sqlite3.Connection) -> None:
    """Schema version 7: every case whose indexed values are its founding lead's loses its own text
    rows and reads the lead's (TEXT_LEAD, as embedded_text.lend_text decides for a new lead); the
    narrow table gets the column; the indexes merged."""
    add_text_lead(db)
    add_facet_text_lead(db)
    rows = db.execute("SELECT l.lead_id, l.rowid, l.doc FROM leads l JOIN cases c ON c.case_id = l.lead_id "
                      "WHERE c.text_lead IS NULL").fetchall()  # fmt: skip
    # A file of schema 5 or 6 still has the trigram index, whose rows are not the characters this
    # leadhub would delete: the cases are only marked, and step 8 builds the index without their rows.
    current = has_character_index(db)
    for lead_id, lead_rowid, lead_doc in rows:
        lend_text(db, lead_id, lead_rowid, fts_values("leads", load(lead_doc)), reindex=current)
    if current:
        optimize_text_indexes(db)


def character_index(db: sqlite3.Connection) -> None:
    """Schema version 8: one index of characters with positions instead of the trigram and short-term
    indexes (sinks/short_terms.py), built from the documents (a file that came through step 5 on
    this leadhub has it already), then merged."""
    if not has_character_index(db):
        build_text_indexes(db)
    optimize_text_indexes(db)


def repack_documents(db: sqlite3.Connection) -> None:
    """Schema version 9: documents packed in UTF-8 (tag 1) packed again in GB18030 (sinks/embedded_docs.py);
    the triggers left off meanwhile, as in step 5 (no field they copy changes)."""
    _without_facet_triggers(db, "UPDATE {table} SET doc = doc_pack(doc_json(doc)) WHERE substr(doc, 1, 1) = x'01'")


def _without_facet_triggers(db: sqlite3.Connection, update: str) -> None:
    """``update`` run on leads, cases and the case book with the narrow tables' triggers off."""
    for table in FTS_COLUMNS:
        for event in ("insert", "update", "delete"):
            db.execute(f"DROP TRIGGER IF EXISTS {table}_facets_{event}")
    for table in (*FTS_COLUMNS, "case_book"):
        db.execute(update.format(table=table))
    create_facet_triggers(db)


def narrow_tables(db: sqlite3.Connection) -> None:
    """Schema version 10: hot issues' and hotspots' documents packed, the case book WITHOUT ROWID, sketches with the case id NULL when it is the
    lead's and hex fingerprints as bytes (sinks/embedded_docs.sketch_row), the indexes of
    leads.case_id and cases.first_seen dropped (the file is rewritten after, in 8 KB pages)."""
    db.execute("DROP INDEX IF EXISTS leads_case")
    db.execute("DROP INDEX IF EXISTS cases_first_seen")
    db.execute("ALTER TABLE case_book RENAME TO case_book_7")
    db.execute("CREATE TABLE case_book (case_id TEXT PRIMARY KEY, doc NOT NULL) WITHOUT ROWID")
    db.execute("INSERT INTO case_book SELECT case_id, doc FROM case_book_7")
    db.execute("DROP TABLE case_book_7")
    db.execute("ALTER TABLE dedup_sketches RENAME TO dedup_sketches_7")
    db.execute("CREATE TABLE dedup_sketches (seq INTEGER PRIMARY KEY, lead_id TEXT NOT NULL UNIQUE, case_id TEXT, "
               "fingerprint NOT NULL, anchors BLOB NOT NULL, at REAL)")  # fmt: skip
    rows = db.execute("SELECT seq, lead_id, case_id, fingerprint, anchors, at FROM dedup_sketches_7 ORDER BY seq")
    while batch := rows.fetchmany(5000):
        db.executemany("INSERT INTO dedup_sketches VALUES (?, ?, ?, ?, ?, ?)", [(seq, *sketch_row(*row)) for seq, *row in batch])
    db.execute("DROP TABLE dedup_sketches_7")
    for table in ("hot_issues", "hotspots"):
        db.execute(f"UPDATE {table} SET doc = doc_pack(doc) WHERE typeof(doc) = 'text'")  # noqa: S608 - fixed names


def hot_issue_repeats(db: sqlite3.Connection) -> None:
    """Schema version 11: hot_issues.repeats, filled from each stored record (leads - reporters)."""
    if "repeats" not in {row[1] for row in db.execute("PRAGMA table_info(hot_issues)")}:
        db.execute("ALTER TABLE hot_issues ADD COLUMN repeats INTEGER")
    for issue_id, doc in db.execute("SELECT issue_id, doc FROM hot_issues WHERE repeats IS NULL").fetchall():
        db.execute("UPDATE hot_issues SET repeats = ? WHERE issue_id = ?", (doc_repeats(load(doc)), issue_id))


# version reached -> the step that reaches it from the one before
MIGRATIONS = {2: short_index, 3: create_facet_tables, 4: create_facet_counts, 5: pack_documents, 6: compact_case_book,
              7: lend_texts, 8: character_index, 9: repack_documents, 10: narrow_tables,
              11: hot_issue_repeats}  # fmt: skip
