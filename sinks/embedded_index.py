"""The embedded index: leads and cases in one SQLite file with FTS5 (trigram tokenizer, so Chinese
text is found without word segmentation; terms of one or two characters in a second, contentless
index of characters and character pairs, see sinks/short_terms.py), for embedded mode. Also holds the route stage's state
(case membership, dedup sketches) and the dead letters, so one file is the whole installation and it
survives restarts.

Writes follow the search sink's rules: documents keyed by lead/case id (a replay changes nothing),
case membership from the route stage never overwrites an officer's assignment, case events go
through the status machine and an illegal one becomes a dead letter.

This module is the file's schema and its write side; searches over it are leadhub/readers/embedded.py.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from array import array
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from enrichers.dedup import MemoryDedupState, Sketch
from schemas.cases import Action, Case, CaseEvent, Status
from schemas.dead_letters import DeadLetter
from schemas.hot_issues import HotIssue
from schemas.hotspots import Hotspot
from schemas.leads import Lead
from schemas.private_files import private_file
from schemas.status_machine import apply_event, apply_merge
from sinks.documents import apply_case_routing, apply_case_state, case_handling_doc, decided_lead_ids, leads_decision
from sinks.embedded_docs import pack, pack_sql, unpack, unpack_sql
from sinks.embedded_facets import add_facet_text_lead, create_facet_counts, create_facet_tables, create_facet_triggers
from sinks.hot_issue_documents import apply_hot_issue
from sinks.hotspot_documents import apply_hotspot
from sinks.short_terms import tokens

log = logging.getLogger("leadhub.embedded")

# 1: documents, trigram FTS, route state, dead letters. 2: the short-term index ({table}_short).
# 3: the narrow tables searches filter, sort and count in ({table}_facets, sinks/embedded_facets.py).
# 4: facet_counts also counts cases per local day and category (the stats' series).
# 5: documents (leads, cases, the case book) packed (sinks/embedded_docs.py); the trigram indexes
#    contentless, their text read from the documents (it was held twice, the FTS tables' own copy).
# 6: the case book leaves out the text (title, summary) its case's document holds (book_doc); the text
#    indexes' segments merged (optimize_text_indexes, which the retention run repeats).
# 7: a case whose indexed text is its founding lead's, value for value, has no text index rows of its
#    own: cases.text_lead names the lead's row, whose rows a search of cases reads for it (TEXT_LEAD).
SCHEMA_VERSION = 7

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS leads (
    rowid INTEGER PRIMARY KEY, lead_id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL,
    case_id TEXT, channel TEXT, source TEXT, category1 TEXT, category2 TEXT, department TEXT,
    town TEXT, community TEXT, lang TEXT, needs_triage INTEGER, priority INTEGER,
    reported REAL  -- POSIX time of publication, else of fetching
);
CREATE INDEX IF NOT EXISTS leads_case ON leads(case_id);
CREATE INDEX IF NOT EXISTS leads_reported ON leads(reported);
CREATE VIRTUAL TABLE IF NOT EXISTS leads_fts USING fts5(title, text, location_text, address, tokenize='trigram');
CREATE TABLE IF NOT EXISTS cases (
    rowid INTEGER PRIMARY KEY, case_id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL,
    status TEXT, category1 TEXT, category2 TEXT, department TEXT, town TEXT, community TEXT,
    priority INTEGER, report_count INTEGER, first_seen REAL, last_seen REAL, due_at REAL,
    text_lead INTEGER  -- see TEXT_LEAD
);
CREATE INDEX IF NOT EXISTS cases_first_seen ON cases(first_seen);
CREATE VIRTUAL TABLE IF NOT EXISTS cases_fts USING fts5(title, summary, resolution, address, tokenize='trigram');
CREATE TABLE IF NOT EXISTS dead_letters (id INTEGER PRIMARY KEY, stage TEXT, error_type TEXT, error TEXT, at TEXT, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS case_book (case_id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hotspots (
    hotspot_id TEXT PRIMARY KEY, doc TEXT NOT NULL, kind TEXT, status TEXT,
    detected REAL  -- POSIX time the detector fired (newest first)
);
CREATE INDEX IF NOT EXISTS hotspots_detected ON hotspots(detected);
CREATE TABLE IF NOT EXISTS hot_issues (
    issue_id TEXT PRIMARY KEY, doc TEXT NOT NULL, heat REAL, leads INTEGER,
    last_seen REAL  -- POSIX time of its latest lead
);
CREATE INDEX IF NOT EXISTS hot_issues_last_seen ON hot_issues(last_seen);
-- A lead's named entities (Lead.entities), one row each: the entity filter and facet. Leads stored
-- before entities existed have none, so a file made before needs no migration.
CREATE TABLE IF NOT EXISTS lead_entities (entity TEXT NOT NULL, lead_id TEXT NOT NULL, PRIMARY KEY (entity, lead_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS lead_entities_lead ON lead_entities(lead_id);
CREATE TABLE IF NOT EXISTS dedup_sketches (
    seq INTEGER PRIMARY KEY, lead_id TEXT NOT NULL UNIQUE, case_id TEXT NOT NULL, fingerprint TEXT NOT NULL,
    anchors BLOB NOT NULL, at REAL
);
"""


LEAD_COLUMNS = ("lead_id", "doc", "case_id", "channel", "source", "category1", "category2", "department", "town",
                "community", "lang", "needs_triage", "priority", "reported")  # fmt: skip
CASE_COLUMNS = ("case_id", "doc", "status", "category1", "category2", "department", "town", "community", "priority",
                "report_count", "first_seen", "last_seen", "due_at")  # fmt: skip
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


def _borrowable(db: sqlite3.Connection, case_id: str, values: tuple[str, ...]) -> int | None:
    """The rowid of the case's founding lead (its id is the case's) if its indexed values are ``values``."""
    found = db.execute("SELECT rowid, doc FROM leads WHERE lead_id = ?", (case_id,)).fetchone()
    return found[0] if found and fts_values("leads", json.loads(unpack(found[1]))) == values else None


def own_text(db: sqlite3.Connection, lead_rowid: int) -> None:
    """The cases reading their text from this lead's rows get rows of their own (the lead's text changes
    or it is deleted)."""
    for rowid, doc in db.execute("SELECT rowid, doc FROM cases WHERE text_lead = ?", (lead_rowid,)).fetchall():
        _index_text(db, "cases", rowid, None, fts_values("cases", json.loads(unpack(doc))))
        db.execute("UPDATE cases SET text_lead = NULL WHERE rowid = ?", (rowid,))


def _lend_text(db: sqlite3.Connection, lead_id: str, lead_rowid: int, values: tuple[str, ...]) -> None:
    """A case written before its founding lead: its own rows go if the lead's values are its own."""
    found = db.execute("SELECT rowid, doc FROM cases WHERE case_id = ? AND text_lead IS NULL", (lead_id,)).fetchone()
    if found and fts_values("cases", json.loads(unpack(found[1]))) == values:
        _index_text(db, "cases", found[0], values, None)
        db.execute("UPDATE cases SET text_lead = ? WHERE rowid = ?", (lead_rowid, found[0]))


def _index_text(db: sqlite3.Connection, table: str, rowid: int, old: tuple[str, ...] | None, new: tuple[str, ...] | None) -> None:
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
    _index_text(db, table, rowid, old, None)


def _upsert(db: sqlite3.Connection, table: str, key: str, columns: tuple[str, ...], row: tuple, doc: dict[str, Any]) -> None:
    """Insert or replace a document row by its id (``row``: its columns, the packed document second),
    and its text index rows under the same rowid (a case's: none while it reads its lead's, TEXT_LEAD)."""
    cases = table == "cases"
    found = db.execute(f"SELECT rowid, doc{', text_lead' if cases else ''} FROM {table} WHERE {key} = ?", (row[0],)).fetchone()  # noqa: S608
    old = fts_values(table, json.loads(unpack(found[1]))) if found else None
    new = fts_values(table, doc)
    lent = found[2] if cases and found else None
    if cases and (found is None or old != new):
        lent = _borrowable(db, row[0], new)
    if cases:
        columns, row = (*columns, "text_lead"), (*row, lent)
    updates = ", ".join(f"{c}=excluded.{c}" for c in columns if c != key)
    cursor = db.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({','.join('?' * len(columns))}) "  # noqa: S608 - fixed names
        f"ON CONFLICT({key}) DO UPDATE SET {updates}",
        row,
    )
    rowid = found[0] if found else cursor.lastrowid
    if rowid is None:  # an INSERT always has one; said so the text index is never written under no row
        raise sqlite3.DatabaseError(f"{table}: SQLite gave no rowid for the new row {row[0]!r}")
    if cases:  # the rows it has of its own: none while it reads its lead's
        _index_text(db, table, rowid, None if found is None or found[2] is not None else old, None if lent is not None else new)
        return
    _index_text(db, table, rowid, old, new)
    if found is not None and old != new:
        own_text(db, rowid)
    elif found is None:
        _lend_text(db, row[0], rowid, new)


def build_text_indexes(db: sqlite3.Connection) -> None:
    """Both text indexes (trigram, short-term) of every lead and case again, from their documents."""
    for table, fts in FTS_COLUMNS.items():
        db.execute(f"DROP TABLE IF EXISTS {table}_fts")  # noqa: S608 - fixed names
        db.execute(FTS_TABLE.format(table=table, columns=", ".join(fts)))
        db.execute(f"DROP TABLE IF EXISTS {table}_short")  # noqa: S608
        db.execute(SHORT_TABLE.format(table=table))
        owned = " WHERE text_lead IS NULL" if table == "cases" and _has_text_lead(db) else ""
        rows = db.execute(f"SELECT rowid, doc FROM {table}{owned}")  # noqa: S608
        while batch := rows.fetchmany(5000):
            for rowid, doc in batch:
                _index_text(db, table, rowid, None, fts_values(table, json.loads(unpack(doc))))


def pack_documents(db: sqlite3.Connection) -> None:
    """Schema version 5: the documents packed, the text indexes made again from them (contentless).
    The triggers are left off while the documents are rewritten (packing changes no field they copy)."""
    build_text_indexes(db)
    for table in FTS_COLUMNS:
        for event in ("insert", "update", "delete"):
            db.execute(f"DROP TRIGGER IF EXISTS {table}_facets_{event}")
    for table in (*FTS_COLUMNS, "case_book"):
        db.execute(f"UPDATE {table} SET doc = doc_pack(doc) WHERE typeof(doc) = 'text'")  # noqa: S608 - fixed names
    create_facet_triggers(db)


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


# The route stage's case (the case book) and the case document hold the same text: the summary and the
# title the route stage wrote (documents.MEMBERSHIP_FIELDS; nothing else changes them). Once the
# document holds them, the book's row leaves them out and says so under TEXT_IN_CASE (title "" is a
# value of its own, so absence alone would not do); reading it takes them from the document.
BOOK_TEXT = ("title", "summary")
TEXT_IN_CASE = "text_in_case"


def book_doc(case: dict[str, Any], held: dict[str, Any] | None) -> bytes:
    """A case book row's document: the case's fields that differ from their defaults (reading fills
    them in again), without BOOK_TEXT when ``held`` (the case document) holds the same. (Spaced JSON,
    as the pack dictionary is: a fifth smaller packed than pydantic's compact JSON.)"""
    fields = dict(case)
    if held is not None and all(held.get(k) == fields.get(k, "") for k in BOOK_TEXT):
        fields = {k: v for k, v in fields.items() if k not in BOOK_TEXT} | {TEXT_IN_CASE: True}
    return pack(json.dumps(fields, ensure_ascii=False))


def book_case(stored: bytes | str, held: bytes | str | None) -> Case:
    """The case a book row holds, its text from ``held`` (the case document, packed) if it left it out."""
    fields = json.loads(unpack(stored))
    if fields.pop(TEXT_IN_CASE, False):
        if held is None:  # retention deletes the two together: a file changed by hand
            raise EmbeddedIndexError(f"case {fields.get('case_id')!r}: the case book takes its text from a case document that is missing")
        doc = json.loads(unpack(held))
        fields |= {k: doc[k] for k in BOOK_TEXT if k in doc}
    return Case.model_validate(fields)


def _book_dump(case: Case) -> dict[str, Any]:
    return case.model_dump(mode="json", exclude_defaults=True)


def compact_case_book(db: sqlite3.Connection) -> None:
    """Schema version 6: every book row without the text its case document holds, then the text
    indexes merged (the file is rewritten after, see EmbeddedIndex.__init__)."""
    rows = db.execute("SELECT b.case_id, b.doc, c.doc FROM case_book b LEFT JOIN cases c USING (case_id)").fetchall()
    for case_id, stored, held in rows:
        fields = json.loads(unpack(stored))
        if fields.get(TEXT_IN_CASE):
            continue
        case = _book_dump(Case.model_validate(fields))
        db.execute("UPDATE case_book SET doc = ? WHERE case_id = ?",
                   (book_doc(case, json.loads(unpack(held)) if held is not None else None), case_id))  # fmt: skip
    optimize_text_indexes(db)


def _has_text_lead(db: sqlite3.Connection) -> bool:
    return any(column[1] == "text_lead" for column in db.execute("PRAGMA table_info(cases)"))


def add_text_lead(db: sqlite3.Connection) -> None:
    """cases.text_lead, on a file made before schema 7 (sinks/embedded_facets.py copies it)."""
    if not _has_text_lead(db):
        db.execute("ALTER TABLE cases ADD COLUMN text_lead INTEGER")


def lend_texts(db: sqlite3.Connection) -> None:
    """Schema version 7: every case whose indexed values are its founding lead's loses its own text
    rows and reads the lead's (TEXT_LEAD); the narrow table gets the column; the indexes merged."""
    add_text_lead(db)
    add_facet_text_lead(db)
    rows = db.execute("SELECT c.rowid, c.doc, l.rowid, l.doc FROM cases c JOIN leads l ON l.lead_id = c.case_id "
                      "WHERE c.text_lead IS NULL").fetchall()  # fmt: skip
    for rowid, doc, lead_rowid, lead_doc in rows:
        values = fts_values("cases", json.loads(unpack(doc)))
        if fts_values("leads", json.loads(unpack(lead_doc))) == values:
            _index_text(db, "cases", rowid, values, None)
            db.execute("UPDATE cases SET text_lead = ? WHERE rowid = ?", (lead_rowid, rowid))
    optimize_text_indexes(db)


# version reached -> the step that reaches it from the one before
MIGRATIONS = {2: build_short_index, 3: create_facet_tables, 4: create_facet_counts, 5: pack_documents, 6: compact_case_book,
              7: lend_texts}  # fmt: skip


class EmbeddedIndexError(Exception):
    pass


def _epoch(value: Any) -> float | None:
    return value.timestamp() if value is not None else None


class EmbeddedIndex:
    """One SQLite file. Each thread gets its own connection (WAL: readers never block the writer);
    writes are serialized by a lock, since one process owns the pipeline."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        private_file(self.path)  # leads with reporters' contacts: 0600 in a 0700 folder
        self._local = threading.local()
        self.write_lock = threading.RLock()
        with self.write_lock:
            self.db.executescript(SCHEMA)  # (executescript commits on its own)
        with self.transaction() as db:  # one writer migrates; another process opening it waits, then sees it done
            found = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = 1 if found is None else int(found[0])  # a new file starts from version 1's tables
            if version > SCHEMA_VERSION:
                raise EmbeddedIndexError(
                    f"{self.path} has schema version {version}, newer than this leadhub's {SCHEMA_VERSION}: upgrade leadhub"
                )
            leads = db.execute("SELECT count(*) FROM leads").fetchone()[0] if version < SCHEMA_VERSION else 0
            if leads:
                log.warning("embedded index %s: schema %d -> %d, %d leads (packing documents, rebuilding or merging "
                            "the text indexes: up to a few minutes a 100,000 leads; the file is rewritten after)",
                            self.path, version, SCHEMA_VERSION, leads)  # fmt: skip
            for step in range(version + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[step](db)
            db.execute("INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       (str(SCHEMA_VERSION),))  # fmt: skip
        if leads and version < SCHEMA_VERSION:
            # Packing (5) frees more than half of the pages, merging (6) a fifth of the text indexes';
            # without a rewrite the file keeps its size.
            with self.write_lock:
                self.db.execute("VACUUM")
            log.warning("embedded index %s: migrated and rewritten, %d bytes", self.path, self.path.stat().st_size)

    @property
    def db(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA busy_timeout=30000")
            # Reads through the OS's page cache (shared by every thread's connection) rather than each
            # connection's own 2 MB one: a search of 200,000 leads reads tens of MB of indexes.
            connection.execute("PRAGMA mmap_size=1073741824")
            # Packed documents in SQL: the narrow tables' triggers and retention read fields through these.
            connection.create_function("doc_json", 1, unpack_sql, deterministic=True)
            connection.create_function("doc_pack", 1, pack_sql, deterministic=True)
            self._local.connection = connection
        return connection

    @contextmanager
    def transaction(self, *, savepoint: bool = False) -> Iterator[sqlite3.Connection]:
        """One transaction. Inside another (a batch's, see batch()) it is part of that one, or with
        ``savepoint`` a savepoint of it, so a write that fails leaves nothing of itself and the batch goes
        on. (Only where a write can fail halfway: FTS5 writes its pending rows out as a new segment at
        every savepoint, which cost half a millisecond a write when every write had one.)"""
        with self.write_lock:
            db = self.db
            depth = getattr(self._local, "depth", 0)
            name = f"s{depth}" if depth and savepoint else None
            if depth == 0:
                db.execute("BEGIN IMMEDIATE")
            elif name:
                db.execute(f"SAVEPOINT {name}")
            self._local.depth = depth + 1
            try:
                yield db
            except BaseException:
                if depth == 0:
                    db.execute("ROLLBACK")
                elif name:
                    db.execute(f"ROLLBACK TO {name}")
                    db.execute(f"RELEASE {name}")
                raise
            finally:
                self._local.depth = depth
            if depth == 0:
                db.execute("COMMIT")
            elif name:
                db.execute(f"RELEASE {name}")

    def batch(self) -> AbstractContextManager[sqlite3.Connection]:
        """A pipeline batch's writes in one transaction: four commits a lead (lead, case, case book,
        sketch), each writing its pages to the write-ahead log and FTS5 its pending rows as a new
        segment to merge later, were most of the sink's time. Readers see the batch when it ends."""
        return self.transaction()

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    # --- documents -----------------------------------------------------------------------------

    def write_lead(self, lead: Lead) -> None:
        with self.transaction() as db:
            self._store_lead(db, lead, lead.model_dump(mode="json"))

    def _store_lead(self, db: sqlite3.Connection, lead: Lead, doc: dict[str, Any]) -> None:
        category, place = lead.category, lead.place
        row = (
            lead.lead_id, pack(json.dumps(doc, ensure_ascii=False)), lead.case_id, lead.channel, lead.source,
            category.level1 if category else None, category.level2 if category else None, lead.department,
            place.town if place else None, place.community if place else None, lead.lang, int(lead.needs_triage),
            lead.priority, _epoch(lead.published_at or lead.fetched_at),
        )  # fmt: skip
        _upsert(db, "leads", "lead_id", LEAD_COLUMNS, row, doc)
        entities = [e for e in dict.fromkeys(doc.get("entities") or ()) if isinstance(e, str)]
        db.execute("DELETE FROM lead_entities WHERE lead_id = ?", (lead.lead_id,))
        db.executemany("INSERT INTO lead_entities VALUES (?, ?)", [(entity, lead.lead_id) for entity in entities])

    def write_rerouted(self, leads: list[tuple[Lead, dict[str, Any]]], cases: dict[str, dict[str, Any]]) -> tuple[int, int]:
        """A replay's writes (leadhub replay), in one transaction: each lead's routing (``leads``: the
        lead and the fields that changed), unless a person decided it meanwhile; each case's routing
        from its primary lead (``cases``: case id -> fields) by documents.apply_case_routing, also in the
        route stage's case book, so its later snapshots carry it. Returns (leads, cases) written."""
        written = [0, 0]
        with self.transaction() as db:
            for lead, changes in leads:
                found = db.execute("SELECT doc FROM leads WHERE lead_id = ?", (lead.lead_id,)).fetchone()
                stored = json.loads(unpack(found[0])) if found else None
                if stored is None or stored.get("category_source") == "human":
                    continue
                self._store_lead(db, lead, {**stored, **changes})
                written[0] += 1
            for case_id, routing in cases.items():
                doc = self.case_document(case_id, db)
                if doc is not None and (new := apply_case_routing(doc, routing)) != doc:
                    self._store_case(db, new)
                    written[1] += 1
                booked = db.execute("SELECT doc FROM case_book WHERE case_id = ?", (case_id,)).fetchone()
                if booked is not None:
                    db.execute("UPDATE case_book SET doc = ? WHERE case_id = ?",
                               (pack(json.dumps({**json.loads(unpack(booked[0])), **routing}, ensure_ascii=False)), case_id))  # fmt: skip
        return written[0], written[1]

    def case_document(self, case_id: str, db: sqlite3.Connection | None = None) -> dict[str, Any] | None:
        found = (db or self.db).execute("SELECT doc FROM cases WHERE case_id = ?", (case_id,)).fetchone()
        return json.loads(unpack(found[0])) if found else None

    def _store_case(self, db: sqlite3.Connection, doc: dict[str, Any]) -> None:
        case = Case.model_validate(doc)
        category, place = case.category, case.place
        row = (
            case.case_id, pack(json.dumps(doc, ensure_ascii=False)), case.status.value,
            category.level1 if category else None, category.level2 if category else None, case.department,
            place.town if place else None, place.community if place else None, case.priority, case.report_count,
            _epoch(case.first_seen), _epoch(case.last_seen), _epoch(case.due_at),
        )  # fmt: skip
        _upsert(db, "cases", "case_id", CASE_COLUMNS, row, doc)

    def write_case_state(self, case: Case, offset: int | None = None) -> None:
        """The route stage's view of the case (membership); status and handling stay as events made them.
        ``offset``: the snapshot's position, when it has one (the local runner's have none)."""
        with self.transaction() as db:
            doc = self.case_document(case.case_id, db)
            new = apply_case_state(doc, case, offset)
            if new != doc:
                self._store_case(db, new)
            if doc is None:  # a new case: its book row was written before its document (IndexCaseBook.put)
                self._drop_book_text(db, case.case_id, new)

    @staticmethod
    def _drop_book_text(db: sqlite3.Connection, case_id: str, held: dict[str, Any]) -> None:
        found = db.execute("SELECT doc FROM case_book WHERE case_id = ?", (case_id,)).fetchone()
        if found is None:
            return
        fields = json.loads(unpack(found[0]))
        if not fields.get(TEXT_IN_CASE) and all(held.get(k) == fields.get(k, "") for k in BOOK_TEXT):
            db.execute("UPDATE case_book SET doc = ? WHERE case_id = ?", (book_doc(fields, held), case_id))

    def apply_event(self, event: CaseEvent) -> Case:
        """Raises IllegalTransition, MergeRefused (nothing is written then). One transaction, so the
        check and the write are atomic: of two racing actions the second sees the first's status."""
        with self.transaction(savepoint=True) as db:
            doc = self.case_document(event.case_id, db) or {"case_id": event.case_id}
            if event.action is Action.merge:
                assert event.target_case_id is not None
                target_doc = self.case_document(event.target_case_id, db)
                target = Case.model_validate(target_doc) if target_doc is not None else None
                case, merged_target = apply_merge(Case.model_validate(doc), target, event)
                assert target_doc is not None
                target_doc.update(case_handling_doc(merged_target, membership=True))
                self._store_case(db, target_doc)
            else:
                case = apply_event(Case.model_validate(doc), event)
            doc.update(case_handling_doc(case, membership=event.action is Action.split_))
            self._store_case(db, doc)
            if event.action is Action.recategorize:
                self._decide_leads(db, case)
            return case

    def _decide_leads(self, db: sqlite3.Connection, case: Case) -> None:
        """A recategorized case's leads take its category and department (documents.decided_lead_ids)."""
        decision = leads_decision(case)
        if decision is None:
            return
        ids, case_ids = decided_lead_ids(case)
        rows = db.execute(
            f"SELECT lead_id, doc FROM leads WHERE lead_id IN ({','.join('?' * len(ids))})"  # noqa: S608 - placeholders
            f" OR case_id IN ({','.join('?' * len(case_ids))})", (*ids, *case_ids),
        ).fetchall()  # fmt: skip
        category = decision["category"] or {}
        for lead_id, text in rows:
            doc = {**json.loads(unpack(text)), **decision}
            db.execute(
                "UPDATE leads SET doc = ?, category1 = ?, category2 = ?, department = ?, needs_triage = 0 WHERE lead_id = ?",
                (pack(json.dumps(doc, ensure_ascii=False)), category.get("level1"), category.get("level2"), decision["department"], lead_id),
            )  # fmt: skip

    def write_dead_letter(self, letter: DeadLetter) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO dead_letters (stage, error_type, error, at, doc) VALUES (?,?,?,?,?)",
                (letter.stage, letter.error_type, letter.error, letter.at.isoformat(), letter.model_dump_json()),
            )

    # --- hotspots (sinks/hotspot_documents.py; read by leadhub/hotspots_store.py) -------------------

    def write_hotspot(self, hotspot: Hotspot) -> None:
        with self.transaction() as db:
            doc = self.hotspot_document(hotspot.hotspot_id, db)
            new = apply_hotspot(doc, hotspot)
            if new != doc:
                self._store_hotspot(db, new)

    def _store_hotspot(self, db: sqlite3.Connection, doc: dict[str, Any]) -> None:
        detected = Hotspot.model_validate(doc).detected_at.timestamp()
        db.execute(
            "INSERT INTO hotspots VALUES (?, ?, ?, ?, ?) ON CONFLICT(hotspot_id) DO UPDATE SET doc = excluded.doc,"
            " kind = excluded.kind, status = excluded.status, detected = excluded.detected",
            (doc["hotspot_id"], json.dumps(doc, ensure_ascii=False), doc["kind"], doc["status"], detected),
        )

    def hotspot_document(self, hotspot_id: str, db: sqlite3.Connection | None = None) -> dict[str, Any] | None:
        found = (db or self.db).execute("SELECT doc FROM hotspots WHERE hotspot_id = ?", (hotspot_id,)).fetchone()
        return json.loads(found[0]) if found else None

    def update_hotspot(self, hotspot_id: str, decide: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any] | None:
        """People's handling of a hotspot: ``decide(doc)`` gives the fields to change (status, who, when) or
        raises, in one transaction with the read (of two racing requests the second sees the first).
        Returns the document after it, None if there is no such hotspot."""
        with self.transaction() as db:
            doc = self.hotspot_document(hotspot_id, db)
            if doc is None:
                return None
            changes = decide(doc)
            if changes:
                doc = {**doc, **changes}
                self._store_hotspot(db, doc)
            return doc

    def hotspot_documents(
        self, *, status: str | None = None, kind: str | None = None, limit: int = 100,
        since: float | None = None, until: float | None = None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Newest detection first; ``since``/``until``: POSIX times, detected at or after / before."""
        where: list[str] = []
        args: list[Any] = []
        for clause, value in (("status = ?", status), ("kind = ?", kind), ("detected >= ?", since), ("detected < ?", until)):
            if value is not None:
                where.append(clause)
                args.append(value)
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        rows = self.db.execute(
            f"SELECT doc FROM hotspots {clause}ORDER BY detected DESC, hotspot_id LIMIT ?", (*args, limit)  # noqa: S608 - fixed columns
        ).fetchall()
        return [json.loads(row[0]) for row in rows]

    # --- hot issues (sinks/hot_issue_documents.py; read by leadhub/hot_issues_store.py) -------------

    def write_hot_issue(self, issue: HotIssue) -> None:
        with self.transaction() as db:
            found = db.execute("SELECT doc FROM hot_issues WHERE issue_id = ?", (issue.issue_id,)).fetchone()
            doc = json.loads(found[0]) if found else None
            new = apply_hot_issue(doc, issue)
            if new != doc:
                db.execute(
                    "INSERT INTO hot_issues VALUES (?, ?, ?, ?, ?) ON CONFLICT(issue_id) DO UPDATE SET doc = excluded.doc,"
                    " heat = excluded.heat, leads = excluded.leads, last_seen = excluded.last_seen",
                    (issue.issue_id, json.dumps(new, ensure_ascii=False), issue.heat, issue.leads, _epoch(issue.last_seen)),
                )

    def hot_issue_documents(
        self, *, since: float | None = None, until: float | None = None, limit: int | None = 10
    ) -> list[dict[str, Any]]:
        """Hottest first (then the latest lead newest first); ``since``/``until``: POSIX times, the latest
        lead at or after / before; ``limit`` None: all."""
        where: list[str] = []
        args: list[Any] = []
        for clause, value in (("last_seen >= ?", since), ("last_seen < ?", until)):
            if value is not None:
                where.append(clause)
                args.append(value)
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        rows = self.db.execute(
            f"SELECT doc FROM hot_issues {clause}ORDER BY heat DESC, last_seen DESC, issue_id LIMIT ?", (*args, -1 if limit is None else limit)  # noqa: S608
        ).fetchall()
        return [json.loads(row[0]) for row in rows]

    def leads_reported_since(self, since: float) -> Iterator[Lead]:
        """Leads reported at or after ``since`` (POSIX), oldest first: what rebuilds the hotspot detector."""
        rows = self.db.execute("SELECT doc FROM leads WHERE reported >= ? ORDER BY reported, lead_id", (since,))
        while batch := rows.fetchmany(2000):
            for row in batch:
                yield Lead.model_validate_json(unpack(row[0]))

    def latest_reported(self) -> float | None:
        found = self.db.execute("SELECT max(reported) FROM leads").fetchone()
        return found[0] if found else None

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        rows = self.db.execute("SELECT doc FROM dead_letters ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [DeadLetter.model_validate_json(row[0]) for row in rows]

    def counts(self) -> dict[str, int]:
        return {
            table: self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - fixed names
            for table in ("leads", "cases", "dead_letters")
        }


class IndexCaseBook:
    """The route stage's case membership state, kept in the file (the cases.state topic's role)."""

    def __init__(self, index: EmbeddedIndex) -> None:
        self.index = index

    def get(self, case_id: str) -> Case | None:
        found = self.index.db.execute(
            "SELECT b.doc, c.doc FROM case_book b LEFT JOIN cases c USING (case_id) WHERE b.case_id = ?", (case_id,)
        ).fetchone()
        return book_case(*found) if found else None

    def put(self, case: Case) -> None:
        """Written before the case's document (the sink's, later in the batch): a new case's row holds
        its text until EmbeddedIndex.write_case_state writes the document."""
        with self.index.transaction() as db:
            held = db.execute("SELECT doc FROM cases WHERE case_id = ?", (case.case_id,)).fetchone()
            db.execute(
                "INSERT INTO case_book VALUES (?, ?) ON CONFLICT(case_id) DO UPDATE SET doc = excluded.doc",
                (case.case_id, book_doc(_book_dump(case), json.loads(unpack(held[0])) if held else None)),
            )


class IndexStatuses:
    """Case status as the embedded index holds it (events are applied there synchronously)."""

    def __init__(self, index: EmbeddedIndex) -> None:
        self.index = index

    def status(self, case_id: str) -> Status | None:
        found = self.index.db.execute("SELECT status FROM cases WHERE case_id = ?", (case_id,)).fetchone()
        return Status(found[0]) if found and found[0] else None


class PersistentDedupState(MemoryDedupState):
    """The dedup state in memory, every sketch also written to the file; a restart replays the
    sketches in their original order, which rebuilds the same postings."""

    def __init__(self, index: EmbeddedIndex, max_postings: int) -> None:
        super().__init__()
        self.index = index
        for lead_id, case_id, fp, anchors, at in index.db.execute(
            "SELECT lead_id, case_id, fingerprint, anchors, at FROM dedup_sketches ORDER BY seq"
        ):
            packed = array("I")
            packed.frombytes(anchors)
            super().put(Sketch(lead_id, case_id, fp, packed, at), max_postings)

    def put(self, sketch: Sketch, max_postings: int) -> None:
        with self.index.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO dedup_sketches (lead_id, case_id, fingerprint, anchors, at) VALUES (?,?,?,?,?)",
                (sketch.lead_id, sketch.case_id, sketch.fingerprint, array("I", sketch.anchors).tobytes(), sketch.at),
            )
        super().put(sketch, max_postings)

