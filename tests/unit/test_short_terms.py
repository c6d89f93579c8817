"""The embedded index's text index of characters (schema 8; it replaced the short-term index of issue 19
#10 and the trigram index): terms of one or two characters find exactly the rows LIKE '%term%'
found, longer ones exactly the rows the trigram index found; rewrites keep it right; a file made
before it gets it built on open."""

from __future__ import annotations

import json
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadhub.queries import SearchRequest, parse_text
from leadhub.readers.embedded import EmbeddedStore
from schemas.leads import Lead
from sinks.embedded_docs import EmbeddedIndexError
from sinks.embedded_index import SCHEMA_VERSION, EmbeddedIndex
from sinks.embedded_text import FTS_COLUMNS, FTS_TABLE, fts_values, has_character_index
from sinks.short_terms import column_tokens, match_expression, phrase

# Chinese, ASCII of both cases, accented Latin of both cases, digits, punctuation, kinds of space.
ALPHABET = "街道小区电梯号楼的了aAbBzZéÉ0１9，,.%_\\\"'-# \t\u3000\n"


def _like(term: str) -> str:  # the LIKE pattern the store used before the short-term index
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _both(fields: list[tuple[str, ...]]) -> sqlite3.Connection:
    """The fields in a plain table, the index of characters and (the reference for longer terms) the
    trigram index the store had before schema 8."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE docs (rowid INTEGER PRIMARY KEY, a, b)")
    db.execute(FTS_TABLE.format(table="docs", columns="a, b"))
    db.execute("CREATE VIRTUAL TABLE docs_trigram USING fts5(a, b, tokenize='trigram')")
    for rowid, values in enumerate(fields, 1):
        db.execute("INSERT INTO docs VALUES (?, ?, ?)", (rowid, *values))
        db.execute("INSERT INTO docs_fts (rowid, a, b) VALUES (?, ?, ?)", (rowid, *map(column_tokens, values)))
        db.execute("INSERT INTO docs_trigram (rowid, a, b) VALUES (?, ?, ?)", (rowid, *values))
    return db


def _by_like(db: sqlite3.Connection, term: str) -> set[int]:
    rows = db.execute("SELECT rowid FROM docs WHERE a LIKE ?1 ESCAPE '\\' OR b LIKE ?1 ESCAPE '\\'", (_like(term),))
    return {r[0] for r in rows}


def _by_index(db: sqlite3.Connection, term: str) -> set[int]:
    rows = db.execute("SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?", (match_expression([term], "AND"),))
    return {r[0] for r in rows}


def _by_trigrams(db: sqlite3.Connection, term: str) -> set[int]:
    rows = db.execute("SELECT rowid FROM docs_trigram WHERE docs_trigram MATCH ?", ('"' + term.replace('"', '""') + '"',))
    return {r[0] for r in rows}


def test_every_character_is_a_token_in_its_place_whitespace_and_punctuation_too():
    assert column_tokens("街道 A，") == "8857 9053 20 61 ff0c"
    assert column_tokens("") == column_tokens(None) == ""
    assert phrase("街道") == '"8857 9053"'  # a term is the phrase of its characters


def test_only_ascii_letters_fold_for_short_terms_as_like_does():
    assert phrase("A") == phrase("a") and phrase("Ab") == phrase("aB")
    assert phrase("É") != phrase("é") and phrase("e") != phrase("é")
    assert phrase("１") != phrase("1")  # full-width digits stay themselves, as in LIKE


def test_longer_terms_spell_out_other_cases_of_non_ascii_letters_as_the_trigram_index_folded():
    assert phrase("Écu") == f'("{column_tokens("Écu")}" OR "{column_tokens("écu")}")'
    assert phrase("街道办") == '"8857 9053 529e"'
    many = phrase("ÉÉÉÉÉ")  # 32 spellings: as typed, lower and upper case only
    assert many.count(" OR ") == 1 and column_tokens("ééééé") in many


@pytest.mark.parametrize(
    "term,expected",
    [("街", {1, 2}), ("街道", {1}), ("道街", set()), ("a", {3, 4}), ("ab", {4}), ("%", {5}), ("_", {5}), ("\\", {5}), ("a%", set()),
     ("，", {2}), ("é", {3}), ("É", set())],
)  # fmt: skip
def test_table_of_terms_finds_what_like_found(term, expected):
    db = _both([("街道", ""), ("街，坊", "x"), ("b A é", ""), ("xAbc", ""), ("100%_\\", "")])
    assert _by_like(db, term) == expected
    assert _by_index(db, term) == expected


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.text(ALPHABET, max_size=12), st.text(ALPHABET, max_size=6)), min_size=1, max_size=6),
    st.text(ALPHABET, min_size=1, max_size=2).filter(lambda t: not any(c.isspace() for c in t)),
)
def test_any_short_term_finds_exactly_the_rows_like_found(fields, term):
    db = _both(fields)
    assert _by_index(db, term) == _by_like(db, term)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.text(ALPHABET, max_size=12), st.text(ALPHABET, max_size=6)), min_size=1, max_size=6),
    st.text(ALPHABET, min_size=3, max_size=6).map(lambda t: " ".join(t.split())).filter(lambda t: len(t) >= 3),
)
def test_any_longer_term_finds_exactly_the_rows_the_trigram_index_found(fields, term):
    db = _both(fields)
    assert _by_index(db, term) == _by_trigrams(db, term)


def lead(lead_id: str, title: str, text: str) -> Lead:
    return Lead(lead_id=lead_id, source="forum-yiwu", channel="forum", external_id=lead_id, title=title, text=text,
                fetched_at="2024-05-01T08:00:00+08:00", fingerprint=lead_id)  # fmt: skip


def total(index: EmbeddedIndex, q: str) -> int:
    return EmbeddedStore(index).search(SearchRequest(kind="leads", q=q, facets=False)).total


def test_words_and_exclusions_of_one_and_two_characters_through_the_store(tmp_path):
    index = EmbeddedIndex(tmp_path / "e.sqlite")
    index.write_lead(lead("a", "电梯停运", "幸福小区3号楼"))
    index.write_lead(lead("b", "路灯不亮", "江滨路夜里很黑"))
    index.write_lead(lead("c", "Lift broken", "Building 3"))
    assert total(index, "梯") == 1 and total(index, "号楼") == 1 and total(index, "楼号") == 0
    assert total(index, "路 -灯") == 0 and total(index, "-梯 -灯") == 1 and total(index, "-li") == 2
    assert total(index, "LI 3") == 1 and total(index, "停运 小区 -路") == 1  # short with trigram terms
    assert total(index, "电梯停 -路") == 1 and total(index, "电梯停 -号楼") == 0


def test_terms_another_term_implies_change_no_answer(tmp_path):
    """A term inside another must-term, or an exclusion holding another exclusion, is left out of the
    look-ups (the worst query's 15 substrings of one phrase): the same rows either way."""
    index = EmbeddedIndex(tmp_path / "e.sqlite")
    index.write_lead(lead("a", "电梯停运", "幸福小区3号楼附近的电梯"))
    index.write_lead(lead("b", "水管爆裂", "江滨路3号楼附近水管爆了"))
    index.write_lead(lead("c", "停水", "号楼的水停了, LIFT broken"))
    every_part = " ".join("号楼附近的"[i:j] for i in range(5) for j in range(i + 1, 6))
    assert total(index, every_part) == total(index, "号楼附近的") == 1
    assert total(index, "号楼附近 号 近 楼附") == total(index, "号楼附近") == 2
    assert total(index, "-水 -水管 -水管爆") == total(index, "-水") == 1
    assert total(index, "号楼 -水管 -水管爆裂") == total(index, "号楼 -水管") == 2
    assert total(index, "lift li") == total(index, "LIFT") == 1  # case folded as the index folds it
    index.write_lead(lead("d", "ÉCOLE", "la cour"))
    index.write_lead(lead("e", "école", "la cour"))
    assert total(index, "école") == 2 and total(index, "é") == 1  # a short term keeps its case, a long one not
    assert total(index, "é école") == 1  # so é stays a term of its own


def test_a_rewritten_lead_is_found_by_its_new_text_only(tmp_path):
    index = EmbeddedIndex(tmp_path / "e.sqlite")
    index.write_lead(lead("a", "电梯停运", "幸福小区"))
    index.write_lead(lead("a", "路灯不亮", "江滨路"))
    index.write_lead(lead("a", "路灯不亮", "江滨路"))  # a replay: unchanged
    assert total(index, "梯") == 0 and total(index, "路灯") == 1 and total(index, "-梯") == 1
    assert total(index, "电梯停运") == 0 and total(index, "江滨路") == 1
    index.db.execute("INSERT INTO leads_fts (leads_fts, rank) VALUES ('integrity-check', 1)")  # raises if inconsistent


# The text indexes as schemas 5-7 made them (contentless trigram, short-term tokens).
OLD_TRIGRAM = "CREATE VIRTUAL TABLE {0}_fts USING fts5({1}, content='', tokenize='trigram')"
OLD_SHORT = "CREATE VIRTUAL TABLE {0}_short USING fts5(tokens, content='', detail='none', columnsize=0, tokenize='ascii')"


def test_a_schema_7_file_gets_the_character_index_on_open(tmp_path):
    path = tmp_path / "e.sqlite"
    index = EmbeddedIndex(path)
    index.write_lead(lead("a", "电梯停运", "幸福小区"))
    index.write_lead(lead("b", "路灯不亮", "江滨路"))
    with index.transaction() as db:  # as schema 7 left it: trigram and short-term indexes
        for table, columns in FTS_COLUMNS.items():
            db.execute(f"DROP TABLE {table}_fts")
            db.execute(OLD_TRIGRAM.format(table, ", ".join(columns)))
            db.execute(OLD_SHORT.format(table))
        for rowid, doc in db.execute("SELECT rowid, doc_json(doc) FROM leads").fetchall():
            values = fts_values("leads", json.loads(doc))
            db.execute("INSERT INTO leads_fts (rowid, title, text, location_text, address) VALUES (?, ?, ?, ?, ?)", (rowid, *values))
        db.execute("UPDATE meta SET value = '7' WHERE key = 'schema_version'")
    index.close()
    reopened = EmbeddedIndex(path)
    assert reopened.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    assert has_character_index(reopened.db)
    assert not reopened.db.execute("SELECT name FROM sqlite_master WHERE name LIKE '%short%'").fetchall()
    assert total(reopened, "梯") == 1 and total(reopened, "-路") == 1 and total(reopened, "灯 -梯") == 1
    assert total(reopened, "幸福小区") == 1 and total(reopened, "-江滨路") == 1
    reopened.write_lead(lead("a", "井盖丢了", ""))  # a rewrite after the migration removes the old tokens
    assert total(reopened, "梯") == 0 and total(reopened, "井") == 1 and total(reopened, "幸福小区") == 0
    reopened.db.execute("INSERT INTO leads_fts (leads_fts, rank) VALUES ('integrity-check', 1)")


def test_a_file_from_before_the_short_term_index_gets_the_character_index_on_open(tmp_path):
    path = tmp_path / "e.sqlite"
    index = EmbeddedIndex(path)
    index.write_lead(lead("a", "电梯停运", "幸福小区"))
    index.write_lead(lead("b", "路灯不亮", "江滨路"))
    with index.transaction() as db:  # every step from version 1 runs again (5 rebuilds the index)
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    index.close()
    reopened = EmbeddedIndex(path)
    assert reopened.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    assert total(reopened, "梯") == 1 and total(reopened, "-路") == 1 and total(reopened, "灯 -梯") == 1


def test_a_file_from_a_newer_leadhub_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "e.sqlite"
    index = EmbeddedIndex(path)
    with index.transaction() as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    index.close()
    with pytest.raises(EmbeddedIndexError, match="newer than this leadhub's .*upgrade leadhub"):
        EmbeddedIndex(path)


def test_parsed_terms_never_hold_whitespace_so_pairs_across_it_are_never_needed():
    for q in ["a b", '"a b"', "街\u3000道", "-\t街"]:
        assert all(not any(c.isspace() for c in t) for t in parse_text(q).must + parse_text(q).must_not if len(t) <= 2)


def _every_way(index: EmbeddedIndex, kind: str, q: str):
    """A search of exclusions only, and the same search with a filter every row passes (which counts
    the rows that are left, not those excluded): the same total, facets and page."""
    import datetime as dt

    from leadhub.queries import Filters

    store = EmbeddedStore(index)
    plain = store.search(SearchRequest(kind=kind, q=q))
    filtered = store.search(SearchRequest(kind=kind, q=q, filters=Filters(since=dt.datetime(1970, 1, 2, tzinfo=dt.UTC))))
    return (plain.total, plain.facets, plain.hits), (filtered.total, filtered.facets, filtered.hits)


def test_a_search_of_exclusions_only_counts_from_the_rows_excluded_with_the_same_results(tmp_path):
    index = EmbeddedIndex(tmp_path / "e.sqlite")
    for i, (title, text) in enumerate([("电梯停运", "幸福小区的3号楼"), ("路灯不亮", "江滨路夜里很黑的"), ("Lift broken", "Building 3"),
                                       ("噪音扰民", "装修到半夜"), ("电梯又坏", "物业的不管")]):  # fmt: skip
        index.write_lead(lead(f"l{i}", title, text))
    # few rows excluded (counted from them), most (counted the other way), none, several terms
    for q, left in [("-梯", 3), ("-的", 2), ("-zz", 5), ("-梯 -灯", 2), ("-电梯停运", 4), ("-l", 4)]:
        excluded_only, with_filter = _every_way(index, "leads", q)
        assert excluded_only == with_filter and excluded_only[0] == left
        assert sum(b.count for b in excluded_only[1]["channel"]) == left
