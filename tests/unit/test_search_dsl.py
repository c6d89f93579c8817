"""The query text both stores search for: parsing, the class of odd input, and the caps (issues 18, 19)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from leadhub import search_dsl
from leadhub.queries import (
    Filters,
    SearchRequest,
    StatsRequest,
    TextLimits,
    parse_text,
    resolve_places,
    text_problem,
)
from leadhub.readers.embedded import build_where

LIMITS = TextLimits(max_terms=4, max_exclusions=2)


# (q, accepted?, what the message says) — the cap class and the odd-input class as one table.
CASES = [
    ("", True, None),
    ("电梯", True, None),
    ("a b c d", True, None),  # exactly max_terms
    ("a b c d e", False, "5 words and phrases; at most 4"),
    ('"a b" "c d" e f', True, None),  # a phrase is one term
    ('"a b" "c d" e f g', False, "at most 4"),
    ("x -a -b", True, None),  # exactly max_exclusions
    ("x -a -b -c", False, "excludes 3 words"),
    ("-a -b", True, None),  # exclusions alone are fine
    ("a a a a a a", True, None),  # repeats count once
    ("\x00", False, "control character (U+0000"),
    ("电梯\x00停运", False, "U+0000 at position 3"),
    ("\x1b[31m", False, "U+001B"),
    ("\x7f", False, "U+007F"),
    ("\t电梯\n停运\r", True, None),  # tabs and line breaks are spaces
    ("-", False, "no words"),
    ("||", False, "no words"),
    ("+++ ---", False, "no words"),
    ("*?~^", False, "no words"),
    ('"', False, "no words"),
    ('"电梯', True, None),  # an unpaired quote is a space
    ('电梯"停运', True, None),
    ("电" * 1000, True, None),
]


@pytest.mark.parametrize("q,accepted,message", CASES)
def test_the_text_problem_table(q, accepted, message):
    problem = text_problem(q, LIMITS)
    assert (problem is None) is accepted, problem
    if message:
        assert message in str(problem)


@pytest.mark.parametrize("q,accepted,message", CASES)
def test_search_requests_enforce_the_caps_given_in_the_context(q, accepted, message):
    data = {"kind": "leads", "q": q}
    if accepted:
        SearchRequest.model_validate(data, context={"text_limits": LIMITS})
    else:
        with pytest.raises(ValidationError, match="q "):
            SearchRequest.model_validate(data, context={"text_limits": LIMITS})


def test_without_a_context_the_default_caps_apply():
    limits = TextLimits()
    SearchRequest(q=" ".join(f"w{i}" for i in range(limits.max_terms)))
    with pytest.raises(ValidationError, match=f"at most {limits.max_terms}"):
        SearchRequest(q=" ".join(f"w{i}" for i in range(limits.max_terms + 1)))
    with pytest.raises(ValidationError, match="excludes"):
        SearchRequest(q=" ".join(f"-w{i}" for i in range(limits.max_exclusions + 1)))


words = st.text(alphabet=st.sampled_from(list("电梯停运水灯ab1")), min_size=1, max_size=4)


@settings(max_examples=200, deadline=None)
@given(must=st.lists(words, max_size=8, unique=True), must_not=st.lists(words, max_size=5, unique=True))
def test_caps_hold_exactly_at_their_bounds(must, must_not):
    must_not = [w for w in must_not if w not in must]
    q = " ".join([*must, *(f"-{w}" for w in must_not)])
    text = parse_text(q)
    assert text.must == tuple(must) and text.must_not == tuple(must_not)
    problem = text_problem(q, LIMITS)
    over = len(must) + len(must_not) > LIMITS.max_terms or len(must_not) > LIMITS.max_exclusions
    assert (problem is not None) is over  # (an empty q lists everything: no problem)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_either_refused_with_a_reason_or_searchable_on_both_stores(q):
    problem = text_problem(q, TextLimits(max_terms=200, max_exclusions=200))
    if problem is not None:
        assert str(problem).startswith("q ")
        return
    text = parse_text(q)
    body = search_dsl.search_body(SearchRequest.model_validate({"kind": "cases", "q": q}, context={"text_limits": TextLimits(200, 200)}))
    clauses = body["query"]["bool"]
    assert len(clauses["must"]) == max(1, len(text.must)) and len(clauses.get("must_not", [])) == len(text.must_not)
    where, match = build_where("leads", Filters(), text)
    assert where.sql().count("?") == len(where.params)  # user text only ever as bound parameters
    # a non-empty q never silently becomes "everything": it has a term, or it was refused above
    assert not q.strip() or text.terms


def test_each_term_is_a_phrase_over_the_text_fields():
    body = search_dsl.search_body(SearchRequest(kind="cases", q='灯 "停 运" -物业'))
    must, must_not = body["query"]["bool"]["must"], body["query"]["bool"]["must_not"]
    assert [m["multi_match"]["query"] for m in must] == ["灯", "停 运"]
    assert must_not[0]["multi_match"] == {"query": "物业", "type": "phrase", "fields": search_dsl.TEXT_FIELDS["cases"], "lenient": True}
    assert body["sort"][0] == "_score"
    only_exclusions = search_dsl.search_body(SearchRequest(kind="cases", q="-物业"))
    assert only_exclusions["query"]["bool"]["must"] == [{"match_all": {}}] and only_exclusions["sort"][0] != "_score"


def test_needs_triage_reads_the_lead_flag_or_the_case_department():
    assert search_dsl.filter_clauses("leads", Filters(needs_triage=True)) == [{"term": {"needs_triage": True}}]
    assert search_dsl.filter_clauses("cases", Filters(needs_triage=True)) == [{"bool": {"must_not": [{"exists": {"field": "department"}}]}}]
    where, _ = build_where("cases", Filters(needs_triage=True), parse_text(""))
    assert where.sql() == "t.department IS NULL"
    where, _ = build_where("leads", Filters(needs_triage=False), parse_text(""))
    assert where.sql() == "t.needs_triage = ?" and where.params == [0]


def test_since_after_until_is_refused_for_searches_and_statistics():
    for model in (Filters, StatsRequest):
        with pytest.raises(ValidationError, match="must be before until"):
            model(since="2024-05-02", until="2024-05-01")


def test_places_resolve_through_the_gazetteer_and_unknown_names_stay_as_typed():
    names = {"稠城": ["稠城街道"], "稠城街道": ["稠城街道"], "绣湖": ["绣湖社区"]}
    assert resolve_places(["稠城", " 稠城街道 ", "某某村"], lambda n: names.get(n, [])) == ["稠城街道", "某某村"]


def test_the_gazetteer_names_towns_and_communities_by_name_or_alias():
    from enrichers.places import load_gazetteer

    gazetteer = load_gazetteer()
    assert gazetteer.canonical("稠城") == ["稠城街道"] and gazetteer.canonical("北苑街道") == ["北苑街道"]
    assert gazetteer.canonical("绣湖社区") == ["绣湖社区"] and gazetteer.canonical("义乌火星") == []
