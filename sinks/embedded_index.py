"""The embedded index: leads and cases in one SQLite file with FTS5 (an index of characters with
their positions, so Chinese text is found without word segmentation and terms of any length are
phrases of characters, see sinks/short_terms.py), for embedded mode. Also holds the route stage's state
(case membership, dedup sketches) and the dead letters, so one file is the whole installation and it
survives restarts.

Writes follow the search sink's rules: documents keyed by lead/case id (a replay changes nothing),
case membership from the route stage never overwrites an officer's assignment, case events go
through the status machine and an illegal one becomes a dead letter.

This module is the file's schema and its write side; the text indexes are sinks/embedded_text.py, the
case book's rows sinks/embedded_book.py, the steps from older schemas sinks/embedded_migrations.py, and
searches over it leadhub/readers/embedded.py.
"""

from __future__ import annotations

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
from sinks.embedded_book import BOOK_TEXT, TEXT_IN_CASE, book_case, book_doc, book_dump
from sinks.embedded_docs import EmbeddedIndexError, dump, load, pack_sql, sketch_row, unpack, unpack_sql
from sinks.embedded_migrations import MIGRATIONS
from sinks.embedded_text import borrowable, fts_values, index_text, lend_text, own_text
from sinks.hot_issue_documents import apply_hot_issue
from sinks.hotspot_documents import apply_hotspot

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
# 8: one text index of characters with positions (sinks/short_terms.py) instead of the trigram and
#    short-term indexes, the body its first column (sinks/embedded_text.py): 2.9 -> 0.9 KB a lead.
# 9: documents packed in GB18030, not UTF-8 (sinks/embedded_docs.py; older blobs still read).
# 10: narrower tables: the case book WITHOUT ROWID (its key was held twice), a sketch's case id NULL
#     when it is the lead's and its hex fingerprint as bytes, no indexes of leads.case_id and
#     cases.first_seen (their searches read the narrow tables' indexes); pages of 8 KB (PAGE_SIZE).
# 11: hot_issues.repeats (leads - reporters), what the raised-again list sorts by.
SCHEMA_VERSION = 11
# The steps up to this one free pages (packing, merging, narrower tables): a file migrated from before it
# is rewritten; later steps add little, and a rewrite of a big file takes minutes.
REWRITTEN_BEFORE = 10
# A document (0.5-1 KB) to a row: in 4 KB pages a fifth of the pages of leads was the space left
# at their ends; 8 KB halves it. (Set on a new file; an older one is rewritten with it when migrated.)
PAGE_SIZE = 8192

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS leads (
    rowid INTEGER PRIMARY KEY, lead_id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL,
    case_id TEXT, channel TEXT, source TEXT, category1 TEXT, category2 TEXT, department TEXT,
    town TEXT, community TEXT, lang TEXT, needs_triage INTEGER, priority INTEGER,
    reported REAL  -- POSIX time of publication, else of fetching
);
CREATE INDEX IF NOT EXISTS leads_reported ON leads(reported);
CREATE VIRTUAL TABLE IF NOT EXISTS leads_fts USING fts5(title, text, location_text, address, tokenize='trigram');
CREATE TABLE IF NOT EXISTS cases (
    rowid INTEGER PRIMARY KEY, case_id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL,
    status TEXT, category1 TEXT, category2 TEXT, department TEXT, town TEXT, community TEXT,
    priority INTEGER, report_count INTEGER, first_seen REAL, last_seen REAL, due_at REAL,
    text_lead INTEGER  -- see TEXT_LEAD
);
CREATE VIRTUAL TABLE IF NOT EXISTS cases_fts USING fts5(title, summary, resolution, address, tokenize='trigram');
CREATE TABLE IF NOT EXISTS dead_letters (id INTEGER PRIMARY KEY, stage TEXT, error_type TEXT, error TEXT, at TEXT, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS case_book (case_id TEXT PRIMARY KEY, doc NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hotspots (
    hotspot_id TEXT PRIMARY KEY, doc TEXT NOT NULL, kind TEXT, status TEXT,
    detected REAL  -- POSIX time the detector fired (newest first)
);
CREATE INDEX IF NOT EXISTS hotspots_detected ON hotspots(detected);
CREATE TABLE IF NOT EXISTS hot_issues (
    issue_id TEXT PRIMARY KEY, doc TEXT NOT NULL, heat REAL, leads INTEGER,
    last_seen REAL,  -- POSIX time of its latest lead
    repeats INTEGER  -- leads - reporters: the raised-again list's order (schema 11)
);
CREATE INDEX IF NOT EXISTS hot_issues_last_seen ON hot_issues(last_seen);
-- A lead's named entities (Lead.entities), one row each: the entity filter and facet. Leads stored
-- before entities existed have none, so a file made before needs no migration.
CREATE TABLE IF NOT EXISTS lead_entities (entity TEXT NOT NULL, lead_id TEXT NOT NULL, PRIMARY KEY (entity, lead_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS lead_entities_lead ON lead_entities(lead_id);
CREATE TABLE IF NOT EXISTS dedup_sketches (
    seq INTEGER PRIMARY KEY, lead_id TEXT NOT NULL UNIQUE,
    case_id TEXT,  -- NULL: the lead's own id (a case's founding lead: nearly all of them)
    fingerprint NOT NULL,  -- a hex fingerprint as its bytes (sketch_row), any other as text
    anchors BLOB NOT NULL, at REAL
);
"""


LEAD_COLUMNS = ("lead_id", "doc", "case_id", "channel", "source", "category1", "category2", "department", "town",
                "community", "lang", "needs_triage", "priority", "reported")  # fmt: skip
CASE_COLUMNS = ("case_id", "doc", "status", "category1", "category2", "department", "town", "community", "priority",
                "report_count", "first_seen", "last_seen", "due_at")  # fmt: skip


def _upsert(
    db: sqlite3.Connection, table: str, key: str, columns: tuple[str, ...], row: tuple, doc: dict[str, Any],
    stored: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    """Insert or replace a document row by its id (``row``: its columns, the packed document second),
    and its text index rows under the same rowid (a case's: none while it reads its lead's, TEXT_LEAD).
    ``stored``: the document the row holds, when the caller has read it in this transaction already
    (a routed lead's case was read, unpacked and parsed three times)."""
    cases = table == "cases"
    found = db.execute(f"SELECT rowid, {'NULL' if stored else 'doc'}{', text_lead' if cases else ''} FROM {table} WHERE {key} = ?",  # noqa: S608
                       (row[0],)).fetchone()  # fmt: skip
    old = fts_values(table, stored or load(found[1])) if found else None
    new = fts_values(table, doc)
    lent = found[2] if cases and found else None
    if cases and (found is None or old != new):
        lent = borrowable(db, row[0], new)
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
        index_text(db, table, rowid, None if found is None or found[2] is not None else old, None if lent is not None else new)
        return
    index_text(db, table, rowid, old, new)
    if found is not None and old != new:
        own_text(db, rowid)
    elif found is None:
        lend_text(db, row[0], rowid, new)


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
            leads = db.execute("SELECT count(*) FROM leads").fetchone()[0] if version < REWRITTEN_BEFORE else 0
            if leads:
                log.warning("embedded index %s: schema %d -> %d, %d leads (packing documents, rebuilding or merging "
                            "the text indexes: up to a few minutes a 100,000 leads; the file is rewritten after)",
                            self.path, version, SCHEMA_VERSION, leads)  # fmt: skip
            for step in range(version + 1, SCHEMA_VERSION + 1):
                try:
                    MIGRATIONS[step](db)
                except sqlite3.DatabaseError as exc:  # rolled back whole: the file is as it was
                    raise EmbeddedIndexError(
                        f"{self.path}: moving it from schema {version} to {SCHEMA_VERSION} failed at step {step} ({exc}); "
                        "the file is unchanged: keep a copy of it and report this, or run the leadhub it was made with"
                    ) from exc
            db.execute("INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       (str(SCHEMA_VERSION),))  # fmt: skip
        if leads and version < REWRITTEN_BEFORE:
            # Packing (5) frees more than half of the pages, merging (6) a fifth of the text indexes';
            # without a rewrite the file keeps its size.
            self._rewrite()
            log.warning("embedded index %s: migrated and rewritten, %d bytes", self.path, self.path.stat().st_size)

    def _rewrite(self) -> None:
        """VACUUM, in PAGE_SIZE pages: the page size of a file in WAL mode changes only out of it, which
        needs no other connection open; with one, the file is rewritten in the pages it has."""
        with self.write_lock:
            db = self.db
            if db.execute("PRAGMA page_size").fetchone()[0] != PAGE_SIZE:
                try:
                    left = db.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
                except sqlite3.OperationalError:  # another connection has the file open
                    left = False
                if left:
                    db.execute(f"PRAGMA page_size={PAGE_SIZE}")
                else:
                    log.warning("embedded index %s: open elsewhere, rewritten in the pages it has", self.path)
            db.execute("VACUUM")
            db.execute("PRAGMA journal_mode=WAL")

    @property
    def db(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            connection.execute(f"PRAGMA page_size={PAGE_SIZE}")  # a new file's (an existing one keeps its own)
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
            lead.lead_id, dump(doc), lead.case_id, lead.channel, lead.source,
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
                stored = load(found[0]) if found else None
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
                               (dump({**load(booked[0]), **routing}), case_id))  # fmt: skip
        return written[0], written[1]

    def case_document(self, case_id: str, db: sqlite3.Connection | None = None) -> dict[str, Any] | None:
        found = (db or self.db).execute("SELECT doc FROM cases WHERE case_id = ?", (case_id,)).fetchone()
        return load(found[0]) if found else None

    def _store_case(self, db: sqlite3.Connection, doc: dict[str, Any], stored: dict[str, Any] | None = None) -> None:
        """``stored``: the document the row holds, if read already (_upsert)."""
        case = Case.model_validate(doc)
        category, place = case.category, case.place
        row = (
            case.case_id, dump(doc), case.status.value,
            category.level1 if category else None, category.level2 if category else None, case.department,
            place.town if place else None, place.community if place else None, case.priority, case.report_count,
            _epoch(case.first_seen), _epoch(case.last_seen), _epoch(case.due_at),
        )  # fmt: skip
        _upsert(db, "cases", "case_id", CASE_COLUMNS, row, doc, stored)

    def write_case_state(self, case: Case, offset: int | None = None) -> None:
        """The route stage's view of the case (membership); status and handling stay as events made them.
        ``offset``: the snapshot's position, when it has one (the local runner's have none)."""
        with self.transaction() as db:
            doc = self.case_document(case.case_id, db)
            new = apply_case_state(doc, case, offset)  # a new dict: doc stays what the row holds
            if new != doc:
                self._store_case(db, new, doc)
            if doc is None:  # a new case: its book row was written before its document (IndexCaseBook.put)
                self._drop_book_text(db, case.case_id, new)

    @staticmethod
    def _drop_book_text(db: sqlite3.Connection, case_id: str, held: dict[str, Any]) -> None:
        found = db.execute("SELECT doc FROM case_book WHERE case_id = ?", (case_id,)).fetchone()
        if found is None:
            return
        fields = load(found[0])
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
            f" OR rowid IN (SELECT rowid FROM leads_facets WHERE case_id IN ({','.join('?' * len(case_ids))}))", (*ids, *case_ids),
        ).fetchall()  # fmt: skip
        category = decision["category"] or {}
        for lead_id, text in rows:
            doc = {**load(text), **decision}
            db.execute(
                "UPDATE leads SET doc = ?, category1 = ?, category2 = ?, department = ?, needs_triage = 0 WHERE lead_id = ?",
                (dump(doc), category.get("level1"), category.get("level2"), decision["department"], lead_id),
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
            (doc["hotspot_id"], dump(doc), doc["kind"], doc["status"], detected),
        )

    def hotspot_document(self, hotspot_id: str, db: sqlite3.Connection | None = None) -> dict[str, Any] | None:
        found = (db or self.db).execute("SELECT doc FROM hotspots WHERE hotspot_id = ?", (hotspot_id,)).fetchone()
        return load(found[0]) if found else None

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
        return [load(row[0]) for row in rows]

    # --- hot issues (sinks/hot_issue_documents.py; read by leadhub/hot_issues_store.py) -------------

    def write_hot_issue(self, issue: HotIssue) -> None:
        with self.transaction() as db:
            found = db.execute("SELECT doc FROM hot_issues WHERE issue_id = ?", (issue.issue_id,)).fetchone()
            doc = load(found[0]) if found else None
            new = apply_hot_issue(doc, issue)
            if new != doc:
                db.execute(
                    "INSERT INTO hot_issues (issue_id, doc, heat, leads, last_seen, repeats) VALUES (?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT(issue_id) DO UPDATE SET doc = excluded.doc, heat = excluded.heat, leads = excluded.leads,"
                    " last_seen = excluded.last_seen, repeats = excluded.repeats",
                    (issue.issue_id, dump(new), issue.heat, issue.leads, _epoch(issue.last_seen), issue.repeats),
                )

    def hot_issue_documents(
        self, *, since: float | None = None, until: float | None = None, limit: int | None = 10, min_repeats: int | None = None
    ) -> list[dict[str, Any]]:
        """Hottest first (then the latest lead newest first); ``since``/``until``: POSIX times, the latest
        lead at or after / before; ``limit`` None: all. ``min_repeats``: the raised-again list instead,
        those with at least that many repeats, the most first (then as above)."""
        where: list[str] = []
        args: list[Any] = []
        for clause, value in (("last_seen >= ?", since), ("last_seen < ?", until), ("repeats >= ?", min_repeats)):
            if value is not None:
                where.append(clause)
                args.append(value)
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        order = "repeats DESC, " if min_repeats is not None else ""
        rows = self.db.execute(
            f"SELECT doc FROM hot_issues {clause}ORDER BY {order}heat DESC, last_seen DESC, issue_id LIMIT ?",  # noqa: S608 - fixed columns
            (*args, -1 if limit is None else limit),
        ).fetchall()
        return [load(row[0]) for row in rows]

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
                (case.case_id, book_doc(book_dump(case), load(held[0]) if held else None)),
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
            "SELECT lead_id, ifnull(case_id, lead_id), fingerprint, anchors, at FROM dedup_sketches ORDER BY seq"
        ):
            packed = array("I")
            packed.frombytes(anchors)
            super().put(Sketch(lead_id, case_id, fp.hex() if isinstance(fp, bytes) else fp, packed, at), max_postings)

    def put(self, sketch: Sketch, max_postings: int) -> None:
        with self.index.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO dedup_sketches (lead_id, case_id, fingerprint, anchors, at) VALUES (?,?,?,?,?)",
                sketch_row(sketch.lead_id, sketch.case_id, sketch.fingerprint, array("I", sketch.anchors).tobytes(), sketch.at),
            )
        super().put(sketch, max_postings)

