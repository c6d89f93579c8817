"""The pure parts of the time-based leads indices: which month a lead is filed under, the template, the
lifecycle policies, and the search split that lets the engine cache facets per month."""

import datetime as dt

from leadhub import search_dsl
from leadhub.queries import SearchRequest
from schemas.index_policies import ilm_policy, ism_policy
from schemas.index_templates import (
    MAPPING_VERSION,
    index_template,
    is_current_month_index,
    lead_index,
    lead_month,
    month_of,
)

V = MAPPING_VERSION


def test_a_leads_month_is_the_utc_month_of_its_publication_else_its_fetch():
    assert lead_month({"published_at": "2025-03-05T09:00:00+08:00", "fetched_at": "2026-01-01T00:00:00Z"}) == "2025.03"
    assert lead_month({"published_at": None, "fetched_at": "2026-01-01T00:00:00Z"}) == "2026.01"
    # 07:00 in Shanghai on 1 August is 23:00 on 31 July in UTC: every writer names the same month
    assert month_of(dt.datetime(2025, 8, 1, 7, tzinfo=dt.timezone(dt.timedelta(hours=8)))) == "2025.07"
    assert lead_month({"title": "no date"}) == "undated" and month_of("not a date") == "undated"
    assert lead_index("p-leads", {"fetched_at": "2024-12-31T23:59:59+00:00"}) == f"p-leads-v{V}-2024.12"


def test_the_current_versions_months_are_told_from_older_layouts():
    assert is_current_month_index("p-leads", f"p-leads-v{V}-2025.03")
    assert is_current_month_index("p-leads", f"p-leads-v{V}-undated")
    assert not is_current_month_index("p-leads", "p-leads-v1")
    assert not is_current_month_index("p-leads", f"p-leads-v{V - 1}-2025.03")
    assert not is_current_month_index("p-leads", f"p-leads-v{V}-2025.03-copy")


def test_the_leads_template_names_this_versions_months_and_puts_them_behind_the_alias():
    leads = index_template("p", "leads")
    assert leads["index_patterns"] == [f"p-leads-v{V}-*"] and leads["template"]["aliases"] == {"p-leads": {}}
    assert "index.lifecycle.name" not in leads["template"]["settings"]  # only where the engine has ILM
    assert index_template("p", "leads", lifecycle="p-leads-months")["template"]["settings"]["index.lifecycle.name"] == "p-leads-months"
    cases = index_template("p", "cases", lifecycle="p-leads-months")
    assert cases["index_patterns"] == ["p-cases-v*"] and "aliases" not in cases["template"]
    assert "index.lifecycle.name" not in cases["template"]["settings"]


def test_the_policies_merge_old_months_and_move_them_only_when_told_where():
    ism = ism_policy("p-leads", "30d")["policy"]
    hot, settled = ism["states"]
    assert hot["transitions"] == [{"state_name": "settled", "conditions": {"min_index_age": "30d"}}]
    # force_merge leaves ISM's write block on: read_write lifts it (retention and recategorizations still edit)
    assert settled["actions"] == [{"force_merge": {"max_num_segments": 1}}, {"read_write": {}}]
    assert ism["ism_template"][0]["index_patterns"] == [f"p-leads-v{V}-*"]
    moved = ism_policy("p-leads", "30d", "temp=warm")["policy"]["states"][1]["actions"]
    assert {"allocation": {"require": {"temp": "warm"}, "wait_for": False}} in moved
    ilm = ilm_policy("p-leads", "30d", "temp=warm")["policy"]["phases"]["warm"]
    assert ilm == {"min_age": "30d", "actions": {"forcemerge": {"max_num_segments": 1}, "allocate": {"require": {"temp": "warm"}}}}
    assert "allocate" not in ilm_policy("p-leads")["policy"]["phases"]["warm"]["actions"]
    # the description's digest: the same settings the same policy, other settings another (index init
    # leaves an unchanged ISM policy and its months alone)
    same, other = ism_policy("p-leads", "30d")["policy"]["description"], ism_policy("p-leads", "45d")["policy"]["description"]
    assert same == ism["description"] and other != same and ism_policy("p-leads", "30d", "temp=warm")["policy"]["description"] != same


def test_facets_and_the_total_go_in_a_request_of_their_own():
    body = search_dsl.search_body(SearchRequest(kind="leads", q="路灯", page=2, size=10))
    hits, facets = search_dsl.split_facets(body)
    assert "aggs" not in hits and hits["track_total_hits"] is False and hits["from"] == 10
    assert facets == {"size": 0, "track_total_hits": True, "query": body["query"], "aggs": body["aggs"]}
    plain = search_dsl.search_body(SearchRequest(kind="leads", facets=False))
    assert search_dsl.split_facets(plain) == (plain, None)
    request = SearchRequest(kind="leads", size=1)
    page = search_dsl.search_page(request, {"hits": {"hits": [{"_source": {"lead_id": "a"}}]}},
                                  {"hits": {"total": {"value": 7}}, "aggregations": {"channel": {"buckets": [{"key": "forum", "doc_count": 7}]}}})  # fmt: skip
    assert page.total == 7 and page.hits == [{"lead_id": "a"}] and page.facets["channel"][0].count == 7


def test_a_deep_page_in_date_order_asks_only_the_months_that_hold_it():
    counts = {"p-leads-v7-2025.01": 100, "p-leads-v7-2025.02": 50, "p-leads-v7-2025.03": 30}
    # newest first: March's 30, then February's 50, then January's 100
    assert search_dsl.month_window(counts, "desc", 0, 20) == (["p-leads-v7-2025.03"], 0)
    assert search_dsl.month_window(counts, "desc", 40, 20) == (["p-leads-v7-2025.02"], 10)
    assert search_dsl.month_window(counts, "desc", 70, 20) == (["p-leads-v7-2025.02", "p-leads-v7-2025.01"], 40)
    assert search_dsl.month_window(counts, "asc", 90, 20) == (["p-leads-v7-2025.01", "p-leads-v7-2025.02"], 90)
    assert search_dsl.month_window(counts, "desc", 170, 20) is None  # reaches the undated, which come last
    assert search_dsl.date_order(SearchRequest(kind="leads")) == "desc"
    assert search_dsl.date_order(SearchRequest(kind="leads", sort="oldest")) == "asc"
    assert search_dsl.date_order(SearchRequest(kind="leads", q="路灯")) is None  # by relevance
    assert search_dsl.date_order(SearchRequest(kind="cases")) is None
