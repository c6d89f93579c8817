"""The dashboards' saved objects against the mappings `leadhub index init` really creates: Kibana's
(deploy/dashboards/kibana.ndjson) on Elasticsearch, OpenSearch Dashboards' on OpenSearch. Every field a
panel uses must exist in the live index with a type that fits its use, and every aggregation a panel
runs must run on the engine. Kibana itself cannot run here (no Docker and no download site for it); this
is as close as the machine gets: the engine half of what a dashboard asks."""

from __future__ import annotations

import json

import pytest

from leadhub.cli import main
from schemas.index_templates import flatten
from tests.unit.test_dashboards import field_uses, index_pattern_title, load, problems_with

pytestmark = pytest.mark.integration

SAVED_OBJECTS = {"elasticsearch": "kibana.ndjson", "opensearch": "opensearch-dashboards.ndjson"}
DEFAULT_PREFIX = "leadhub"  # the index patterns' titles are the default prefix's aliases


@pytest.fixture
def live(engine, engine_search, unique):
    """{index pattern title: (the alias index init made here, its flattened live mapping)}."""
    prefix = f"dash{unique}"
    assert main([*engine.cli_args, "--set", f"search.index_prefix={prefix}", "index", "init"]) == 0
    objects = load(SAVED_OBJECTS[engine.name])
    found = {}
    for pattern in (o for o in objects if o["type"] == "index-pattern"):
        title = pattern["attributes"]["title"]
        alias = prefix + title.removeprefix(DEFAULT_PREFIX)
        (index,) = engine_search.get_alias(alias)
        found[title] = (alias, flatten(engine_search.get_mapping(index)[index]["mappings"]["properties"]))
    yield objects, found
    for alias, _ in found.values():
        for index in engine_search.get_alias(alias):
            engine_search.delete_index(index)


def test_every_panel_field_exists_in_the_live_mapping(live):
    objects, found = live
    problems, checked = [], 0
    for obj in objects:
        if obj["type"] == "dashboard":
            continue
        title = obj["attributes"]["title"] if obj["type"] == "index-pattern" else index_pattern_title(obj, objects)
        for field, use in field_uses(obj):
            checked += 1
            problems += [f"{obj['id']}: {p}" for p in problems_with(field, use, found[title][1])]
    assert checked > 20, "the field extraction found suspiciously few fields"
    assert not problems, "\n".join(problems)


def _aggregation(kind: str, field: str, params: dict) -> dict | None:
    """The engine request a legacy visualization's agg becomes (None: no field of its own to ask about)."""
    if kind in ("terms", "significant_terms", "rare_terms"):
        return {"terms": {"field": field, "size": int(params.get("size", 5))}}
    if kind == "date_histogram":
        return {"date_histogram": {"field": field, "calendar_interval": "day"}}
    if kind in ("median", "percentiles"):
        return {"percentiles": {"field": field, "percents": params.get("percents", [50])}}
    if kind in ("cardinality", "sum", "avg", "min", "max"):
        return {kind: {"field": field}}
    if kind == "histogram":
        return {"histogram": {"field": field, "interval": params.get("interval") or 1}}
    return None


def test_every_panel_aggregation_runs_on_the_engine(live, engine_search):
    objects, found = live
    ran = 0
    for obj in (o for o in objects if o["type"] == "visualization"):
        alias = found[index_pattern_title(obj, objects)][0]
        for agg in json.loads(obj["attributes"]["visState"])["aggs"]:
            params = agg.get("params", {})
            request = _aggregation(agg["type"], params["field"], params) if "field" in params else None
            if request is None:
                continue
            engine_search.search(alias, {"size": 0, "aggs": {"panel": request}})  # a refusal raises
            ran += 1
    assert ran >= 10, f"only {ran} aggregations found to run"
