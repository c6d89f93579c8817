"""The embedded index's narrower tables (schema 10): the case book WITHOUT ROWID, dedup sketches
holding a case id only when it is not the lead's and hex fingerprints as bytes, both reading back
what was written; pages of 8 KB in a new file; a schema 9 file is migrated on open (rewritten in
8 KB pages) with the same sketches, book rows and searches."""

from __future__ import annotations

from array import array

from enrichers.dedup import Sketch
from leadhub.queries import SearchRequest
from leadhub.readers.embedded import EmbeddedStore
from schemas.cases import Case
from schemas.leads import Lead
from sinks.embedded_index import PAGE_SIZE, SCHEMA_VERSION, EmbeddedIndex, IndexCaseBook, PersistentDedupState

SKETCHES = [
    Sketch("a1b2", "a1b2", "0f" * 16, array("I", [3, 70, 9000]), 1.5),  # a case's founding lead
    Sketch("l2", "a1b2", "ABCDEF", array("I", [3, 8]), None),  # joined it; a fingerprint not in lower-case hex
    Sketch("l3", "l3", "", array("I"), 2.0),
]


def _sketches(state: PersistentDedupState) -> list[Sketch]:
    return [state.get(s.lead_id) for s in SKETCHES]


def _filled(path) -> EmbeddedIndex:
    index = EmbeddedIndex(path)
    state = PersistentDedupState(index, 32)
    for sketch in SKETCHES:
        state.put(sketch, 32)
    index.write_lead(Lead(lead_id="a1b2", source="board", channel="complaint_platform", external_id="e1", title="电梯停运",
                          text="幸福小区3号楼电梯停运", fetched_at="2024-05-01T08:00:00+08:00", fingerprint="0f" * 16, case_id="a1b2"))  # fmt: skip
    case = Case(case_id="a1b2", title="电梯停运", summary="幸福小区3号楼电梯停运", lead_ids=["a1b2"], report_count=1,
                first_seen="2024-05-01T00:00:00Z", last_seen="2024-05-01T00:00:00Z")  # fmt: skip
    IndexCaseBook(index).put(case)
    index.write_case_state(case)
    return index


def test_sketches_and_book_rows_read_back_what_was_written_and_hold_less(tmp_path):
    index = _filled(tmp_path / "e.sqlite")
    rows = index.db.execute("SELECT lead_id, case_id, typeof(fingerprint) FROM dedup_sketches ORDER BY seq").fetchall()
    assert rows == [("a1b2", None, "blob"), ("l2", "a1b2", "text"), ("l3", None, "text")]
    assert _sketches(PersistentDedupState(index, 32)) == [*SKETCHES]  # a restart replays the same
    assert IndexCaseBook(index).get("a1b2").summary == "幸福小区3号楼电梯停运"
    assert index.db.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE


def _to_schema_9(index: EmbeddedIndex) -> None:
    with index.transaction() as db:
        db.execute("ALTER TABLE case_book RENAME TO b")
        db.execute("CREATE TABLE case_book (case_id TEXT PRIMARY KEY, doc TEXT NOT NULL)")
        db.execute("INSERT INTO case_book SELECT * FROM b")
        db.execute("DROP TABLE b")
        db.execute("ALTER TABLE dedup_sketches RENAME TO d")
        db.execute("CREATE TABLE dedup_sketches (seq INTEGER PRIMARY KEY, lead_id TEXT NOT NULL UNIQUE, case_id TEXT NOT NULL, "
                   "fingerprint TEXT NOT NULL, anchors BLOB NOT NULL, at REAL)")  # fmt: skip
        db.execute("INSERT INTO dedup_sketches SELECT seq, lead_id, ifnull(case_id, lead_id), "
                   "CASE WHEN typeof(fingerprint) = 'blob' THEN lower(hex(fingerprint)) ELSE fingerprint END, anchors, at FROM d")  # fmt: skip
        db.execute("DROP TABLE d")
        db.execute("CREATE INDEX leads_case ON leads(case_id)")
        db.execute("CREATE INDEX cases_first_seen ON cases(first_seen)")
        db.execute("UPDATE meta SET value = '9' WHERE key = 'schema_version'")
    index.db.execute("PRAGMA journal_mode=DELETE")
    index.db.execute("PRAGMA page_size=4096")
    index.db.execute("VACUUM")
    index.close()


def test_a_schema_9_file_is_migrated_on_open_with_the_same_sketches_book_and_searches(tmp_path):
    path = tmp_path / "e.sqlite"
    _to_schema_9(_filled(path))
    index = EmbeddedIndex(path)
    db = index.db
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    assert db.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE and db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert "WITHOUT ROWID" in db.execute("SELECT sql FROM sqlite_master WHERE name = 'case_book'").fetchone()[0]
    assert not db.execute("SELECT name FROM sqlite_master WHERE name IN ('leads_case', 'cases_first_seen')").fetchall()
    assert db.execute("SELECT case_id FROM dedup_sketches ORDER BY seq").fetchall() == [(None,), ("a1b2",), (None,)]
    assert _sketches(PersistentDedupState(index, 32)) == [*SKETCHES]
    assert IndexCaseBook(index).get("a1b2").summary == "幸福小区3号楼电梯停运"
    store = EmbeddedStore(index)
    assert store.search(SearchRequest(kind="cases", q="电梯停运")).total == 1
    assert store.search(SearchRequest(kind="leads", q="梯 -水")).total == 1


def test_a_file_open_elsewhere_is_migrated_and_rewritten_in_the_pages_it_has(tmp_path, caplog):
    import sqlite3

    path = tmp_path / "e.sqlite"
    _to_schema_9(_filled(path))
    other = sqlite3.connect(path)  # another process's connection: the file cannot leave WAL mode now
    other.execute("PRAGMA journal_mode=WAL")
    other.execute("SELECT count(*) FROM leads").fetchone()
    index = EmbeddedIndex(path)
    db = index.db
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    assert db.execute("PRAGMA page_size").fetchone()[0] == 4096 and db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert "open elsewhere" in caplog.text
    assert EmbeddedStore(index).search(SearchRequest(kind="cases", q="电梯停运")).total == 1
    other.close()
