"""Topic specs, index templates and the generated schema files, without services."""

from leadhub.topics_admin import differences
from schemas.export import stale_files
from schemas.index_templates import INDEX_KINDS, MAPPING_VERSION, incompatibilities, index_template, mappings
from schemas.topics import TOPICS, topic_specs


def test_generated_schema_files_are_current():
    assert stale_files() == [], "run `python -m schemas.export` and commit the result"


def test_topic_specs():
    names = [t.name for t in TOPICS]
    assert names == ["leads.raw", "leads.clean", "leads.routed", "cases.events", "cases.state", "leads.dlq", "hotspots", "hot_issues"]
    assert {t.name: t.partitions for t in TOPICS}["leads.clean"] == 1  # dedup is global
    assert [t.name for t in topic_specs("test.")][0] == "test.leads.raw"


def test_topic_differences():
    spec = TOPICS[0]
    assert differences(spec, spec.partitions, dict(spec.config)) == []
    longer = str(int(spec.config["retention.ms"]) * 2)
    assert differences(spec, 2, {**spec.config, "retention.ms": longer}) == [
        "2 partitions, spec says 6",
        f"retention.ms={longer}, spec says {spec.config['retention.ms']}",
    ]
    # Shorter is what `leadhub retention run` sets (retention.contact_days): no mismatch; forever is one.
    assert differences(spec, spec.partitions, {**spec.config, "retention.ms": "86400000"}) == []
    assert differences(spec, spec.partitions, {**spec.config, "retention.ms": "-1"}) != []


def test_templates_use_cjk_keywords_dates_geo_and_nested_history():
    leads = index_template("leadhub", "leads")["template"]["mappings"]["properties"]
    assert leads["title"]["analyzer"] == "leadhub_text" and leads["title"]["fields"]["keyword"]["type"] == "keyword"
    assert leads["published_at"]["type"] == "date"
    assert leads["place"]["properties"]["geo"]["type"] == "geo_point"
    assert leads["contact"] == {"type": "object", "enabled": False}
    cases = mappings("cases")["properties"]
    assert cases["history"]["type"] == "nested"
    assert index_template("x", "cases")["index_patterns"] == ["x-cases-v*"]


def test_a_mapping_fits_itself_and_differences_are_named():
    for kind in INDEX_KINDS:
        assert incompatibilities(mappings(kind), mappings(kind)) == []
    live = mappings("leads")
    live["properties"]["priority"] = {"type": "keyword"}
    del live["properties"]["fingerprint"]
    live["_meta"]["leadhub_mapping_version"] = 0
    problems = incompatibilities(mappings("leads"), live)
    assert f"mapping version is 0, this leadhub writes {MAPPING_VERSION}" in problems
    assert "field priority: type is keyword, expected integer" in problems
    assert "field fingerprint is missing" in problems
