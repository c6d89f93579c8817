"""What the hot-issue stage costs the route stage (the one global stage), one core, no Kafka.

    python -m benchmarks.hot_issue_stage [--leads 5000] [--batch 500] [--no-hints]

The board messages (benchmarks/end_to_end.py's corpus) are normalized, then routed in batches as the
worker's route agent takes them, with and without the hot-issue stage on the route stage's outputs
(streams/hot_issue_stage.py: entity extraction, clustering, the leads and case snapshots re-encoded
with their entities, the hot-issue records). Per 1,000 leads in arrival order, so growth with the
clusterer's state shows.

The hot-issue stage's per-lead work (entities by the suffix rules, complaint terms) is done ahead in the
normalize stage, per partition (HotIssueHints); its cost there is timed too, against normalize alone.
``--no-hints``: without it, all the work on the route stage (as before).
"""

from __future__ import annotations

import argparse
import time

from benchmarks.common import print_table, write_json
from benchmarks.end_to_end import corpus, make_leads
from enrichers.dedup import MemoryDedupState
from enrichers.hot_issues_settings import HotIssueSettings
from enrichers.route import MemoryCaseBook
from leadhub.settings import RoutingSettings
from schemas.leads import Lead
from schemas.serialization import decode, encode
from streams.hot_issue_stage import HotIssueHints, HotIssueStage
from streams.local_runner import MemoryStatuses
from streams.pipeline import build_router
from streams.records import Output, Record
from streams.stages import NormalizeStage, RouteStage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--no-hints", action="store_true", help="no work done ahead in normalize: all of it on the route stage")
    args = parser.parse_args()
    routing = RoutingSettings()
    raw = []
    for lead in make_leads(args.leads, "h", corpus()):
        value, headers = encode(lead)
        raw.append(Record(value, lead.key.encode(), headers, "leads.raw"))
    plain = NormalizeStage(routing.source_timezone)
    hints = HotIssueHints(HotIssueSettings())
    first = plain.handle(raw[0])[0]
    hints(decode(first.value, first.headers, Lead))  # jieba loads here, not in the timings
    began = time.perf_counter()
    plain.handle_many(raw)
    normalize_s = time.perf_counter() - began
    normalize = NormalizeStage(routing.source_timezone, annotate=None if args.no_hints else hints)
    began = time.perf_counter()
    clean = [Record(out.value, out.key, out.headers, "leads.clean") for out in normalize.handle_many(raw)]
    hinted_s = time.perf_counter() - began
    route = RouteStage(build_router(routing, MemoryDedupState(), MemoryCaseBook(), MemoryStatuses()))
    stage = HotIssueStage(HotIssueSettings())
    stage.process([])
    route_s = hot_s = 0.0
    sent = 0
    blocks: list[dict] = []
    block_route = block_hot = 0.0
    for start in range(0, len(clean), args.batch):
        batch = clean[start : start + args.batch]
        began = time.perf_counter()
        outputs: list[Output] = route.handle_many(batch)
        routed = time.perf_counter()
        outputs = stage.process(outputs, batch)
        done = time.perf_counter()
        route_s += routed - began
        hot_s += done - routed
        block_route += routed - began
        block_hot += done - routed
        sent += sum(1 for o in outputs if o.topic == "hot_issues")
        if (start + len(batch)) % 1000 == 0 or start + len(batch) == len(clean):
            n = (start + len(batch) - 1) % 1000 + 1
            blocks.append({"leads_so_far": start + len(batch), "route_ms_per_lead": 1000 * block_route / n,
                           "hot_issues_ms_per_lead": 1000 * block_hot / n, "issues": len(stage.clusterer.issues)})  # fmt: skip
            block_route = block_hot = 0.0
    n = len(clean)
    rows = [
        {"stage": "normalize (per partition)", "leads": n, "ms_per_lead": 1000 * normalize_s / n, "per_s": n / normalize_s},
        {"stage": "normalize + hot-issue hints" if not args.no_hints else "normalize (no hints)", "leads": n,
         "ms_per_lead": 1000 * hinted_s / n, "per_s": n / hinted_s},
        {"stage": "route (handle_many)", "leads": n, "ms_per_lead": 1000 * route_s / n, "per_s": n / route_s},
        {"stage": "hot-issue stage (process)", "leads": n, "ms_per_lead": 1000 * hot_s / n, "per_s": n / hot_s},
        {"stage": "route + hot issues", "leads": n, "ms_per_lead": 1000 * (route_s + hot_s) / n, "per_s": n / (route_s + hot_s)},
    ]
    print_table(f"Route stage with the hot-issue stage, one core, batches of {args.batch} ({sent} hot-issue records sent)", rows)
    print_table("Per 1,000 leads in arrival order", blocks)
    write_json("hot_issue_stage" + ("_no_hints" if args.no_hints else ""),
               {"rows": rows, "blocks": blocks, "hot_issue_records": sent, "batch": args.batch, "hints": not args.no_hints})


if __name__ == "__main__":
    main()
