"""The embedded index's case book and text indexes (schema 6): the book holds only what the case
document does not (its text is read back from the document), through the pipeline and after a
migration of a schema 5 file; merging the text indexes' segments changes no search. Schema 7: a case whose
indexed values are its founding lead's reads the lead's text rows, with the same matches, until either text
changes or the lead goes; a schema 6 file is migrated with the same totals."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from leadhub.embedded import EmbeddedPipeline
from leadhub.queries import SearchRequest
from leadhub.readers.embedded import EmbeddedStore
from leadhub.settings import build_settings, parse_overrides
from schemas.cases import Case
from schemas.leads import Category, Lead, Place, RawLead
from sinks.embedded_book import TEXT_IN_CASE
from sinks.embedded_docs import pack, unpack
from sinks.embedded_index import SCHEMA_VERSION, EmbeddedIndex, IndexCaseBook
from sinks.embedded_text import fts_values, index_text, optimize_text_indexes, remove_text

POST = "稠城街道绣湖社区幸福小区3号楼的电梯已经停运一周了，物业一直说在等配件。希望有关部门督促物业尽快维修电梯。"


def _stored(index: EmbeddedIndex, case_id: str) -> dict:
    return json.loads(unpack(index.db.execute("SELECT doc FROM case_book WHERE case_id = ?", (case_id,)).fetchone()[0]))


def _case(case_id: str = "c1", summary: str = POST, title: str = "电梯停运") -> Case:
    return Case(case_id=case_id, title=title, summary=summary, lead_ids=[case_id], report_count=1,
                first_seen="2026-12-01T00:00:00Z", last_seen="2026-12-01T00:00:00Z")  # fmt: skip


def test_a_new_cases_book_row_drops_its_text_once_the_document_holds_it_and_reads_back_whole(tmp_path):
    index = EmbeddedIndex(tmp_path / "e.sqlite")
    book = IndexCaseBook(index)
    case = _case()
    book.put(case)  # the route stage writes the book before the sink writes the document
    assert _stored(index, "c1")["summary"] == POST and book.get("c1") == case
    index.write_case_state(case)
    stored = _stored(index, "c1")
    assert stored[TEXT_IN_CASE] is True and "summary" not in stored and "title" not in stored
    assert "history" not in stored  # defaults are left out too
    assert book.get("c1") == case
    grown = case.model_copy(update={"report_count": 2, "lead_ids": ["c1", "l2"]})
    book.put(grown)  # the document holds the text already: left out at once
    assert TEXT_IN_CASE in _stored(index, "c1") and book.get("c1") == grown


def test_a_book_row_keeps_text_the_document_does_not_hold(tmp_path):
    index = EmbeddedIndex(tmp_path / "e.sqlite")
    book = IndexCaseBook(index)
    index.write_case_state(_case())
    other = _case(summary="供水管道破裂", title="")  # differs from the document's: kept in the row
    book.put(other)
    stored = _stored(index, "c1")
    assert TEXT_IN_CASE not in stored and stored["summary"] == "供水管道破裂"
    assert book.get("c1") == other


def test_the_pipeline_leaves_no_case_text_in_the_book(tmp_path):
    settings = build_settings(overrides=parse_overrides(["mode=embedded", f"embedded.path={tmp_path / 'e.sqlite'}"]))
    pipeline = EmbeddedPipeline(settings)
    try:
        pipeline.submit_raw([RawLead(source="forum-yiwu", channel="forum", external_id="1", body=POST, title="电梯停运一周"),
                             RawLead(source="board", channel="complaint_platform", external_id="2", body="路灯不亮，晚上看不见路")])  # fmt: skip
        rows = pipeline.index.db.execute("SELECT b.case_id, b.doc, c.doc FROM case_book b JOIN cases c USING (case_id)").fetchall()
        assert len(rows) == 2
        for case_id, stored, held in rows:
            assert json.loads(unpack(stored)).get(TEXT_IN_CASE) is True
            case, doc = IndexCaseBook(pipeline.index).get(case_id), json.loads(unpack(held))
            assert case is not None and (case.title, case.summary) == (doc["title"], doc["summary"]) and case.summary
    finally:
        pipeline.close()


def _lead(i: int) -> Lead:
    texts = ["小区物业不作为，电梯停运三天", "路灯不亮，晚上看不见路", "噪音扰民，装修到半夜", "Noise at night, café"]
    return Lead(
        lead_id=f"l{i}", source="board", channel="complaint_platform", external_id=f"e{i}", title="",
        text=texts[i % len(texts)] + f" {i}号", fetched_at="2026-12-01T00:00:00Z", case_id=f"l{i}",
        category=Category(level1="城乡建设"), place=Place(town="稠城街道", address=f"{i}号楼"),
    )  # fmt: skip


def _totals(index: EmbeddedIndex) -> dict[str, int]:
    store = EmbeddedStore(index)
    return {f"{kind}:{q}": store.search(SearchRequest(kind=kind, q=q)).total
            for kind in ("leads", "cases") for q in ("电梯停运", "路灯", "水", "噪音 -装修", "café", "7号")}  # fmt: skip


def test_merging_the_text_indexes_shrinks_them_and_changes_no_search(tmp_path):
    index = EmbeddedIndex(tmp_path / "e.sqlite")
    for i in range(24):  # each its own transaction: a segment each
        index.write_lead(_lead(i))
        index.write_case_state(_case(f"l{i}", summary=_lead(i).text, title=""))
    before, rows = _totals(index), index.db.execute("SELECT count(*) FROM leads_fts_data").fetchone()[0]
    with index.transaction() as db:
        optimize_text_indexes(db)
    assert index.db.execute("SELECT count(*) FROM leads_fts_data").fetchone()[0] < rows
    assert _totals(index) == before and before["leads:电梯停运"] == before["cases:电梯停运"] > 0


def test_a_schema_5_file_is_migrated_its_book_rows_lose_the_cases_text(tmp_path):
    path = tmp_path / "e.sqlite"
    index = EmbeddedIndex(path)
    cases = [_case(f"c{i}", summary=f"{POST}{i}") for i in range(3)]
    for case in cases:
        index.write_case_state(case)
    index.close()
    plain = sqlite3.connect(path)  # as schema 5 wrote the book: every field, compact JSON
    plain.create_function("p", 1, lambda text: pack(text))
    for case in cases:
        plain.execute("INSERT INTO case_book VALUES (?, p(?))", (case.case_id, case.model_dump_json()))
    plain.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    plain.commit()
    plain.close()

    reopened = EmbeddedIndex(path)
    assert reopened.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    book = IndexCaseBook(reopened)
    for case in cases:
        assert _stored(reopened, case.case_id)[TEXT_IN_CASE] is True
        assert book.get(case.case_id) == case


# --- schema 7: a case reads its founding lead's text rows when its indexed values are the lead's ---

QUERIES = ("电梯停运", "电梯", "水", "噪音 -装修", "-水", "路灯 -晚上", "3号", "café")


def _case_totals(index: EmbeddedIndex) -> dict[str, tuple[int, list[str]]]:
    store = EmbeddedStore(index)
    out = {}
    for q in QUERIES:
        page = store.search(SearchRequest(kind="cases", q=q, size=100))
        out[q] = (page.total, sorted(h["case_id"] for h in page.hits))
    return out


def _own_rows(index: EmbeddedIndex) -> int:
    return index.db.execute("SELECT count(*) FROM cases WHERE text_lead IS NULL").fetchone()[0]


def _lead_and_case(index: EmbeddedIndex, i: int, text: str, *, summary: str | None = None) -> None:
    lead = _lead(i).model_copy(update={"text": text})
    index.write_lead(lead)
    index.write_case_state(_case(f"l{i}", summary=text if summary is None else summary, title=""))


def test_a_case_with_its_leads_text_has_no_rows_of_its_own_and_is_found_the_same(tmp_path):
    index = EmbeddedIndex(tmp_path / "e.sqlite")
    texts = ["小区物业不作为，电梯停运三天", "路灯不亮，晚上看不见路", "噪音扰民，装修到半夜", "供水管道破裂 3号楼"]
    for i, text in enumerate(texts):
        _lead_and_case(index, i, text)
    _lead_and_case(index, 9, "噪音很大" + "很" * 300, summary=("噪音很大" + "很" * 300)[:300])  # longer than a summary
    assert _own_rows(index) == 5  # the case documents have no address, the leads do: not the same values
    # the same values: a case document with its lead's place
    for i, text in enumerate(texts):
        case = _case(f"l{i}", summary=text, title="").model_copy(update={"place": _lead(i).place})
        index.write_case_state(case)
    assert _own_rows(index) == 1  # only the long one keeps its own
    assert _case_totals(index) == {
        "电梯停运": (1, ["l0"]), "电梯": (1, ["l0"]), "水": (1, ["l3"]), "噪音 -装修": (1, ["l9"]),
        "-水": (4, ["l0", "l1", "l2", "l9"]), "路灯 -晚上": (0, []), "3号": (1, ["l3"]), "café": (0, []),
    }  # fmt: skip
    for q in ("电梯停运", "噪音 -装修", "水"):  # ranked (relevance) pages give the same rows
        assert EmbeddedStore(index).search(SearchRequest(kind="cases", q=q, sort="relevance")).total == _case_totals(index)[q][0]


def test_a_leads_new_text_or_its_deletion_gives_its_case_rows_of_its_own(tmp_path):
    index = EmbeddedIndex(tmp_path / "e.sqlite")
    text = "小区物业不作为，电梯停运三天"
    index.write_lead(_lead(0).model_copy(update={"text": text}))
    index.write_case_state(_case("l0", summary=text, title="").model_copy(update={"place": _lead(0).place}))
    assert _own_rows(index) == 0
    index.write_lead(_lead(0).model_copy(update={"text": "供水管道破裂"}))  # the lead edited; the case keeps its summary
    assert _own_rows(index) == 1
    assert _case_totals(index)["电梯停运"] == (1, ["l0"]) and _case_totals(index)["水"] == (0, [])

    index.write_lead(_lead(1).model_copy(update={"text": "路灯不亮"}))
    index.write_case_state(_case("l1", summary="路灯不亮", title="").model_copy(update={"place": _lead(1).place}))
    assert _own_rows(index) == 1
    with index.transaction() as db:  # retention deleting the lead (its case stays)
        rowid, doc = db.execute("SELECT rowid, doc FROM leads WHERE lead_id = 'l1'").fetchone()
        remove_text(db, "leads", rowid, fts_values("leads", json.loads(unpack(doc))))
        db.execute("DELETE FROM leads WHERE rowid = ?", (rowid,))
    assert _own_rows(index) == 2
    store = EmbeddedStore(index)
    assert store.search(SearchRequest(kind="cases", q="路灯")).total == 1 and store.search(SearchRequest(kind="leads", q="路灯")).total == 0


def test_a_case_written_before_its_lead_reads_the_leads_rows_once_the_lead_is_written(tmp_path):
    index = EmbeddedIndex(tmp_path / "e.sqlite")
    text = "噪音扰民，装修到半夜"
    index.write_case_state(_case("l0", summary=text, title="").model_copy(update={"place": _lead(0).place}))
    assert _own_rows(index) == 1
    index.write_lead(_lead(0).model_copy(update={"text": text}))
    assert _own_rows(index) == 0 and _case_totals(index)["噪音 -装修"] == (0, []) and _case_totals(index)["-水"] == (1, ["l0"])
    assert EmbeddedStore(index).search(SearchRequest(kind="cases", q="装修")).total == 1


def test_a_schema_6_file_is_migrated_with_the_same_case_totals(tmp_path):
    path = tmp_path / "e.sqlite"
    index = EmbeddedIndex(path)
    for i, text in enumerate(["小区物业不作为，电梯停运三天", "路灯不亮，晚上看不见路", "噪音扰民，装修到半夜", "供水管道破裂 3号楼"]):
        index.write_lead(_lead(i).model_copy(update={"text": text}))
        index.write_case_state(_case(f"l{i}", summary=text, title="").model_copy(update={"place": _lead(i).place}))
    expected = _case_totals(index)
    with index.transaction() as db:  # as schema 6 kept them: every case with rows of its own
        for rowid, doc in db.execute("SELECT rowid, doc FROM cases WHERE text_lead IS NOT NULL").fetchall():
            index_text(db, "cases", rowid, None, fts_values("cases", json.loads(unpack(doc))))
            db.execute("UPDATE cases SET text_lead = NULL WHERE rowid = ?", (rowid,))
        db.execute("UPDATE meta SET value = '6' WHERE key = 'schema_version'")
    assert _own_rows(index) == 4
    index.close()
    reopened = EmbeddedIndex(path)
    assert _own_rows(reopened) == 0 and _case_totals(reopened) == expected


SCHEMA6_FILE = Path(__file__).parent.parent / "fixtures" / "embedded" / "schema6.sqlite"


def test_a_file_written_by_the_schema_6_leadhub_opens_migrated_with_the_same_answers(tmp_path):
    """tests/fixtures/embedded/schema6.sqlite was written by the leadhub of schema 6 (commit 567e2f7^:
    trigram and short-term indexes, documents packed in UTF-8): 8 leads l0-l7, each its own case, the
    even cases' text their lead's, the odd ones' their own. Opened now it is migrated to the current
    schema and answers as the same leads written afresh do (schema 7's lending once deleted characters
    from the trigram index and could not open it)."""
    copy = tmp_path / "old.sqlite"
    shutil.copy(SCHEMA6_FILE, copy)
    fresh = EmbeddedIndex(tmp_path / "fresh.sqlite")
    for i in range(8):
        lead = _lead(i)
        fresh.write_lead(lead)
        summary = lead.text if i % 2 == 0 else lead.text + "，已经反映多次"
        fresh.write_case_state(_case(f"l{i}", summary=summary, title="").model_copy(update={"place": lead.place}))
    migrated = EmbeddedIndex(copy)
    assert migrated.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    assert _case_totals(migrated) == _case_totals(fresh)
    assert _own_rows(migrated) == 4  # the odd cases: their text is not their lead's
    for table in ("leads", "cases"):  # FTS5's own consistency check (raises when corrupt)
        migrated.db.execute(f"INSERT INTO {table}_fts ({table}_fts, rank) VALUES ('integrity-check', 1)")
    store = EmbeddedStore(migrated)
    assert store.search(SearchRequest(kind="leads", q="号", size=20)).total == 8
    assert store.get("cases", "l1")["summary"].endswith("已经反映多次")


def test_a_case_search_reads_the_borrowing_cases_through_their_index_in_a_file_made_new(tmp_path):
    """cases_facets.text_lead has no declared type in a file made new (schema 7 added it with one to
    older files): the join must still look the cases up by it, not scan it for every matching lead."""
    index = EmbeddedIndex(tmp_path / "e.sqlite")
    joined, params = EmbeddedStore(index)._from("cases", '"5c0f 533a"')
    plan = " ".join(row[3] for row in index.db.execute(f"EXPLAIN QUERY PLAN SELECT t.rowid FROM {joined}", params))  # noqa: S608
    assert "SEARCH c USING COVERING INDEX cases_facets_text_lead (text_lead=?)" in plan


def test_a_case_search_of_short_terms_reads_the_borrowing_cases_through_their_index_in_a_file_made_new(tmp_path):
    from leadhub.queries import Filters, parse_text
    from leadhub.readers.embedded import build_where

    index = EmbeddedIndex(tmp_path / "e.sqlite")
    where, _ = build_where("cases", Filters(), parse_text("电梯 停运"))
    plan = " ".join(row[3] for row in index.db.execute(f"EXPLAIN QUERY PLAN SELECT t.rowid FROM cases_facets t WHERE {where.sql()}", where.params))  # noqa: S608
    assert "SEARCH t USING COVERING INDEX cases_facets_text_lead (text_lead=?)" in plan
