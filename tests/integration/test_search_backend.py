import pytest

from adapters.search_backend import NotFound, SearchRequestError

pytestmark = pytest.mark.integration

CJK_INDEX = {
    "settings": {"number_of_shards": 1, "number_of_replicas": 0},
    "mappings": {
        "properties": {
            "title": {"type": "text", "analyzer": "cjk", "fields": {"keyword": {"type": "keyword"}}},
            "body": {"type": "text", "analyzer": "cjk"},
        }
    },
}

DOCS = {
    "a": {"title": "小区电梯故障", "body": "稠城街道某小区的电梯三天两头停运，老人上下楼非常不便。"},
    "b": {"title": "办证跑了三趟", "body": "在市行政服务中心办理营业执照，被要求重复提交材料，跑了三次。"},
    "c": {"title": "道路积水", "body": "江东街道一路段下雨后积水严重，车辆无法通行。"},
}


def test_cjk_index_finds_a_two_character_word(search, unique):
    index = f"test-cjk-{unique}"
    search.create_index(index, CJK_INDEX)
    try:
        ops = []
        for doc_id, doc in DOCS.items():
            ops += [{"index": {"_index": index, "_id": doc_id}}, doc]
        result = search.bulk(ops, refresh="wait_for")
        assert result["errors"] is False

        hits = search.search(index, {"query": {"match": {"body": "电梯"}}})["hits"]["hits"]
        assert [h["_id"] for h in hits] == ["a"]
        hits = search.search(index, {"query": {"match": {"body": "材料"}}})["hits"]["hits"]
        assert [h["_id"] for h in hits] == ["b"]
        assert search.count(index) == 3
        assert search.get(index, "c")["_source"]["title"] == "道路积水"
    finally:
        search.delete_index(index)


def test_missing_document_and_bad_request_map_to_our_errors(search, unique):
    index = f"test-err-{unique}"
    search.create_index(index, CJK_INDEX)
    try:
        assert search.get(index, "nope") is None
        with pytest.raises(SearchRequestError) as raised:
            search.search(index, {"query": {"no_such_query": {}}})
        assert raised.value.status == 400
    finally:
        search.delete_index(index)
    with pytest.raises(NotFound):
        search.delete_index(index)


def test_upsert_and_alias(search, unique):
    index = f"test-alias-{unique}-v1"
    alias = f"test-alias-{unique}"
    search.create_index(index, CJK_INDEX)
    try:
        search.update_aliases([{"add": {"index": index, "alias": alias}}])
        assert list(search.get_alias(alias)) == [index]
        search.update(alias, "x", {"doc": {"title": "首次"}, "doc_as_upsert": True}, refresh="wait_for")
        search.update(alias, "x", {"doc": {"body": "补充"}, "doc_as_upsert": True}, refresh="wait_for")
        assert search.get(alias, "x")["_source"] == {"title": "首次", "body": "补充"}
    finally:
        search.delete_index(index)
    assert search.get_alias(alias) == {}
