import datetime as dt
import json

import pytest

from leadhub.cli import main
from leadhub.index_admin import IncompatibleIndex, init_indices
from schemas.index_templates import INDEX_KINDS, MAPPING_VERSION, index_template, mappings, month_of

V = MAPPING_VERSION

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
    for leftover in (*search.index_names(f"{name}-leads-v*"), f"{name}-cases-v1", f"{name}-hotspots-v1", f"{name}-leads"):
        if search.index_exists(leftover):
            search.delete_index(leftover)


def this_month(prefix: str) -> str:
    return f"{prefix}-leads-v{V}-{month_of(dt.datetime.now(dt.UTC))}"


def no_policy_line(engine, prefix: str) -> str:
    """The local engines have neither ISM (OpenSearch's minimal distribution) nor ILM (the integration
    build of Elasticsearch): index init says so in one line and goes on."""
    module = "ILM" if engine.name == "elasticsearch" else "ISM (index-management plugin)"
    return (f"policy {prefix}-leads-months -> {prefix}-leads-v{V}-*: not installed: this {engine.name} has no {module}; "
            f"months are still separate indices (force-merge an old one with POST <index>/_forcemerge?max_num_segments=1)")


def test_index_init_twice(engine, search, prefix, capsys):
    assert main([*engine.cli_args, "--set", f"search.index_prefix={prefix}", "index", "init"]) == 0
    # leads: the current month behind the alias, and the lifecycle policy's line; one line per other kind
    others = [kind for kind in INDEX_KINDS if kind != "leads"]
    months = f"1 month(s), {prefix}-leads-v{V}-*"
    assert capsys.readouterr().out.splitlines() == [
        f"{prefix}-leads -> {this_month(prefix)}: created ({months})", no_policy_line(engine, prefix),
        *[f"{prefix}-{kind} -> {prefix}-{kind}-v1: created" for kind in others]]  # fmt: skip
    assert main([*engine.cli_args, "--set", f"search.index_prefix={prefix}", "index", "init"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{prefix}-leads -> {this_month(prefix)}: up to date ({months})", no_policy_line(engine, prefix),
        *[f"{prefix}-{kind} -> {prefix}-{kind}-v1: up to date" for kind in others]]  # fmt: skip
    assert list(search.get_alias(f"{prefix}-leads")) == [this_month(prefix)]
    live = search.get_mapping(this_month(prefix))[this_month(prefix)]["mappings"]
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
            {"lead_id": f"lead-{i}", "source": "s", "channel": "forum", "title": f"第{i}条：路灯不亮", "priority": str(i % 100),
             "fetched_at": f"2025-{i % 3 + 1:02d}-10T08:00:00+08:00"},
        ]
    assert search.bulk(ops, refresh="wait_for")["errors"] is False


def test_the_refresh_interval_setting_reaches_new_and_live_indices(engine, search, prefix):
    def interval(index: str) -> str:
        return search.client.indices.get_settings(index=index)[index]["settings"]["index"]["refresh_interval"]

    init_indices(search, engine.search_settings(index_prefix=prefix, refresh_interval="500ms"))
    assert interval(this_month(prefix)) == "500ms"
    init_indices(search, engine.search_settings(index_prefix=prefix, refresh_interval="2s"))  # the index exists now
    assert interval(this_month(prefix)) == "2s" and interval(f"{prefix}-cases-v1") == "2s"


def test_an_incompatible_live_index_is_refused_without_migrate(engine, search, prefix, capsys):
    _old_leads_index(search, prefix, docs=3)
    with pytest.raises(IncompatibleIndex, match=f"{prefix}-leads-v1 \\(behind {prefix}-leads\\) hold leads in an older layout"):
        init_indices(search, engine.search_settings(index_prefix=prefix))
    assert main([*engine.cli_args, "--set", f"search.index_prefix={prefix}", "index", "init"]) == 2
    err = capsys.readouterr().err
    assert "leadhub index init --migrate" in err and "Traceback" not in err


def test_migration_keeps_every_document_and_moves_the_alias(engine, search, prefix):
    _old_leads_index(search, prefix, docs=250)
    outcomes = init_indices(search, engine.search_settings(index_prefix=prefix), migrate=True)
    assert str(outcomes[0]).startswith(
        f"{prefix}-leads -> {this_month(prefix)}: migrated from {prefix}-leads-v1 (250 documents) into {prefix}-leads-v{V}-*")
    # each lead in the month of its date (fetched_at: these have no published_at), plus the current month
    months = sorted({f"{prefix}-leads-v{V}-2025.0{m}" for m in (1, 2, 3)} | {this_month(prefix)})
    assert sorted(search.get_alias(f"{prefix}-leads")) == months
    search.refresh(f"{prefix}-leads")
    assert search.count(f"{prefix}-leads") == 250
    assert search.count(f"{prefix}-leads-v{V}-2025.02") == len([i for i in range(250) if i % 3 == 1])
    hits = search.search(f"{prefix}-leads", {"query": {"term": {"priority": 42}}})["hits"]["hits"]
    assert sorted(h["_id"] for h in hits) == ["lead-142", "lead-242", "lead-42"]  # priority is an integer now
    # The old analyzer had no single characters; the migrated index finds them.
    one = {"query": {"match_phrase": {"title": "灯"}}}
    assert search.count(f"{prefix}-leads-v1", one) == 0 and search.count(f"{prefix}-leads", one) == 250
    assert search.count(f"{prefix}-leads-v1") == 250  # the old index is kept until someone deletes it
    # and a second run finds everything in order
    assert [o.action.split(" (")[0] for o in init_indices(search, engine.search_settings(index_prefix=prefix))
            if not o.alias.startswith("policy ")] == ["up to date"] * len(INDEX_KINDS)  # fmt: skip


def test_a_month_written_before_index_init_after_an_upgrade_is_put_behind_the_alias(engine, search, prefix):
    """An upgraded sink writing before `index init --migrate`: the older leadhub's template (pattern
    <alias>-v*, no alias) makes the month, which nothing puts behind the alias; init must."""
    _old_leads_index(search, prefix, docs=3)
    older = index_template(prefix, "leads", cjk_bigram=search.has_token_filter("cjk_bigram"))
    del older["template"]["aliases"]
    search.put_index_template(f"{prefix}-leads", {**older, "index_patterns": [f"{prefix}-leads-v*"]})
    written = {"lead_id": "lead-new", "source": "s", "channel": "forum", "title": "新的", "fetched_at": dt.datetime.now(dt.UTC).isoformat()}
    assert search.bulk([{"index": {"_index": this_month(prefix), "_id": "lead-new"}}, written], refresh="wait_for")["errors"] is False
    assert this_month(prefix) not in search.get_alias(f"{prefix}-leads")

    init_indices(search, engine.search_settings(index_prefix=prefix), migrate=True)
    search.refresh(f"{prefix}-leads")
    assert this_month(prefix) in search.get_alias(f"{prefix}-leads")
    assert search.count(f"{prefix}-leads") == 4  # the three migrated and the one the sink wrote


def test_a_plain_index_in_place_of_the_alias_is_refused(engine, search, prefix):
    search.create_index(f"{prefix}-leads")
    with pytest.raises(IncompatibleIndex, match="is a plain index"):
        init_indices(search, engine.search_settings(index_prefix=prefix))
