"""Packed documents and contentless text indexes in the embedded index (schema 5): documents round
trip, the text is held once (in the documents), a rewrite or a delete leaves no stale match, a file of
schema 4 (JSON text, trigram tables with their own copy) is migrated on open, and a batch is one
transaction whose failed writes leave nothing."""

from __future__ import annotations

import json
import sqlite3

import pytest

from leadhub.queries import SearchRequest
from leadhub.readers.embedded import EmbeddedStore
from schemas.leads import Category, Lead, Place
from sinks.embedded_docs import pack, unpack
from sinks.embedded_index import SCHEMA_VERSION, EmbeddedIndex
from sinks.embedded_text import FTS_COLUMNS, fts_values

TEXTS = ["小区物业不作为，电梯停运三天", "路灯不亮，晚上看不见路", "噪音扰民，装修到半夜", "Noise at night, café"]


def _lead(i: int, text: str | None = None) -> Lead:
    return Lead(
        lead_id=f"l{i}", source="board", channel="complaint_platform", external_id=f"e{i}", title="",
        text=text or TEXTS[i % len(TEXTS)], fetched_at="2026-12-01T00:00:00Z", case_id=f"l{i}",
        category=Category(level1="城乡建设"), place=Place(town="稠城街道", address=f"{i}号楼"),
    )  # fmt: skip


def _found(index: EmbeddedIndex, q: str) -> list[str]:
    return sorted(h["lead_id"] for h in EmbeddedStore(index).search(SearchRequest(kind="leads", q=q)).hits)


def test_a_packed_document_reads_back_the_same_and_a_text_one_still_reads():
    text = json.dumps({"lead_id": "x", "text": "电梯停运 é ☃", "contact": {"phone": "13900000000"}}, ensure_ascii=False)
    packed = pack(text)
    assert isinstance(packed, bytes) and b"13900000000" not in packed and unpack(packed) == text
    assert unpack(text) == text  # a document from before schema 5


def test_a_document_packed_with_an_unknown_dictionary_is_refused_with_what_to_do():
    with pytest.raises(ValueError, match="upgrade leadhub"):
        unpack(b"\xff" + pack("{}")[1:])


def test_documents_are_packed_and_the_text_indexes_hold_no_text(tmp_path):
    index = EmbeddedIndex(tmp_path / "e.sqlite")
    for i in range(4):
        index.write_lead(_lead(i))
    db = index.db
    assert {row[0] for row in db.execute("SELECT typeof(doc) FROM leads")} == {"blob"}
    assert [row[0] for row in db.execute("SELECT count(*) FROM leads_fts")] == [4]
    assert db.execute("SELECT text FROM leads_fts WHERE rowid = 1").fetchone()[0] is None  # contentless
    assert not db.execute("SELECT name FROM sqlite_master WHERE name = 'leads_fts_content'").fetchall()
    assert _found(index, "电梯停运") == ["l0"] and _found(index, "路") == ["l1"] and _found(index, "2号楼") == ["l2"]
    assert _found(index, "café") == ["l3"]


def test_a_rewritten_lead_is_found_by_its_new_text_only_and_a_deleted_one_not_at_all(tmp_path):
    from sinks.embedded_text import remove_text

    index = EmbeddedIndex(tmp_path / "e.sqlite")
    for i in range(3):
        index.write_lead(_lead(i))
    index.write_lead(_lead(0, "垃圾清运不及时"))
    assert _found(index, "电梯停运") == [] and _found(index, "电梯") == [] and _found(index, "垃圾清运") == ["l0"]
    index.write_lead(_lead(0, "垃圾清运不及时"))  # the same text again: nothing to change
    assert _found(index, "垃圾") == ["l0"]
    with index.transaction() as db:
        rowid, doc = db.execute("SELECT rowid, doc FROM leads WHERE lead_id = 'l1'").fetchone()
        remove_text(db, "leads", rowid, fts_values("leads", json.loads(unpack(doc))))
        db.execute("DELETE FROM leads WHERE rowid = ?", (rowid,))
    assert _found(index, "路灯") == [] and _found(index, "路") == []
    # the index agrees with the documents: FTS5's own check of a contentless table is not available,
    # so every trigram of every stored text is searched for and finds its row
    for lead_id, doc in index.db.execute("SELECT lead_id, doc_json(doc) FROM leads").fetchall():
        text = json.loads(doc)["text"]
        assert lead_id in _found(index, f'"{text[:5]}"')


def _to_schema_4(path) -> None:
    """What a leadhub of schema 4 left: documents as JSON text, trigram tables holding their own copy."""
    db = sqlite3.connect(path, isolation_level=None)
    db.create_function("doc_json", 1, unpack)
    db.execute("BEGIN")
    for table, fts in FTS_COLUMNS.items():
        rows = [
            (rowid, fts_values(table, json.loads(unpack(doc)))) for rowid, doc in db.execute(f"SELECT rowid, doc FROM {table}")
        ]  # noqa: S608
        db.execute(f"DROP TABLE {table}_fts")
        db.execute(f"CREATE VIRTUAL TABLE {table}_fts USING fts5({', '.join(fts)}, tokenize='trigram')")
        db.executemany(
            f"INSERT INTO {table}_fts (rowid, {', '.join(fts)}) VALUES (?{',?' * len(fts)})", [(r, *v) for r, v in rows]
        )  # noqa: S608
        for event in ("insert", "update", "delete"):
            db.execute(f"DROP TRIGGER {table}_facets_{event}")  # schema 4's read the text with json_extract
    for table in ("leads", "cases", "case_book"):
        db.execute(f"UPDATE {table} SET doc = doc_json(doc)")  # noqa: S608
    db.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    db.execute("COMMIT")
    db.close()


def test_a_schema_4_file_is_migrated_on_open_and_stays_searchable_and_writable(tmp_path):
    path = tmp_path / "e.sqlite"
    index = EmbeddedIndex(path)
    for i in range(4):
        index.write_lead(_lead(i))
    index.close()
    _to_schema_4(path)
    plain = sqlite3.connect(path)
    assert plain.execute("SELECT typeof(doc) FROM leads").fetchall() == [("text",)] * 4
    assert plain.execute("SELECT count(*) FROM leads_fts_content").fetchone()[0] == 4
    plain.close()

    reopened = EmbeddedIndex(path)
    db = reopened.db
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    assert {row[0] for row in db.execute("SELECT typeof(doc) FROM leads")} == {"blob"}
    assert not db.execute("SELECT name FROM sqlite_master WHERE name = 'leads_fts_content'").fetchall()
    assert _found(reopened, "电梯停运") == ["l0"] and _found(reopened, "水") == [] and _found(reopened, "噪音") == ["l2"]
    assert db.execute("SELECT count(*) FROM leads_facets").fetchone()[0] == 4
    reopened.write_lead(_lead(0, "供水管道破裂"))  # rewritten after the migration: the old text leaves the index
    assert _found(reopened, "电梯") == [] and _found(reopened, "水") == ["l0"]
    assert db.execute("SELECT town FROM leads_facets WHERE lead_id = 'l0'").fetchone()[0] == "稠城街道"


def test_a_batch_is_one_transaction_and_an_event_refused_inside_it_leaves_nothing(tmp_path):
    from schemas.cases import CaseEvent
    from schemas.errors import RecordError

    index = EmbeddedIndex(tmp_path / "e.sqlite")
    other = sqlite3.connect(tmp_path / "e.sqlite")
    with index.batch():
        index.write_lead(_lead(0))
        with index.transaction(savepoint=True) as db:  # a savepoint's work stays when it succeeds
            db.execute("INSERT INTO dead_letters (stage, doc) VALUES ('x', '{}')")
        with pytest.raises(RecordError):  # no such case yet: closing it is an illegal transition
            index.apply_event(CaseEvent(case_id="c0", action="close", actor="t", at="2026-12-01T00:00:00Z"))
        index.write_lead(_lead(1))
        assert other.execute("SELECT count(*) FROM leads").fetchone()[0] == 0  # not committed yet
    assert other.execute("SELECT count(*) FROM leads").fetchone()[0] == 2
    assert other.execute("SELECT count(*) FROM dead_letters").fetchone()[0] == 1
    assert other.execute("SELECT count(*) FROM cases").fetchone()[0] == 0


def _pack_utf8(text: str) -> bytes:
    """A document as schemas 5-8 packed it (tag 1: the dictionary, UTF-8)."""
    import zlib

    from sinks.embedded_docs import _DICTIONARY_1

    deflate = zlib.compressobj(6, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, _DICTIONARY_1)
    return b"\x01" + deflate.compress(text.encode()) + deflate.flush()


def test_documents_are_packed_in_gb18030_which_round_trips_every_code_point_and_older_blobs_still_read():
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert unpack(pack(every)) == every
    text = json.dumps({"text": "小区物业不作为，电梯停运三天 é ☃ 𠀀"}, ensure_ascii=False)
    assert pack(text)[0] == 2 and unpack(_pack_utf8(text)) == text
    assert len(pack(text)) < len(_pack_utf8(text))  # two bytes a Chinese character, not three


def test_a_schema_8_file_has_its_documents_packed_again_on_open(tmp_path):
    path = tmp_path / "e.sqlite"
    index = EmbeddedIndex(path)
    for i in range(4):
        index.write_lead(_lead(i))
    before = {lead_id: unpack(doc) for lead_id, doc in index.db.execute("SELECT lead_id, doc FROM leads")}
    with index.transaction() as db:  # as schema 8 left them: UTF-8 blobs
        for table, key in (("leads", "lead_id"), ("cases", "case_id"), ("case_book", "case_id")):
            for value, doc in db.execute(f"SELECT {key}, doc FROM {table}").fetchall():  # noqa: S608
                db.execute(f"UPDATE {table} SET doc = ? WHERE {key} = ?", (_pack_utf8(unpack(doc)), value))  # noqa: S608
        db.execute("UPDATE meta SET value = '8' WHERE key = 'schema_version'")
    index.close()
    reopened = EmbeddedIndex(path)
    db = reopened.db
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    for table in ("leads", "cases", "case_book"):
        assert db.execute(f"SELECT count(*) FROM {table} WHERE substr(doc, 1, 1) != x'02'").fetchone()[0] == 0  # noqa: S608
    assert {lead_id: unpack(doc) for lead_id, doc in db.execute("SELECT lead_id, doc FROM leads")} == before
    assert db.execute("SELECT count(*) FROM leads_facets").fetchone()[0] == 4
    assert _found(reopened, "电梯停运") == ["l0"] and _found(reopened, "2号楼") == ["l2"]
