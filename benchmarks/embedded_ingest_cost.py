"""Where embedded ingest's CPU goes: N leads through EmbeddedPipeline (search_latency's data set, in
batches of 500, into a fresh file), with CPU-time counters around the stages' parts.

    python -m benchmarks.embedded_ingest_cost [--leads 5000] [--set hot_issues.enabled=false] [--set embedded.normalize_processes=0]

The first batch is not counted (jieba loads its dictionaries then). Each row is the CPU of one part
(process time, so a loaded machine's waiting is not in it) per lead of the counted batches; parts
nest (``prepare`` holds ``suffix_entities`` and ``term_weights``; the sink's ``handle`` holds the
``add_*``), so the rows do not add up to the total. The counters are wrappers put around the
functions for the run only; they add about a microsecond a call. The normalize stage runs in a pool
process (embedded.normalize_processes, 1 by default): its CPU is read from /proc, and its parts are
not counted (the counters are in this process only).
"""

from __future__ import annotations

import argparse
import collections
import functools
import importlib
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import children_cpu, print_table, write_json

BATCH = 500

# (module whose name the caller looks up, attribute, what the row says)
PARTS = [
    ("streams.stages", "NormalizeStage.handle", "normalize stage (with the hot-issue hints)"),
    ("streams.stages", "normalize_lead", "  normalize_lead"),
    ("streams.hot_issue_stage", "HotIssueHints.__call__", "  hot-issue hints (prepare + header)"),
    ("streams.hot_issue_stage", "prepare", "    rules: enrichers.hot_issues.prepare"),
    ("enrichers.hot_issues", "suffix_entities", "      rules: entities.suffix_entities (every caller)"),
    ("enrichers.hot_issues", "term_weights", "      rules: hot_issues.term_weights, TF-IDF (every caller)"),
    ("streams.stages", "RouteStage.route_batch", "route stage"),
    ("streams.hot_issue_stage", "HotIssueStage.process", "hot-issue stage"),
    ("streams.hot_issue_stage", "HotIssueClusterer.add", "  rules: HotIssueClusterer.add (placing)"),
    ("streams.hotspot_stage", "HotspotStage.handle", "hotspot detector"),
    ("sinks.embedded_sink", "EmbeddedSink.handle", "embedded sink (decode + write)"),
    ("sinks.embedded_sink", "EmbeddedSink.add_lead", "  write_lead"),
    ("sinks.embedded_sink", "EmbeddedSink.add_case_state", "  write_case_state"),
    ("sinks.embedded_sink", "EmbeddedSink.add_hot_issue", "  write_hot_issue"),
    ("sinks.contract", "decode", "  the sink's decoding"),
]


def counted(spent: dict[str, float], calls: collections.Counter[str]) -> None:
    """Wrap each part in a CPU-time counter (for this process only)."""
    for module_name, attribute, label in PARTS:
        owner: Any = importlib.import_module(module_name)
        *path, name = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args: Any, __original: Any = original, __label: str = label, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return __original(*args, **kwargs)
            finally:
                spent[__label] += time.process_time() - started
                calls[__label] += 1

        setattr(owner, name, timed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=5000)
    parser.add_argument("--set", dest="extra", action="append", default=[], help="extra setting, KEY=VALUE")
    args = parser.parse_args()

    from benchmarks.search_latency import _settings, raw_leads
    from leadhub.embedded import EmbeddedPipeline

    spent: dict[str, float] = collections.defaultdict(float)
    calls: collections.Counter[str] = collections.Counter()
    counted(spent, calls)
    folder = Path(tempfile.mkdtemp(prefix="embedded-ingest-cost-"))
    settings = _settings(
        [
            f"embedded.path={folder / 'embedded.sqlite'}",
            f"attachments.path={folder / 'attachments'}",
            "mode=embedded",
            *args.extra,
        ]
    )
    pipeline = EmbeddedPipeline(settings)
    leads = list(raw_leads(args.leads))
    pipeline.submit_raw(leads[:BATCH])  # not counted: dictionaries and models load in the first batch
    spent.clear()
    calls.clear()
    started, cpu, pool_cpu = time.perf_counter(), time.process_time(), children_cpu()
    for start in range(BATCH, len(leads), BATCH):
        pipeline.submit_raw(leads[start : start + BATCH])
    seconds, cpu, pool_cpu = time.perf_counter() - started, time.process_time() - cpu, children_cpu() - pool_cpu
    pipeline.close()
    n = len(leads) - BATCH
    rows = [
        {"part": "total, this process and the normalize pool's", "cpu_ms_per_lead": 1000 * (cpu + pool_cpu) / n, "calls": n},
        {"part": "this process", "cpu_ms_per_lead": 1000 * cpu / n, "calls": n},
        {"part": "the normalize pool's processes (not in the parts below)", "cpu_ms_per_lead": 1000 * pool_cpu / n, "calls": n},
    ]
    rows += [
        {"part": label, "cpu_ms_per_lead": 1000 * spent[label] / n, "calls": calls[label]}
        for _, _, label in PARTS
        if calls[label]
    ]
    load = os.getloadavg()[0]
    print_table(f"embedded ingest, {n:,} leads counted: {n / seconds:,.0f} leads/s wall-clock, load average {load:.1f}", rows)
    write_json("embedded_ingest_cost", {"args": vars(args), "leads_per_s": n / seconds, "load": load, "parts": rows})


if __name__ == "__main__":
    main()
