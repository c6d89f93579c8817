"""Retention on the embedded index (leadhub retention run; the rules are schemas/retention.py).

Everything a removed contact or lead left in the file goes too: the document (leads.doc, the only
copy of the contact: normalize masks the reporter's own details in the text, and the full-text tables
hold no text since schema 5), the trigram and short-term index rows (removed with the text the
document gives, as the index writes them), entities and dedup sketches of deleted leads,
case documents and the route stage's case book, and dead letters (their original bytes come from
before masking). The run zeroes what it frees (secure_delete); ``vacuum`` then rewrites the file, so
no old page or copy made before the run (a document rewritten by a replay or recategorize) keeps a
contact, and truncates the write-ahead log.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from schemas.retention import FINISHED, Cutoffs, case_expired, stored_photos
from sinks.embedded_docs import load
from sinks.embedded_index import EmbeddedIndex
from sinks.embedded_text import fts_values, optimize_text_indexes, remove_text

Archive = Callable[[str, dict[str, Any]], None]  # (kind, document) before it is deleted
CHUNK = 500


@dataclass
class EmbeddedOutcome:
    contacts: int = 0
    dead_letters: int = 0
    cases: int = 0
    leads: int = 0
    photos: list[str] = field(default_factory=list)  # stored photo ids of deleted leads (the caller removes the files)

    @property
    def changed(self) -> bool:
        return bool(self.contacts or self.dead_letters or self.cases or self.leads)


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _delete_row(db: sqlite3.Connection, table: str, rowid: int, doc: dict[str, Any]) -> None:
    """A document row (``doc``: the document it holds, read once by the caller) and its rows in the
    text index (as sinks/embedded_index._upsert keeps them: removed with the text its document gives)."""
    remove_text(db, table, rowid, fts_values(table, doc))
    db.execute(f"DELETE FROM {table} WHERE rowid = ?", (rowid,))  # noqa: S608 - fixed names


def _contacts(db: sqlite3.Connection, before: float, apply: bool, skip: set[str] | None = None) -> int:
    where = "reported < ? AND json_extract(doc_json(doc), '$.contact') IS NOT NULL"
    if not apply:
        rows = db.execute(f"SELECT lead_id FROM leads WHERE {where}", (before,))  # noqa: S608
        return sum(1 for (lead_id,) in rows if lead_id not in (skip or ()))
    return db.execute(f"UPDATE leads SET doc = doc_pack(json_set(doc_json(doc), '$.contact', NULL)) WHERE {where}", (before,)).rowcount  # noqa: S608


def _dead_letters(db: sqlite3.Connection, before: dt.datetime, apply: bool) -> int:
    # `at` is the letter's ISO time with its own offset: compared as instants, not as text.
    old = [row_id for row_id, at in db.execute("SELECT id, at FROM dead_letters")
           if at and dt.datetime.fromisoformat(at).astimezone(dt.UTC) < before]  # fmt: skip
    if apply:
        for chunk in _chunks([str(i) for i in old]):
            db.execute(f"DELETE FROM dead_letters WHERE id IN ({','.join('?' * len(chunk))})", [int(i) for i in chunk])  # noqa: S608
    return len(old)


def _expired_cases(db: sqlite3.Connection, before: dt.datetime) -> dict[str, tuple[int, dict[str, Any]]]:
    """Case id -> (rowid, document) of the cases to delete, each document read once."""
    # Pre-selected by columns (finished, first seen before the cutoff); the rule itself reads the document.
    rows = db.execute(
        f"SELECT case_id, rowid, doc FROM cases WHERE rowid IN (SELECT rowid FROM cases_facets WHERE status IN ({','.join('?' * len(FINISHED))})"  # noqa: S608
        " AND first_seen < ?)",
        (*FINISHED, before.timestamp()),
    )
    found = {case_id: (rowid, load(doc)) for case_id, rowid, doc in rows}
    return {case_id: row for case_id, row in found.items() if case_expired(row[1], before)}


def _orphan_leads(db: sqlite3.Connection, before: float) -> list[str]:
    rows = db.execute(
        "SELECT lead_id FROM leads WHERE reported < ? AND (case_id IS NULL"
        " OR NOT EXISTS (SELECT 1 FROM cases WHERE cases.case_id = leads.case_id))",
        (before,),
    )
    return [row[0] for row in rows]


def _delete_leads(db: sqlite3.Connection, lead_ids: list[str], archive: Archive | None, out: EmbeddedOutcome) -> None:
    for chunk in _chunks(lead_ids):
        marks = ",".join("?" * len(chunk))
        for rowid, text in db.execute(f"SELECT rowid, doc FROM leads WHERE lead_id IN ({marks})", chunk).fetchall():  # noqa: S608
            doc = load(text)
            if archive is not None:
                archive("lead", doc)
            out.photos.extend(stored_photos(doc))
            _delete_row(db, "leads", rowid, doc)
            out.leads += 1
        db.execute(f"DELETE FROM lead_entities WHERE lead_id IN ({marks})", chunk)  # noqa: S608
        db.execute(f"DELETE FROM dedup_sketches WHERE lead_id IN ({marks})", chunk)  # noqa: S608


def apply_retention(
    index: EmbeddedIndex, cutoffs: Cutoffs, *, apply: bool, archive: Archive | None = None, vacuum: bool = True
) -> EmbeddedOutcome:
    """One run: contacts and dead letters before ``cutoffs.contact``, finished cases and unkept leads
    before ``cutoffs.lead``. ``apply`` False counts the same without changing anything (--dry-run)."""
    out = EmbeddedOutcome()
    with index.write_lock:
        index.db.execute("PRAGMA secure_delete = ON")  # what this run frees is zeroed, not left in free pages
        try:
            _run(index, cutoffs, apply, archive, out)
        finally:
            index.db.execute("PRAGMA secure_delete = OFF")
    if apply and out.changed:
        _compact(index, vacuum=vacuum)
    elif apply:  # the nightly pass also merges what the day's leads added to the text indexes (smaller file)
        with index.write_lock:
            optimize_text_indexes(index.db)
    return out


def _run(index: EmbeddedIndex, cutoffs: Cutoffs, apply: bool, archive: Archive | None, out: EmbeddedOutcome) -> None:
    doomed: set[str] = set()
    with index.transaction() as db:
        if cutoffs.lead is not None:
            cases = _expired_cases(db, cutoffs.lead)
            case_leads: list[str] = []
            for chunk in _chunks(list(cases)):
                case_leads += [row[0] for row in db.execute(
                    f"SELECT lead_id FROM leads_facets WHERE case_id IN ({','.join('?' * len(chunk))})", chunk)]  # noqa: S608  # fmt: skip
            if apply:
                for case_id, (rowid, doc) in cases.items():
                    if archive is not None:
                        archive("case", doc)
                    _delete_row(db, "cases", rowid, doc)
                    out.cases += 1
                    db.execute("DELETE FROM case_book WHERE case_id = ?", (case_id,))
                _delete_leads(db, case_leads, archive, out)
                _delete_leads(db, _orphan_leads(db, cutoffs.lead.timestamp()), archive, out)
            else:
                out.cases = len(cases)
                orphans = set(_orphan_leads(db, cutoffs.lead.timestamp()))
                doomed = set(case_leads) | orphans
                out.leads = len(doomed)
                for chunk in _chunks(sorted(doomed)):
                    for (text,) in db.execute(f"SELECT doc FROM leads WHERE lead_id IN ({','.join('?' * len(chunk))})", chunk):  # noqa: S608
                        out.photos.extend(stored_photos(load(text)))
        # After the deletions, so the counts say what stays without a contact (a dry run counts the
        # deleted leads out the same way).
        if cutoffs.contact is not None:
            out.contacts = _contacts(db, cutoffs.contact.timestamp(), apply, skip=None if apply else doomed)
            out.dead_letters = _dead_letters(db, cutoffs.contact, apply)


def _compact(index: EmbeddedIndex, *, vacuum: bool) -> None:
    """Leave no byte of what was removed: merge the full-text indexes (their segments keep deleted rows'
    postings until merged), rewrite the file, empty the write-ahead log."""
    with index.write_lock:
        db = index.db
        optimize_text_indexes(db)  # also the day's new segments, not only what was deleted
        if vacuum:
            db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
