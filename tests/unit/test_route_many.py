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
