"""The pure parts of the read side: query building, access rules, field reports, Open311 mapping."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pydantic import ValidationError

from enrichers.taxonomy import DEFAULT_TAXONOMY, load_taxonomy
from leadhub import open311, search_dsl
from leadhub.access import KeyRing, Permission, Principal, key_digest, new_key
from leadhub.api.charts import categories_over_time, horizontal_bars
from leadhub.cli import main
from leadhub.intake import FieldReport, report_to_raw_lead
from leadhub.queries import CountSeries, FacetBucket, Filters, SearchRequest, Sort, StatsRequest
from leadhub.settings import ApiKeySpec

TZ = dt.timezone(dt.timedelta(hours=8))


# --- search DSL ----------------------------------------------------------------------------------

def test_user_text_only_ever_enters_phrase_queries_as_plain_text():
    text = '电梯" OR {"script": 1} AND (x:y) \\ [1 TO 2]'
    body = search_dsl.search_body(SearchRequest(kind="leads", q=text))
    must = body["query"]["bool"]["must"]
    assert all(set(clause) == {"multi_match"} and clause["multi_match"]["type"] == "phrase" for clause in must)
    assert [c["multi_match"]["query"] for c in must] == ["电梯", "OR {", "script", "1}", "AND", "(x:y)", "[1", "TO", "2]"]
    assert json.dumps(body).count("script") == 1  # nowhere else


def test_filters_become_terms_clauses_and_dates_ranges():
    filters = Filters(category=["城乡建设"], department=["A", "B"], status=["new"], channel=["hotline"], place=["稠城街道"],
                      since=dt.datetime(2024, 5, 1), until=dt.datetime(2024, 6, 1, tzinfo=TZ), needs_triage=False)  # fmt: skip
    clauses = search_dsl.filter_clauses("cases", filters)
    assert {"terms": {"category.level1": ["城乡建设"]}} in clauses
    assert {"terms": {"department": ["A", "B"]}} in clauses
    assert {"terms": {"status": ["new"]}} in clauses
    assert {"terms": {"channels": ["hotline"]}} in clauses  # cases hold channel lists
    assert {"bool": {"filter": [{"exists": {"field": "department"}}]}} in clauses  # a case is triaged once routed
    assert {"range": {"first_seen": {"gte": "2024-05-01T00:00:00+08:00", "lt": "2024-06-01T00:00:00+08:00"}}} in clauses
    place = next(c for c in clauses if "bool" in c and "should" in c["bool"])
    assert {"terms": {"place.community": ["稠城街道"]}} in place["bool"]["should"]


def test_a_lead_without_publication_time_is_dated_by_its_fetch_time():
    clause = search_dsl.filter_clauses("leads", Filters(since=dt.datetime(2024, 5, 1, tzinfo=TZ)))[0]
    should = clause["bool"]["should"]
    assert should[0] == {"range": {"published_at": {"gte": "2024-05-01T00:00:00+08:00"}}}
    assert should[1]["bool"]["filter"] == {"range": {"fetched_at": {"gte": "2024-05-01T00:00:00+08:00"}}}


def test_overdue_means_unresolved_and_past_due():
    now = dt.datetime(2024, 5, 1, tzinfo=TZ)
    clause = search_dsl.filter_clauses("cases", Filters(overdue=True), now)[0]
    assert clause["bool"]["filter"][0] == {"range": {"due_at": {"lt": now.isoformat()}}}
    assert clause["bool"]["filter"][1] == {"terms": {"status": ["new", "accepted", "assigned", "in_progress"]}}


@pytest.mark.parametrize("sort,first", [
    (Sort.relevance, {"first_seen": {"order": "desc", "missing": "_last"}}),  # no text: newest first
    (Sort.oldest, {"first_seen": {"order": "asc", "missing": "_last"}}),
    (Sort.priority, {"priority": "desc"}),
    (Sort.reports, {"report_count": "desc"}),
])  # fmt: skip
def test_sorts_end_with_the_id_so_paging_is_stable(sort, first):
    body = search_dsl.search_body(SearchRequest(kind="cases", sort=sort, page=3, size=10))
    assert body["sort"][0] == first and body["sort"][-1] == {"case_id": "asc"}
    assert body["from"] == 20 and body["size"] == 10
    assert search_dsl.search_body(SearchRequest(kind="cases", q="电梯"))["sort"][0] == "_score"


def test_requests_beyond_the_result_window_or_mixing_kinds_are_refused():
    with pytest.raises(ValidationError, match="past result 10000"):
        SearchRequest(page=501, size=20)
    with pytest.raises(ValidationError, match="filter cases, not leads"):
        SearchRequest(kind="leads", filters=Filters(status=["new"]))
    with pytest.raises(ValidationError, match="must be before"):
        Filters(since=dt.datetime(2024, 5, 2), until=dt.datetime(2024, 5, 1))
    assert Filters(since=dt.datetime(2024, 5, 1)).since.utcoffset() == dt.timedelta(hours=8)


def test_search_page_reads_hits_totals_and_facets():
    request = SearchRequest(kind="leads")
    response = {
        "hits": {"total": {"value": 2}, "hits": [{"_source": {"lead_id": "a"}}, {"_source": {"lead_id": "b"}}]},
        "aggregations": {"channel": {"buckets": [{"key": "hotline", "doc_count": 2}]}},
    }
    page = search_dsl.search_page(request, response)
    assert page.total == 2 and [h["lead_id"] for h in page.hits] == ["a", "b"]
    assert page.facets["channel"] == [FacetBucket(value="hotline", count=2)] and page.facets["category"] == []


def test_count_series_fills_missing_buckets_with_zero():
    over_time = {"buckets": [
        {"key_as_string": "2024-05-01T00:00:00.000+08:00", "category": {"buckets": [{"key": "A", "doc_count": 2}]}},
        {"key_as_string": "2024-05-02T00:00:00.000+08:00", "category": {"buckets": [{"key": "B", "doc_count": 1}]}},
    ]}  # fmt: skip
    series = search_dsl.count_series(over_time)
    assert series.buckets == ["2024-05-01", "2024-05-02"] and series.series == {"A": [2, 0], "B": [0, 1]}
    bodies = search_dsl.stats_bodies(StatsRequest(), dt.datetime(2024, 5, 3, tzinfo=TZ))
    assert set(bodies) == {"cases", "leads", "overdue", "hot"}


# --- access --------------------------------------------------------------------------------------

def test_roles_and_departments():
    analyst, intake = Principal("a", "analyst"), Principal("i", "intake")
    officer = Principal("o", "officer", frozenset({"市交通运输局"}))
    assert analyst.can(Permission.read) and not analyst.can(Permission.read_contacts) and not analyst.can(Permission.act)
    assert intake.can(Permission.submit_reports) and not intake.can(Permission.read)
    assert officer.may_act_on("市交通运输局") and not officer.may_act_on("市住房和城乡建设局")
    assert officer.may_act_on(None)  # unrouted cases: any officer may take them up
    assert Principal("all", "officer", frozenset({"*"})).may_act_on("任何部门")
    assert Principal("root", "admin").may_act_on("任何部门") and not analyst.may_act_on(None)


def test_keys_are_stored_hashed_and_identified():
    key = new_key()
    assert key.startswith("lh_") and len(key) > 40
    ring = KeyRing([ApiKeySpec(name="li", sha256=key_digest(key), role="officer", departments=["X"])])
    assert ring.identify(key) == Principal("li", "officer", frozenset({"X"}))
    assert ring.identify(key + "x") is None and ring.identify("") is None
    with pytest.raises(ValidationError):
        ApiKeySpec(name="li", sha256=key, role="officer")  # a plain key where its hash belongs


# --- field reports -------------------------------------------------------------------------------

def _report(**changes):
    fields = dict(title="Queue machine broken", place="义乌市行政服务中心", visited_at="2024-05-02 10:00",
                  tried="Get a residence permit", went_wrong="The queue machine was broken for two hours", lang="en")  # fmt: skip
    return FieldReport(**(fields | changes))


def test_a_field_report_becomes_an_officer_lead_keyed_by_officer_and_report_id():
    report = _report(report_id="r-1", evidence=["https://example.org/a.jpg"])
    lead = report_to_raw_lead(report, "officer-7")
    assert lead.channel == "officer" and lead.source == "officer-intake" and lead.external_id == "officer-7:r-1"
    assert lead.published_at == dt.datetime(2024, 5, 2, 10, tzinfo=TZ)
    assert "What went wrong: The queue machine" in lead.body and lead.location_text == "义乌市行政服务中心"
    assert report_to_raw_lead(report, "officer-7").lead_id == lead.lead_id  # a retry is the same lead
    assert report_to_raw_lead(report, "officer-8").lead_id != lead.lead_id
    assert "遇到的问题" in report_to_raw_lead(_report(lang=None), "o").body


@pytest.mark.parametrize("changes", [
    {"evidence": ["file:///etc/passwd"]}, {"visited_at": "2999-01-01T00:00:00+08:00"}, {"title": ""},
    {"report_id": "a b"}, {"lang": "fr"}, {"unknown": 1},
])  # fmt: skip
def test_bad_field_reports_are_refused(changes):
    with pytest.raises(ValidationError):
        _report(**changes)


# --- Open311 -------------------------------------------------------------------------------------

def test_open311_services_come_from_the_taxonomy():
    taxonomy = load_taxonomy(DEFAULT_TAXONOMY)
    services = open311.services(taxonomy)
    assert len(services) == len(taxonomy.subcategories)
    codes = [s["service_code"] for s in services]
    assert len(set(codes)) == len(codes)
    assert all(open311.parse_service_code(c) == (s["group"], s["service_name"]) for c, s in zip(codes, services, strict=True))


def test_a_case_as_an_open311_request():
    case = {
        "case_id": "c1", "status": "resolved", "summary": "路灯不亮", "department": "市住房和城乡建设局",
        "category": {"level1": "城乡建设", "level2": "城市建设和市政管理"}, "first_seen": "2024-05-01T08:00:00+08:00",
        "place": {"town": "后宅街道", "geo": {"lat": 29.3, "lon": 120.1}},
        "history": [{"action": "note", "note": "已派人查看", "at": "2024-05-02T09:00:00+08:00"}],
    }  # fmt: skip
    request = open311.service_request(case, media_url="https://leads.example.org/open311/v2/media/ab")
    assert request["status"] == "open"  # resolved still waits for feedback
    assert request["status_notes"] == "已派人查看" and request["updated_datetime"] == "2024-05-02T09:00:00+08:00"
    assert request["service_code"] == "城乡建设.城市建设和市政管理" and request["lat"] == 29.3 and request["long"] == 120.1
    assert request["media_url"] == "https://leads.example.org/open311/v2/media/ab"
    closed = open311.service_request({"case_id": "c2", "status": "rejected"})
    assert closed["status"] == "closed" and closed["status_notes"] == "Not accepted." and closed["service_code"] is None
    assert closed["media_url"] is None  # no photo: no link (never a page behind a login)


# --- charts and CLI ------------------------------------------------------------------------------

def test_charts_are_inline_svg_without_scripts_and_escape_labels():
    svg = str(horizontal_bars("places", [FacetBucket(value="<b>x</b>", count=2)]))
    assert svg.startswith("<svg") and "<script" not in svg and "<b>x</b>" not in svg
    many = CountSeries(buckets=["2024-05-01"], series={f"c{i}": [i] for i in range(12)})
    assert "其他" in str(categories_over_time(many, top=8))  # Chinese unless the page is English
    english = str(categories_over_time(many, "en", top=8))
    assert "other" in english and "Cases by category over time" in english


def test_count_axes_have_whole_number_ticks():
    from leadhub.api.charts import integer_ticks, status_funnel

    for largest in [0, 1, 2, 3, 7, 9, 13, 45, 99, 1234, 98765]:
        ticks = integer_ticks(largest)
        assert ticks[0] == 0 and ticks[-1] >= largest and len(ticks) <= 10
        assert all(isinstance(t, int) for t in ticks) and ticks == sorted(set(ticks))
    svg = str(status_funnel([FacetBucket(value="new", count=1), FacetBucket(value="closed", count=2)], "en"))
    assert "0.5" not in svg and "in progress" not in svg and "closed" in svg


def test_search_cli_reports_an_unreachable_engine_clearly(capsys):
    code = main(["--set", "search.url=http://127.0.0.1:9", "--set", "search.request_timeout=1", "search", "电梯"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error:") and "Traceback" not in err


def test_search_cli_rejects_bad_filters_before_calling_anything(capsys):
    code = main(["search", "x", "--kind", "leads", "--status", "new"])
    err = capsys.readouterr().err
    assert code == 2 and "filter cases, not leads" in err
