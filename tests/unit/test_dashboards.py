"""deploy/dashboards/*.ndjson: well-formed saved objects whose fields all exist in the index mappings."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from schemas.cases import Status
from schemas.index_templates import CASE_FIELDS, HOTSPOT_FIELDS, LEAD_FIELDS, alias_name, flatten

DASHBOARDS = Path(__file__).resolve().parents[2] / "deploy" / "dashboards"
FILES = ("opensearch-dashboards.ndjson", "kibana.ndjson")

MAPPINGS = {alias_name("leadhub", "leads"): flatten(LEAD_FIELDS), alias_name("leadhub", "cases"): flatten(CASE_FIELDS),
            alias_name("leadhub", "hotspots"): flatten(HOTSPOT_FIELDS)}  # fmt: skip
TIME_FIELDS = {alias_name("leadhub", "leads"): "fetched_at", alias_name("leadhub", "cases"): "first_seen",
               alias_name("leadhub", "hotspots"): "detected_at"}  # fmt: skip

NUMERIC = {"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float", "unsigned_long"}
AGGREGATABLE = {"keyword", "date", "boolean", "ip"} | NUMERIC
# Which field types each aggregation accepts.
AGG_FIELD_TYPES = {
    "terms": AGGREGATABLE, "significant_terms": AGGREGATABLE, "rare_terms": AGGREGATABLE,
    "cardinality": AGGREGATABLE, "top_hits": AGGREGATABLE,
    "date_histogram": {"date"}, "date_range": {"date"},
    "histogram": NUMERIC, "range": NUMERIC, "sum": NUMERIC, "avg": NUMERIC, "median": NUMERIC,
    "percentiles": NUMERIC, "std_dev": NUMERIC,
    "max": NUMERIC | {"date"}, "min": NUMERIC | {"date"},
}
# Agg schemas each legacy visualization type has.
VIS_SCHEMAS = {
    "histogram": {"metric", "segment", "group", "split", "radius"},
    "horizontal_bar": {"metric", "segment", "group", "split", "radius"},
    "line": {"metric", "segment", "group", "split", "radius"},
    "area": {"metric", "segment", "group", "split", "radius"},
    "pie": {"metric", "segment", "split"},
    "table": {"metric", "bucket", "split"},
    "metric": {"metric", "group"},
}
# Never shown on a dashboard: restricted reporter contact, and shapeless source-specific data.
FORBIDDEN_ROOTS = {"contact", "extra"}

KQL_FIELD = re.compile(r"([A-Za-z_][\w.]*)\s*(?::|<=|>=|<|>)")
KQL_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def load(name: str) -> list[dict[str, Any]]:
    lines = (DASHBOARDS / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(params=FILES)
def objects(request) -> list[dict[str, Any]]:
    return load(request.param)


def by_type(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj["type"] == kind]


def search_source(obj: dict[str, Any]) -> dict[str, Any]:
    return json.loads(obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])


def index_pattern_title(obj: dict[str, Any], objects: list[dict[str, Any]]) -> str:
    ref_name = search_source(obj)["indexRefName"]
    (ref,) = [ref for ref in obj["references"] if ref["name"] == ref_name]
    (pattern,) = [o for o in objects if o["type"] == "index-pattern" and o["id"] == ref["id"]]
    return pattern["attributes"]["title"]


def kql_fields(query: str) -> list[str]:
    return KQL_FIELD.findall(KQL_STRING.sub('""', query))


def filter_fields(item: Any) -> Iterator[str]:
    """Field names an OSD/Kibana filter (or a piece of query DSL) is about."""
    if isinstance(item, list):
        for sub in item:
            yield from filter_fields(sub)
    elif isinstance(item, dict):
        for key, value in item.items():
            if key == "meta" and isinstance(value, dict) and value.get("key"):
                yield value["key"]
            elif key in ("range", "match_phrase", "match", "term", "terms", "prefix", "wildcard"):
                yield from value
            elif key == "exists":
                yield value["field"]
            elif key not in ("meta", "$state"):
                yield from filter_fields(value)


def field_uses(obj: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(field, how it is used) for every field an object names: 'agg:<type>', 'query', 'sort', 'column'."""
    attributes = obj["attributes"]
    if obj["type"] == "index-pattern":
        yield attributes["timeFieldName"], "time"
        return
    if "kibanaSavedObjectMeta" in attributes:
        source = search_source(obj)
        for field in kql_fields(source.get("query", {}).get("query", "")):
            yield field, "query"
        for field in filter_fields(source.get("filter", [])):
            yield field, "query"
    if obj["type"] == "visualization":
        for agg in json.loads(attributes["visState"])["aggs"]:
            params = agg.get("params", {})
            if "field" in params:
                yield params["field"], f"agg:{agg['type']}"
            if "sortField" in params:
                yield params["sortField"], "sort"
            for item in params.get("filters", []):
                if item["input"].get("language") == "kuery":
                    for field in kql_fields(item["input"]["query"]):
                        yield field, "query"
    if obj["type"] == "search":
        for column in attributes.get("columns", []):
            yield column, "column"
        for field, _direction in attributes.get("sort", []):
            yield field, "sort"


def problems_with(field: str, use: str, mapping: dict[str, dict[str, Any]]) -> list[str]:
    if field not in mapping:
        return [f"{field} ({use}) is not in the mapping"]
    parts = field.split(".")
    ancestors = [".".join(parts[:n]) for n in range(1, len(parts))]
    problems = []
    if parts[0] in FORBIDDEN_ROOTS:
        problems.append(f"{field} ({use}) is restricted / unindexed data")
    if any(mapping.get(a, {}).get("type") == "nested" for a in ancestors + [field]):
        problems.append(f"{field} ({use}) is nested: plain aggs and filters cannot see it")
    if any(mapping.get(a, {}).get("enabled") is False for a in ancestors):
        problems.append(f"{field} ({use}) is inside an object that is not indexed")
    shape = mapping[field]
    kind = shape["type"]
    if use == "column":
        return problems
    if kind == "object":
        problems.append(f"{field} ({use}) is an object, not a field")
    if shape.get("index") is False:
        problems.append(f"{field} ({use}) is not indexed")
    if use == "time" and kind != "date":
        problems.append(f"{field} is the time field but is {kind}")
    if use == "sort" and kind not in AGGREGATABLE:
        problems.append(f"{field} is sorted on but is {kind}")
    if use.startswith("agg:"):
        agg = use.removeprefix("agg:")
        allowed = AGG_FIELD_TYPES.get(agg)
        assert allowed is not None, f"add the field types {agg} accepts to AGG_FIELD_TYPES"
        if kind not in allowed:
            problems.append(f"{field} is {kind}: {agg} needs one of {sorted(allowed)}")
    return problems


# ------------------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("name", FILES)
def test_every_line_is_a_json_object(name):
    lines = (DASHBOARDS / name).read_text(encoding="utf-8").splitlines()
    assert lines, f"{name} is empty"
    for number, line in enumerate(lines, start=1):
        assert line.strip(), f"{name}:{number} is blank"
        assert isinstance(json.loads(line), dict), f"{name}:{number} is not a JSON object"


def test_objects_have_id_type_attributes_and_unique_ids(objects):
    seen = set()
    for obj in objects:
        assert isinstance(obj.get("id"), str) and obj["id"], obj
        assert obj.get("type") in {"index-pattern", "visualization", "search", "dashboard"}, obj.get("type")
        assert isinstance(obj.get("attributes"), dict) and obj["attributes"].get("title"), obj["id"]
        assert isinstance(obj.get("references"), list), obj["id"]
        # A migrationVersion for the object's own type, so the importer only runs newer migrations.
        assert set(obj.get("migrationVersion", {})) == {obj["type"]}, obj["id"]
        assert (obj["type"], obj["id"]) not in seen, f"duplicate {obj['type']} {obj['id']}"
        seen.add((obj["type"], obj["id"]))


def test_json_string_attributes_parse(objects):
    for obj in objects:
        attributes = obj["attributes"]
        for key in ("visState", "uiStateJSON", "panelsJSON", "optionsJSON", "fields"):
            if key in attributes:
                json.loads(attributes[key])
        if "kibanaSavedObjectMeta" in attributes:
            assert isinstance(search_source(obj), dict)


def test_references_resolve_inside_the_file(objects):
    present = {(obj["type"], obj["id"]) for obj in objects}
    for obj in objects:
        names = [ref["name"] for ref in obj["references"]]
        assert len(names) == len(set(names)), f"{obj['id']}: duplicate reference names"
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in present, f"{obj['id']} refers to missing {ref['type']} {ref['id']}"


def test_ref_names_used_in_attributes_are_declared_and_all_declared_are_used(objects):
    for obj in objects:
        declared = {ref["name"]: ref for ref in obj["references"]}
        used: dict[str, str] = {}  # ref name -> the type it must point to
        attributes = obj["attributes"]
        if "kibanaSavedObjectMeta" in attributes:
            source = search_source(obj)
            if "indexRefName" in source:
                used[source["indexRefName"]] = "index-pattern"
            for item in source.get("filter", []):
                assert "index" not in item["meta"], f"{obj['id']}: filter names its index pattern by id"
                if "indexRefName" in item["meta"]:
                    used[item["meta"]["indexRefName"]] = "index-pattern"
            assert "index" not in source, f"{obj['id']}: searchSourceJSON names its index pattern by id"
        if obj["type"] == "dashboard":
            for panel in json.loads(attributes["panelsJSON"]):
                assert "id" not in panel, f"{obj['id']}: panel names its object by id instead of panelRefName"
                used[panel["panelRefName"]] = panel["type"]
        if "savedSearchRefName" in attributes:
            used[attributes["savedSearchRefName"]] = "search"
        for name, kind in used.items():
            assert name in declared, f"{obj['id']}: {name} is not in references"
            assert declared[name]["type"] == kind, f"{obj['id']}: {name} should point to a {kind}"
        assert set(declared) == set(used), f"{obj['id']}: unused references {set(declared) - set(used)}"


def test_index_patterns_are_the_aliases_with_their_time_fields(objects):
    patterns = {obj["attributes"]["title"]: obj["attributes"] for obj in by_type(objects, "index-pattern")}
    assert set(patterns) == set(MAPPINGS)
    for title, attributes in patterns.items():
        assert attributes["timeFieldName"] == TIME_FIELDS[title]
        assert MAPPINGS[title][attributes["timeFieldName"]]["type"] == "date"


def test_every_field_exists_in_the_mapping_with_a_type_that_fits_its_use(objects):
    problems = []
    checked = 0
    for obj in objects:
        if obj["type"] == "dashboard":
            continue
        title = obj["attributes"]["title"] if obj["type"] == "index-pattern" else index_pattern_title(obj, objects)
        mapping = MAPPINGS[title]
        for field, use in field_uses(obj):
            checked += 1
            problems += [f"{obj['id']}: {p}" for p in problems_with(field, use, mapping)]
    assert checked > 20, "the field extraction found suspiciously few fields"
    assert not problems, "\n".join(problems)


def test_field_checks_catch_bad_fields():
    cases = flatten(CASE_FIELDS)
    assert problems_with("title", "agg:terms", cases)  # text
    assert not problems_with("title.keyword", "agg:terms", cases)
    assert problems_with("summary.keyword", "agg:terms", cases)  # summary has no keyword subfield
    assert problems_with("history.to_status", "agg:terms", cases)  # nested
    assert problems_with("feedback.actor", "query", cases)  # nested
    assert problems_with("status", "agg:date_histogram", cases)
    assert problems_with("place", "query", cases)  # object
    assert problems_with("no_such_field", "column", cases)
    leads = flatten(LEAD_FIELDS)
    assert problems_with("url", "query", leads)  # index: false
    assert problems_with("contact", "column", leads)
    assert not problems_with("fetched_at", "time", leads)
    assert kql_fields('status : "a:b" and due_at < now and not x.y >= 3') == ["status", "due_at", "x.y"]


def test_visualizations_are_consistent(objects):
    for obj in by_type(objects, "visualization"):
        vis = json.loads(obj["attributes"]["visState"])
        assert vis["title"] == obj["attributes"]["title"]
        assert vis["type"] in VIS_SCHEMAS, vis["type"]
        ids = [agg["id"] for agg in vis["aggs"]]
        assert len(ids) == len(set(ids)), f"{obj['id']}: duplicate agg ids"
        metrics = {agg["id"] for agg in vis["aggs"] if agg["schema"] == "metric"}
        assert metrics, f"{obj['id']}: no metric"
        for agg in vis["aggs"]:
            assert agg["schema"] in VIS_SCHEMAS[vis["type"]], f"{obj['id']}: schema {agg['schema']}"
            order_by = agg.get("params", {}).get("orderBy")
            if agg["type"] == "terms":
                assert order_by in metrics | {"_key"}, f"{obj['id']}: terms ordered by unknown agg {order_by}"
        for series in vis["params"].get("seriesParams", []):
            assert series["data"]["id"] in metrics, f"{obj['id']}: series for unknown metric"
            axes = {axis["id"] for axis in vis["params"]["valueAxes"]}
            assert series["valueAxis"] in axes


def test_status_values_are_real_statuses(objects):
    statuses = {s.value for s in Status}
    for obj in objects:
        if "kibanaSavedObjectMeta" not in obj["attributes"] or obj["type"] == "dashboard":
            continue
        for item in search_source(obj).get("filter", []):
            if item["meta"].get("key") == "status":
                assert set(item["meta"]["params"]) <= statuses
    (funnel,) = [o for o in by_type(objects, "visualization") if o["id"] == "leadhub-case-status-funnel"]
    (filters_agg,) = [a for a in json.loads(funnel["attributes"]["visState"])["aggs"] if a["type"] == "filters"]
    labels = [item["label"] for item in filters_agg["params"]["filters"]]
    assert labels == [s.value for s in Status], "the funnel shows every status, in workflow order"
    for item in filters_agg["params"]["filters"]:
        assert item["input"]["query"] == f'status : "{item["label"]}"'


def test_open_case_panels_exclude_closed_and_rejected(objects):
    def excluded_statuses(obj):
        return {
            value
            for item in search_source(obj)["filter"]
            if item["meta"].get("key") == "status" and item["meta"].get("negate") and not item["meta"]["disabled"]
            for value in item["meta"]["params"]
        }

    panels = {o["id"]: o for o in objects if o["type"] in ("visualization", "search")}
    for panel_id in ("leadhub-overdue-open-cases", "leadhub-biggest-open-cases"):
        assert excluded_statuses(panels[panel_id]) == {"closed", "rejected"}, panel_id
    overdue = search_source(panels["leadhub-overdue-open-cases"])["filter"]
    assert {"due_at": {"lt": "now"}} in [item.get("range") for item in overdue]


def test_dashboard_shows_every_panel_on_a_valid_grid(objects):
    (dashboard,) = by_type(objects, "dashboard")
    assert dashboard["attributes"]["title"] == "leadhub overview"
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    shown = {ref["id"] for ref in dashboard["references"]}
    assert shown == {o["id"] for o in objects if o["type"] in ("visualization", "search")}
    cells = set()
    for panel in panels:
        grid = panel["gridData"]
        assert grid["i"] == panel["panelIndex"]
        assert grid["x"] >= 0 and grid["w"] > 0 and grid["x"] + grid["w"] <= 48, panel
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"panels overlap at {x},{y}"
                cells.add((x, y))
    assert len({p["panelIndex"] for p in panels}) == len(panels)


def test_both_files_hold_the_same_objects():
    osd, kibana = (load(name) for name in FILES)
    assert {(o["type"], o["id"], o["attributes"]["title"]) for o in osd} == {
        (o["type"], o["id"], o["attributes"]["title"]) for o in kibana
    }
