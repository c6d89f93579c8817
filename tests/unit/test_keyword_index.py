"""KeywordIndex: every occurrence with its start offset, Latin keywords as whole words only."""

import copy
import pickle

from enrichers.keywords import KeywordIndex


def test_overlapping_chinese_keywords_are_all_found_at_their_character_offsets():
    index = KeywordIndex([("小区", "place"), ("区物", "odd"), ("物业", "service"), ("物业", "fee")])
    text = "某某小区物业不作为，物业费还涨"
    hits = index.find(text)
    assert [(start, keyword) for start, keyword, _ in hits] == [(2, "小区"), (3, "区物"), (4, "物业"), (10, "物业")]
    assert all(text[start : start + len(keyword)] == keyword for start, keyword, _ in hits)
    assert hits[2][2] == ("service", "fee")  # the values registered under one keyword, in order


def test_latin_keywords_match_whole_words_and_chinese_neighbours_count_as_boundaries():
    index = KeywordIndex([("bus", "transit"), ("公交", "transit")])
    assert [k for _, k, _ in index.find("bus")] == ["bus"]
    assert [k for _, k, _ in index.find("my business, the bus2 and busy minibus")] == []
    assert [(s, k) for s, k, _ in index.find("等bus公交")] == [(1, "bus"), (4, "公交")]
    assert [(s, k) for s, k, _ in index.find("the bus, late")] == [(4, "bus")]
    # find_raw is for regex triggers: no word rule
    assert [s for s, _, _ in index.find_raw("business")] == [0]


def test_an_empty_index_or_text_finds_nothing():
    assert KeywordIndex([("", "x")]).find("anything") == []
    assert KeywordIndex([]).find_raw("anything") == []
    assert KeywordIndex([("路", "road")]).find("") == []


def test_an_index_survives_pickling_and_copying():
    index = KeywordIndex([("小区", "place"), ("bus", "transit")])
    cheap = KeywordIndex([("小区", "place"), ("bus", "transit")], cheap_build=True)
    for twin in (cheap, pickle.loads(pickle.dumps(cheap))):
        assert twin.find("小区门口等bus，busy") == index.find("小区门口等bus，busy")
    for twin in (pickle.loads(pickle.dumps(index)), copy.deepcopy(index)):
        assert twin.find("小区门口等bus") == index.find("小区门口等bus") == [(0, "小区", ("place",)), (5, "bus", ("transit",))]
    assert pickle.loads(pickle.dumps(KeywordIndex([]))).find("小区") == []
