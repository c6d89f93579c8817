"""Leads in monthly indices behind the alias, on each engine: the sink's bulk files each lead under its
month, reads and updates by id find it there (also before a refresh), a rewrite replaces it, replay
writes it back in place, and `index init` makes the current month and says what it did about the policy."""

import datetime as dt
import json
import time

import pytest

from leadhub import search_dsl
from leadhub.index_admin import IncompatibleIndex, init_indices
from leadhub.queries import SearchRequest
from leadhub.readers.engine import EngineStore
from leadhub.replay import Rerouted
from leadhub.replay_stores import EngineReplayStore
from schemas.cases import Case
from schemas.index_templates import MAPPING_VERSION, index_template, month_of
from schemas.leads import Lead, RawLead
from sinks.bulk import send_until_acknowledged
from sinks.case_events import apply_decision_to_leads
from sinks.documents import lead_actions

pytestmark = pytest.mark.integration

SH = dt.timezone(dt.timedelta(hours=8))
DATES = {  # external id: published_at (None: fetched_at decides)
    "jan": dt.datetime(2025, 1, 20, 9, tzinfo=SH),
    "mar": dt.datetime(2025, 3, 5, 9, tzinfo=SH),
    # 07:00 in Shanghai on 1 August is still July in UTC: months are UTC, the same for every writer
    "edge": dt.datetime(2025, 8, 1, 7, tzinfo=SH),
    "undated": None,
}


@pytest.fixture
def prefix(engine, engine_search, unique):
    name = f"m{unique}"
    init_indices(engine_search, engine.search_settings(index_prefix=name))
    yield name
    for index in engine_search.index_names(f"{name}-*"):
        engine_search.delete_index(index)


def lead(external_id: str, text: str = "稠城街道某小区路灯不亮，晚上出行不便。") -> Lead:
    fetched = dt.datetime(2025, 6, 2, 12, tzinfo=dt.UTC)
    raw = RawLead(source="board", channel="forum", external_id=external_id, title=text[:10], body=text,
                  published_at=DATES[external_id], fetched_at=fetched)  # fmt: skip
    return Lead.from_raw(raw).model_copy(update={"case_id": "case-1"})


def write(search, leads: list[Lead], alias: str) -> None:
    """What the search sink's bulk sends for these leads (sinks/search_writer.py: lead_actions)."""
    refused = send_until_acknowledged(search, [lead_actions(one, alias) for one in leads], wait=time.sleep)
    assert refused == []


def month(prefix: str, name: str) -> str:
    return f"{prefix}-leads-v{MAPPING_VERSION}-{name}"


def test_each_lead_goes_to_its_month_and_is_found_by_id(engine_search, prefix):
    search, alias = engine_search, f"{prefix}-leads"
    leads = {one.external_id: one for one in (lead(name) for name in DATES)}
    write(search, list(leads.values()), alias)
    # found by id through the alias before any refresh (a search could not see them yet: a realtime get can)
    store = EngineStore(search, prefix)
    for one in leads.values():
        assert store.get("leads", one.lead_id)["lead_id"] == one.lead_id
    assert store.get("leads", "no-such-lead") is None
    expected = {"jan": "2025.01", "mar": "2025.03", "edge": "2025.07", "undated": "2025.06"}
    for name, when in expected.items():
        assert search.get(month(prefix, when), leads[name].lead_id) is not None, name
    this_month = month(prefix, month_of(dt.datetime.now(dt.UTC)))
    assert sorted(search.get_alias(alias)) == sorted({*(month(prefix, m) for m in expected.values()), this_month})
    # a rewrite of a lead (a replayed leads.routed message) replaces it in its month, never a second copy
    write(search, [lead("mar", "稠城街道某小区路灯不亮，已经一个星期了。")], alias)
    search.refresh(alias)
    assert search.count(alias) == len(DATES)
    assert search.find(alias, [leads["mar"].lead_id])[leads["mar"].lead_id]["_source"]["text"].endswith("已经一个星期了。")
    # found by id after the refresh too (one search by id, no get in every month)
    found = search.find(alias, [one.lead_id for one in leads.values()])
    assert {hit["_index"] for hit in found.values()} == {month(prefix, m) for m in expected.values()}


def test_a_recategorized_cases_leads_are_updated_in_their_months(engine_search, prefix):
    search, alias = engine_search, f"{prefix}-leads"
    leads = [lead(name) for name in ("jan", "mar", "edge")]
    write(search, leads, alias)
    case = Case(case_id="case-1", title="路灯", report_count=3, lead_ids=[one.lead_id for one in leads] + ["not-written-yet"],
                category={"level1": "城乡建设", "level2": "市政设施"}, department="市综合执法局", category_source="human",
                decided_by="张三", decided_at=dt.datetime(2025, 9, 1, tzinfo=dt.UTC))  # fmt: skip
    assert apply_decision_to_leads(search, alias, case) == 3  # the lead not in the index yet is skipped
    search.refresh(alias)
    for one in leads:
        doc = search.find(alias, [one.lead_id])[one.lead_id]["_source"]
        assert doc["department"] == "市综合执法局" and doc["decided_by"] == "张三" and doc["needs_triage"] is False
    assert search.count(alias) == 3


def test_migrate_keeps_a_lead_the_new_sink_filed_in_its_month_meanwhile(engine, engine_search, unique):
    """The copy creates, never overwrites: a lead already in its month (written by a sink of this
    version while the old index was still behind the alias) is newer than the old index's copy."""
    search, name = engine_search, f"k{unique}"
    try:
        body = index_template(name, "leads", cjk_bigram=search.has_token_filter("cjk_bigram"))["template"]
        search.create_index(f"{name}-leads-v1", {"settings": body["settings"], "mappings": body["mappings"],
                                                 "aliases": {f"{name}-leads": {}}})  # fmt: skip
        jan, mar = lead("jan"), lead("mar")
        ops = []
        for one in (jan, mar):
            ops += [{"index": {"_index": f"{name}-leads", "_id": one.lead_id}}, json.loads(one.model_dump_json())]
        assert search.bulk(ops, refresh=True)["errors"] is False
        with pytest.raises(IncompatibleIndex):
            init_indices(search, engine.search_settings(index_prefix=name))  # puts the months' template in
        newer = jan.model_copy(update={"department": "市住建局"})
        search.index(month(name, "2025.01"), newer.lead_id, json.loads(newer.model_dump_json()), refresh="wait_for")
        outcome = init_indices(search, engine.search_settings(index_prefix=name), migrate=True)[0]
        assert "(2 documents, 1 already in their month kept)" in outcome.action
        search.refresh(f"{name}-leads")
        assert search.count(f"{name}-leads") == 2
        assert search.get(month(name, "2025.01"), jan.lead_id)["_source"]["department"] == "市住建局"
        assert search.count(month(name, "2025.03")) == 1
    finally:
        for index in search.index_names(f"{name}-*"):
            search.delete_index(index)


def test_replay_writes_a_lead_back_into_its_own_month(engine_search, prefix):
    search, alias = engine_search, f"{prefix}-leads"
    write(search, [lead("jan"), lead("mar")], alias)
    search.refresh(alias)
    store = EngineReplayStore(search, prefix)
    page = store.page(None, None, None, 10)
    assert {stored.version["_index"] for stored in page} == {month(prefix, "2025.01"), month(prefix, "2025.03")}
    rerouted = [Rerouted(stored, Lead.model_validate(stored.doc), {"department": "市住建局"}) for stored in page]
    assert store.write(rerouted, {}) == (2, 0)
    search.refresh(alias)
    assert search.count(alias) == 2
    for stored in page:
        assert search.get(stored.version["_index"], stored.doc["lead_id"])["_source"]["department"] == "市住建局"


def test_a_lead_written_before_the_change_is_moved_into_months_by_migrate(engine, engine_search, unique):
    """An index of the earlier layout (one <prefix>-leads-v1, the current mapping) behind the alias:
    init refuses with the command to run; --migrate copies each lead into its month and takes it off."""
    search, name = engine_search, f"o{unique}"
    try:
        body = index_template(name, "leads", cjk_bigram=search.has_token_filter("cjk_bigram"))["template"]
        search.create_index(f"{name}-leads-v1", {"settings": body["settings"], "mappings": body["mappings"],
                                                 "aliases": {f"{name}-leads": {}}})  # fmt: skip
        ops = []
        for one in (lead("jan"), lead("mar")):
            ops += [{"index": {"_index": f"{name}-leads", "_id": one.lead_id}}, json.loads(one.model_dump_json())]
        assert search.bulk(ops, refresh=True)["errors"] is False
        with pytest.raises(IncompatibleIndex, match="older layout") as refused:
            init_indices(search, engine.search_settings(index_prefix=name))
        assert "leadhub index init --migrate" in refused.value.hint
        outcome = init_indices(search, engine.search_settings(index_prefix=name), migrate=True)[0]
        assert "migrated from" in outcome.action and "(2 documents)" in outcome.action
        assert f"{name}-leads-v1" not in search.get_alias(f"{name}-leads")
        search.refresh(f"{name}-leads")
        assert search.count(f"{name}-leads") == 2
        assert search.count(month(name, "2025.01")) == 1 and search.count(month(name, "2025.03")) == 1
    finally:
        for index in search.index_names(f"{name}-*"):
            search.delete_index(index)


def test_a_deep_page_in_date_order_is_the_same_page_the_whole_alias_gives(engine_search, prefix):
    """Past MONTH_WALK_FROM the reader asks only the months holding the page: the same leads, in the
    same order, as the one search over every month."""
    search, alias = engine_search, f"{prefix}-leads"
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    leads = []
    for i in range(640):  # 640 leads across four months, 4.5 hours apart
        raw = RawLead(source="board", channel="forum", external_id=f"deep-{i}", title=f"第{i}条", body=f"第{i}条：路灯不亮。",
                      published_at=start + dt.timedelta(hours=4.5 * i))  # fmt: skip
        leads.append(Lead.from_raw(raw))
    write(search, leads, alias)
    search.refresh(alias)
    store = EngineStore(search, prefix)
    for sort, page in (("newest", 26), ("oldest", 27), ("newest", 31)):  # offsets 500, 520 and 600 (across months)
        for facets in (True, False):  # without facets (the reports' and corrections' lists) the same walk
            request = SearchRequest(kind="leads", sort=sort, page=page, size=20, facets=facets)
            assert request.offset >= search_dsl.MONTH_WALK_FROM
            whole = search.search(alias, search_dsl.search_body(request))
            got = store.search(request)
            assert [hit["lead_id"] for hit in got.hits] == [hit["_id"] for hit in whole["hits"]["hits"]], (sort, page, facets)
            assert got.total == 640 and len(got.hits) == 20 and bool(got.facets) == facets


def test_an_undated_lead_fetched_again_in_a_later_month_stays_in_its_first_month(engine, engine_search, prefix, kafka_settings):
    # A lead without a published date is filed by its fetch time; the source's item changed and was fetched
    # again a month later: the sink rewrites it where it is, never a second copy in the new month.
    from adapters.producer import CheckedProducer
    from sinks.contract import Origin
    from sinks.search_writer import SearchWriter

    search, alias = engine_search, f"{prefix}-leads"
    first = lead("undated")
    later = first.model_copy(update={"fetched_at": dt.datetime(2025, 7, 9, 12, tzinfo=dt.UTC), "text": "路灯还是不亮。"})
    backend = type(search).from_settings(engine.search_settings(index_prefix=prefix))
    writer = SearchWriter(backend, alias, f"{prefix}-cases", CheckedProducer(kafka_settings))
    try:
        for one in (first, later):
            writer.add_lead(one, Origin(topic="leads.routed", value=one.model_dump_json().encode()))
            writer.flush()  # the second batch comes before any refresh: the lead is found by a realtime get
        search.refresh(alias)
        assert search.count(alias) == 1
        hit = search.find(alias, [first.lead_id])[first.lead_id]
        assert hit["_index"] == month(prefix, "2025.06") and hit["_source"]["text"] == "路灯还是不亮。"
        assert month(prefix, "2025.07") not in search.index_names(f"{prefix}-leads-*")  # no month made for it either
    finally:
        writer.letters.close()
