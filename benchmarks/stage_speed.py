"""Each stage handler on its own, one core, no Kafka: what a worker can do at most per stage.

    python -m benchmarks.stage_speed [--leads 10000] [--profile route]

Rows: normalize (decode RawLead, clean, mask, encode), route (decode Lead, categorize, place,
priority, dedup, case state, encode the outputs) with the state in memory, and the parts of route.
``--profile STAGE`` prints the top functions of that stage under cProfile.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

from benchmarks.common import print_table, write_json
from benchmarks.end_to_end import corpus, make_leads
from enrichers.dedup import MemoryDedupState
from enrichers.route import MemoryCaseBook
from leadhub.settings import RoutingSettings
from schemas.serialization import encode
from streams.local_runner import MemoryStatuses
from streams.pipeline import build_router
from streams.records import Record
from streams.stages import NormalizeStage, RouteStage


def _records(leads) -> list[Record]:
    out = []
    for lead in leads:
        value, headers = encode(lead)
        out.append(Record(value, lead.key.encode(), headers, "leads.raw"))
    return out


def timed(fn, items) -> tuple[float, list]:
    started = time.perf_counter()
    results = [fn(item) for item in items]
    return time.perf_counter() - started, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--profile", choices=["normalize", "route"], default=None)
    args = parser.parse_args()
    raw = _records(make_leads(args.leads, "s", corpus()))
    routing = RoutingSettings()
    normalize = NormalizeStage(routing.source_timezone)
    router = build_router(routing, MemoryDedupState(), MemoryCaseBook(), MemoryStatuses())
    route = RouteStage(router)

    normalize_s, outputs = timed(normalize.handle, raw)
    clean = [Record(o[0].value, o[0].key, o[0].headers, "leads.clean") for o in outputs]
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
    route_s, _ = timed(route.handle, clean)
    if args.profile == "route":
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    if args.profile == "normalize":
        fresh = NormalizeStage(routing.source_timezone)
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [fresh.handle(r) for r in raw])
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)

    # The parts of route, on the same leads (a fresh router so dedup starts empty again).
    from schemas.leads import Lead
    from schemas.serialization import decode

    leads = [decode(r.value, r.headers, Lead) for r in clean]
    fresh = build_router(routing, MemoryDedupState(), MemoryCaseBook(), MemoryStatuses())
    parts = {
        "decode Lead": lambda r: decode(r.value, r.headers, Lead),
        "categorize": lambda lead: fresh.categorizer.categorize(lead.title, lead.text),
        "places": lambda lead: fresh.gazetteer.locate(f"{lead.title}\n{lead.text}"),
        "dedup.assign": lambda lead: fresh.dedup.assign(lead.lead_id, lead.title, lead.text, lead.published_at),
        "encode Lead": lambda lead: encode(lead),
    }
    rows = [
        {"stage": "normalize (handler)", "leads": len(raw), "per_s": len(raw) / normalize_s, "ms_per_lead": 1000 * normalize_s / len(raw)},
        {"stage": "route (handler)", "leads": len(clean), "per_s": len(clean) / route_s, "ms_per_lead": 1000 * route_s / len(clean)},
    ]
    for name, fn in parts.items():
        items = clean if name == "decode Lead" else leads
        seconds, _ = timed(fn, items)
        rows.append({"stage": f"  route: {name}", "leads": len(items), "per_s": len(items) / seconds, "ms_per_lead": 1000 * seconds / len(items)})
    print_table("Stage handlers, one core", rows)
    write_json("stage_speed", {"rows": rows})


if __name__ == "__main__":
    main()
