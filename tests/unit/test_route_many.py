"""RouteStage.route_many: the outputs of handle_many, and the routed leads in the order of their records."""

from __future__ import annotations

from enrichers.dedup import MemoryDedupState
from enrichers.route import MemoryCaseBook
from schemas.leads import Lead, RawLead
from schemas.serialization import decode, encode
from streams.local_runner import MemoryStatuses
from streams.pipeline import build_router
from streams.records import Record
from streams.settings import RoutingSettings
from streams.stages import NormalizeStage, RouteStage

TEXTS = ["稠城街道某小区电梯停运三天，物业不修。", "稠城街道某小区电梯停运三天，物业不修。", "佛堂镇农贸市场门口垃圾堆放多日无人清运。"]


def _clean() -> list[Record]:
    normalize = NormalizeStage()
    raws = [RawLead(source="board", channel="forum", external_id=str(k), body=text) for k, text in enumerate(TEXTS)]
    outs = [out for raw in raws for out in normalize.handle(Record(encode(raw)[0], raw.key.encode(), encode(raw)[1], "leads.raw"))]
    return [Record(out.value, out.key, out.headers, "leads.clean") for out in outs]


def _stage() -> RouteStage:
    return RouteStage(build_router(RoutingSettings(model="none"), MemoryDedupState(), MemoryCaseBook(), MemoryStatuses()))


def test_route_many_gives_handle_manys_outputs_and_the_leads_they_carry_in_order():
    records = [*_clean(), Record(b"not json", b"bad", [("schema", b"Lead/1")], "leads.clean")]
    outputs, routed = _stage().route_many(records)
    alone = _stage().handle_many(records)
    # (the dead letter's time is its own in each run)
    assert [(o.topic, o.key) for o in outputs] == [(o.topic, o.key) for o in alone]
    assert [o for o in outputs if o.topic == "leads.routed"] == [o for o in alone if o.topic == "leads.routed"]
    on_topic = [decode(out.value, out.headers, Lead) for out in outputs if out.topic == "leads.routed"]
    assert routed == on_topic and len(routed) == len(TEXTS)
    assert routed[0].case_id == routed[1].case_id != routed[2].case_id  # the same text again joined the first lead's case
    assert [out.topic for out in outputs].count("leads.dlq") == 1


def test_route_batch_gives_the_cases_its_snapshots_were_encoded_from():
    from schemas.cases import Case

    outputs, routed, cases = _stage().route_batch(_clean())
    snapshots = {out.key.decode(): decode(out.value, out.headers, Case) for out in outputs if out.topic == "cases.state"}
    assert cases == snapshots and len(cases) == 2


def test_the_hot_issue_stage_given_the_route_stages_models_sends_the_bytes_it_sends_decoding_the_records():
    from enrichers.hot_issues_settings import HotIssueSettings
    from streams.hot_issue_stage import HotIssueHints, HotIssueStage

    texts = ["翠湖雅韵小区旁边建搅拌站，噪音扰民，粉尘满天飞。", "投诉翠湖雅韵小区附近搅拌站噪音扰民，凌晨还在作业。", "路灯不亮，晚上一片漆黑。"]
    normalize = NormalizeStage(annotate=HotIssueHints(HotIssueSettings()))
    raws = [RawLead(source="board", channel="forum", external_id=str(k), body=text) for k, text in enumerate(texts * 2)]
    clean = [out for raw in raws for out in normalize.handle(Record(encode(raw)[0], raw.key.encode(), encode(raw)[1], "leads.raw"))]
    records = [Record(out.value, out.key, out.headers, "leads.clean") for out in clean]
    outputs, leads, cases = _stage().route_batch(records)
    given = HotIssueStage(HotIssueSettings()).process(outputs, records, leads=leads, cases=cases)
    decoded = HotIssueStage(HotIssueSettings()).process(outputs, records)
    assert [(o.topic, o.key, o.value, o.headers) for o in given] == [(o.topic, o.key, o.value, o.headers) for o in decoded]
    assert any(decode(o.value, o.headers, Lead).entities for o in given if o.topic == "leads.routed")
    # models out of step with the records (none, or another lead's): the records are decoded
    shifted = HotIssueStage(HotIssueSettings()).process(outputs, records, leads=leads[1:], cases={})
    assert [(o.topic, o.key, o.value) for o in shifted] == [(o.topic, o.key, o.value) for o in decoded]
