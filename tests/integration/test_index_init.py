import json

import pytest

from leadhub.cli import main
from leadhub.index_admin import IncompatibleIndex, init_indices
from schemas.index_templates import INDEX_KINDS, mappings

pytestmark = pytest.mark.integration


@pytest.fixture
def search(engine_search):
    """This suite runs on each engine (tests/integration/conftest.py `engine`)."""
    return engine_search


@pytest.fixture
def prefix(search, unique):
    name = f"t{unique}"
    yield name
    for index in search.get_alias(f"{name}-*") or {}:
        search.delete_index(index)
    for leftover in ("leads-v1", "leads-v2", "cases-v1", "hotspots-v1", "leads"):
        if search.index_exists(f"{name}-{leftover}"):
            search.delete_index(f"{name}-{leftover}")


def test_index_init_twice(engine, search, prefix, capsys):
    assert main([*engine.cli_args, "--set", f"search.index_prefix={prefix}", "index", "init"]) == 0
    # one line per index kind (INDEX_KINDS: leads, cases, hotspots, ...)
    assert capsys.readouterr().out.splitlines() == [f"{prefix}-{kind} -> {prefix}-{kind}-v1: created" for kind in INDEX_KINDS]
    assert main([*engine.cli_args, "--set", f"search.index_prefix={prefix}", "index", "init"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{prefix}-{kind} -> {prefix}-{kind}-v1: up to date" for kind in INDEX_KINDS]
    live = search.get_mapping(f"{prefix}-leads-v1")[f"{prefix}-leads-v1"]["mappings"]
    assert live["properties"]["title"]["analyzer"] == "leadhub_text"
    assert live["properties"]["place"]["properties"]["geo"]["type"] == "geo_point"


def old_analyzer(search) -> str:
    """Mapping version 2's analyzer: the built-in cjk (bigrams only); where the engine lacks it (the local
    Elasticsearch), whitespace, which finds no single character either."""
    return "cjk" if search.has_token_filter("cjk_bigram") else "whitespace"


def _old_leads_index(search, prefix, docs):
    """A v1 index as an older leadhub made it: priority was a keyword, fingerprint did not exist."""
    analyzer = old_analyzer(search)
    old = json.loads(json.dumps(mappings("leads")).replace('"leadhub_text"', f'"{analyzer}"').replace('"leadhub_text_search"', f'"{analyzer}"'))
    old["_meta"]["leadhub_mapping_version"] = 0
    old["properties"]["priority"] = {"type": "keyword"}
    del old["properties"]["fingerprint"]
    search.create_index(
        f"{prefix}-leads-v1",
        {"settings": {"number_of_shards": 1, "number_of_replicas": 0}, "mappings": old, "aliases": {f"{prefix}-leads": {}}},
    )
    ops = []
    for i in range(docs):
        ops += [
            {"index": {"_index": f"{prefix}-leads", "_id": f"lead-{i}"}},
            {"lead_id": f"lead-{i}", "source": "s", "channel": "forum", "title": f"第{i}条：路灯不亮", "priority": str(i % 100)},
        ]
    assert search.bulk(ops, refresh="wait_for")["errors"] is False


def test_the_refresh_interval_setting_reaches_new_and_live_indices(engine, search, prefix):
    def interval(index: str) -> str:
        return search.client.indices.get_settings(index=index)[index]["settings"]["index"]["refresh_interval"]

    init_indices(search, engine.search_settings(index_prefix=prefix, refresh_interval="500ms"))
    assert interval(f"{prefix}-leads-v1") == "500ms"
    init_indices(search, engine.search_settings(index_prefix=prefix, refresh_interval="2s"))  # the index exists now
    assert interval(f"{prefix}-leads-v1") == "2s" and interval(f"{prefix}-cases-v1") == "2s"


def test_an_incompatible_live_index_is_refused_without_migrate(engine, search, prefix, capsys):
    _old_leads_index(search, prefix, docs=3)
    with pytest.raises(IncompatibleIndex, match=f"field title: analyzer is {old_analyzer(search)}, expected leadhub_text"):
        init_indices(search, engine.search_settings(index_prefix=prefix))
    assert main([*engine.cli_args, "--set", f"search.index_prefix={prefix}", "index", "init"]) == 2
    err = capsys.readouterr().err
    assert "leadhub index init --migrate" in err and "Traceback" not in err


def test_migration_keeps_every_document_and_moves_the_alias(engine, search, prefix):
    _old_leads_index(search, prefix, docs=250)
    outcomes = init_indices(search, engine.search_settings(index_prefix=prefix), migrate=True)
    assert str(outcomes[0]).startswith(f"{prefix}-leads -> {prefix}-leads-v2: migrated from {prefix}-leads-v1 (250 documents")
    assert list(search.get_alias(f"{prefix}-leads")) == [f"{prefix}-leads-v2"]
    search.refresh(f"{prefix}-leads")
    assert search.count(f"{prefix}-leads") == 250
    hits = search.search(f"{prefix}-leads", {"query": {"term": {"priority": 42}}})["hits"]["hits"]
    assert sorted(h["_id"] for h in hits) == ["lead-142", "lead-242", "lead-42"]  # priority is an integer now
    # The old analyzer had no single characters; the migrated index finds them.
    one = {"query": {"match_phrase": {"title": "灯"}}}
    assert search.count(f"{prefix}-leads-v1", one) == 0 and search.count(f"{prefix}-leads", one) == 250
    assert search.count(f"{prefix}-leads-v1") == 250  # the old index is kept until someone deletes it
    # and a second run finds everything in order
    assert [o.action for o in init_indices(search, engine.search_settings(index_prefix=prefix))] == ["up to date"] * len(INDEX_KINDS)


def test_a_plain_index_in_place_of_the_alias_is_refused(engine, search, prefix):
    search.create_index(f"{prefix}-leads")
    with pytest.raises(IncompatibleIndex, match="is a plain index"):
        init_indices(search, engine.search_settings(index_prefix=prefix))
