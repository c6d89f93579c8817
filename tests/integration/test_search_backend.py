"""The adapter on each engine (OpenSearch, and the local Elasticsearch 9 without analysis-common, painless,
rest-root or ILM): Chinese search with the analyzer the engine can run, errors, aliases, guarded writes
and the ping without GET /."""

import pytest

from adapters.search_backend import NotFound, SearchRequestError
from schemas.index_templates import SEARCH_ANALYZER, TEXT_ANALYZER, text_analysis

pytestmark = pytest.mark.integration


def text_index(search) -> dict:
    """An index analyzed as `index init` would on this engine (cjk_bigram where it exists, else standard)."""
    text = {"type": "text", "analyzer": TEXT_ANALYZER, "search_analyzer": SEARCH_ANALYZER}
    return {
        "settings": {"number_of_shards": 1, "number_of_replicas": 0,
                     "analysis": text_analysis(search.has_token_filter("cjk_bigram"))},
        "mappings": {"properties": {"title": {**text, "fields": {"keyword": {"type": "keyword"}}}, "body": text}},
    }  # fmt: skip


DOCS = {
    "a": {"title": "小区电梯故障", "body": "稠城街道某小区的电梯三天两头停运，老人上下楼非常不便。"},
    "b": {"title": "办证跑了三趟", "body": "在市行政服务中心办理营业执照，被要求重复提交材料，跑了三次。"},
    "c": {"title": "道路积水", "body": "江东街道一路段下雨后积水严重，车辆无法通行。"},
}


@pytest.fixture
def docs_index(engine_search, unique):
    index = f"test-cjk-{unique}"
    engine_search.create_index(index, text_index(engine_search))
    ops = []
    for doc_id, doc in DOCS.items():
        ops += [{"index": {"_index": index, "_id": doc_id}}, doc]
    assert engine_search.bulk(ops, refresh="wait_for")["errors"] is False
    yield index
    engine_search.delete_index(index)


def _phrase(search, index, text):
    hits = search.search(index, {"query": {"match_phrase": {"body": text}}})["hits"]["hits"]
    return sorted(h["_id"] for h in hits)


def test_chinese_words_and_single_characters_are_found(engine_search, docs_index):
    assert _phrase(engine_search, docs_index, "电梯") == ["a"]
    assert _phrase(engine_search, docs_index, "材料") == ["b"]
    assert _phrase(engine_search, docs_index, "梯") == ["a"]  # one character (the first-hour rule)
    assert _phrase(engine_search, docs_index, "街道") == ["a", "c"]
    assert _phrase(engine_search, docs_index, "梯电") == []  # the characters, but not side by side
    assert engine_search.count(docs_index) == 3
    assert engine_search.get(docs_index, "c")["_source"]["title"] == "道路积水"


def test_the_analyzer_is_what_the_engine_has(engine, engine_search):
    # OpenSearch bundles analysis-common; the local Elasticsearch (integ-test-zip) does not.
    assert engine_search.has_token_filter("cjk_bigram") is (engine.name == "opensearch")
    assert not engine_search.has_token_filter("no_such_filter")


def test_ping_without_get_root(engine, engine_search):
    info = engine_search.info()
    assert info["status"] in ("green", "yellow")
    major = info["version"]["number"].split(".")[0]
    assert major == ("9" if engine.name == "elasticsearch" else "2")


def test_missing_document_and_bad_request_map_to_our_errors(engine_search, unique):
    index = f"test-err-{unique}"
    engine_search.create_index(index, text_index(engine_search))
    try:
        assert engine_search.get(index, "nope") is None
        with pytest.raises(SearchRequestError) as raised:
            engine_search.search(index, {"query": {"no_such_query": {}}})
        assert raised.value.status == 400
    finally:
        engine_search.delete_index(index)
    with pytest.raises(NotFound):
        engine_search.delete_index(index)


def test_upsert_and_alias(engine_search, unique):
    index = f"test-alias-{unique}-v1"
    alias = f"test-alias-{unique}"
    engine_search.create_index(index, text_index(engine_search))
    try:
        engine_search.update_aliases([{"add": {"index": index, "alias": alias}}])
        assert list(engine_search.get_alias(alias)) == [index]
        engine_search.update(alias, "x", {"doc": {"title": "首次"}, "doc_as_upsert": True}, refresh="wait_for")
        engine_search.update(alias, "x", {"doc": {"body": "补充"}, "doc_as_upsert": True}, refresh="wait_for")
        assert engine_search.get(alias, "x")["_source"] == {"title": "首次", "body": "补充"}
    finally:
        engine_search.delete_index(index)
    assert engine_search.get_alias(alias) == {}


def test_a_guarded_write_on_a_changed_document_is_a_conflict(engine_search, unique):
    index = f"test-guard-{unique}"
    engine_search.create_index(index, text_index(engine_search))
    try:
        engine_search.index(index, "x", {"title": "一"}, refresh="wait_for")
        read = engine_search.get(index, "x")
        guard = {"if_seq_no": read["_seq_no"], "if_primary_term": read["_primary_term"]}
        engine_search.update(index, "x", {"doc": {"title": "二"}}, **guard)
        with pytest.raises(SearchRequestError) as raised:  # written since it was read
            engine_search.update(index, "x", {"doc": {"title": "三"}}, **guard)
        assert raised.value.status == 409
        assert engine_search.get(index, "x")["_source"] == {"title": "二"}
    finally:
        engine_search.delete_index(index)


def test_the_elasticsearch_client_on_another_engine_says_so(settings):
    from adapters.search_backend import SearchBackend, SearchSettings
    from schemas.errors import ConfigError
    from tests.integration.conftest import engine_url

    # elasticsearch-py checks the product header of every answer: OpenSearch sends none.
    wrong = SearchBackend.from_settings(SearchSettings(backend="elasticsearch", url=engine_url(settings, "opensearch")))
    try:
        with pytest.raises(ConfigError, match="server at search.url is not Elasticsearch"):
            wrong.info()
    finally:
        wrong.close()
