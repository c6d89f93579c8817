"""Speed of the pure stages, and dedup's cost as its state grows.

    python -m benchmarks.route_speed [--leads 20000] [--dedup-sizes 10000,100000,1000000] [--model PATH]

Single process = one core. Texts are the board messages, cycled. Targets (issue 5): the route path
(categorize + places + priority) >= 2,000 leads/s per core; dedup cost per lead flat (<= 1.3x) from
10k to 1M leads of state, with the state's bytes per lead.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import time
from pathlib import Path

from benchmarks.common import print_table, read_csv, write_json
from enrichers.categorize import Categorizer
from enrichers.classifier import TextClassifier
from enrichers.dedup import DedupConfig, Deduplicator, MemoryDedupState
from enrichers.normalize import normalize_lead
from enrichers.places import load_gazetteer
from enrichers.priority import assess_priority
from enrichers.taxonomy import load_taxonomy
from schemas.leads import RawLead


def texts() -> list[tuple[str, str]]:
    return [(r["留言主题"], r["留言详情"]) for r in read_csv("board_messages.csv")]


def rate(fn, items) -> float:
    started = time.perf_counter()
    for item in items:
        fn(item)
    return len(items) / (time.perf_counter() - started)


def stage_rates(corpus: list[tuple[str, str]], n: int, model: Path | None) -> list[dict]:
    items = [corpus[i % len(corpus)] for i in range(n)]
    taxonomy, gazetteer = load_taxonomy(), load_gazetteer()
    rules = Categorizer(taxonomy)
    raws = [RawLead(source="bench", channel="forum", external_id=str(i), title=t, body=x) for i, (t, x) in enumerate(items)]
    rows = [
        {"stage": "normalize (html, pii, language)", "leads_per_s": rate(normalize_lead, raws)},
        {"stage": "categorize (rules)", "leads_per_s": rate(lambda it: rules.categorize(*it), items)},
        {"stage": "places", "leads_per_s": rate(lambda it: gazetteer.locate(it[1]), items)},
        {"stage": "priority", "leads_per_s": rate(lambda it: assess_priority(it[1]), items)},
        {
            "stage": "route path: categorize (rules) + places + priority",
            "leads_per_s": rate(lambda it: (rules.categorize(*it), gazetteer.locate(it[1]), assess_priority(it[1])), items),
        },
    ]
    if model:
        with_model = Categorizer(taxonomy, TextClassifier.load(model))
        batch = 256
        started = time.perf_counter()
        for i in range(0, len(items), batch):
            with_model.categorize_many(items[i : i + batch])
        rows.append({"stage": "categorize (rules + model, batches of 256)", "leads_per_s": len(items) / (time.perf_counter() - started)})
    return [r | {"leads_per_s": round(r["leads_per_s"])} for r in rows]


class DistinctTexts:
    """Endless distinct complaints with real text's statistics: an order-2 character Markov chain
    trained on the corpus writes each one, so every trigram is one real messages use (the anchor
    vocabulary stays as it would be) while no two texts are near duplicates."""

    def __init__(self, corpus: list[tuple[str, str]], seed: int = 11) -> None:
        self.rng = random.Random(seed)
        self.next: dict[str, list[str]] = {}
        for _, text in corpus:
            for i in range(len(text) - 2):
                self.next.setdefault(text[i : i + 2], []).append(text[i + 2])
        self.starts = [text[:2] for _, text in corpus if len(text) > 2]
        self.titles = [title for title, _ in corpus]

    def __call__(self, n: int) -> tuple[str, str]:
        state = self.rng.choice(self.starts)
        out = [state]
        for _ in range(self.rng.randint(150, 400)):
            options = self.next.get(state)
            if not options:
                state = self.rng.choice(self.starts)
                out.append(state)
                continue
            ch = self.rng.choice(options)
            out.append(ch)
            state = state[1] + ch
        return self.titles[n % len(self.titles)], "".join(out)


def _rss() -> int:
    """Resident memory of this process (Linux); tracemalloc would slow what is being timed."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def dedup_scale(corpus: list[tuple[str, str]], sizes: list[int], probe: int = 2000, rounds: int = 16) -> list[dict]:
    """Fill the state to each size with distinct leads, then time `probe` more.

    us_per_lead is the wall time of all `probe` leads over their number. On a shared machine wall time
    also counts waiting for the CPU, so the same leads' process CPU time is reported as well, the
    median of `rounds` equal rounds (one preempted round does not move it) and the time the garbage
    collector took. state_rss_bytes_per_lead is the resident memory the state added over its leads;
    marginal_bytes_per_lead the memory the leads since the previous size added, each.

    vs_reference is the growth figure to trust: each round's leads are also timed on a second state
    of the smallest size, right before or after (alternating), and the median of the per-round
    ratios is reported. On this VM the same state size measured 390-560 us a lead in runs minutes
    apart, so ratios of separately timed sizes were mostly noise; a paired round shares its noise.
    """
    rows = []
    dedup = Deduplicator(MemoryDedupState(), DedupConfig())
    make = DistinctTexts(corpus)
    in_gc = [0.0, 0.0]  # seconds in collections, start of the current one

    def gc_clock(phase: str, info: dict) -> None:
        if phase == "start":
            in_gc[1] = time.perf_counter()
        else:
            in_gc[0] += time.perf_counter() - in_gc[1]

    reference = Deduplicator(MemoryDedupState(), DedupConfig())
    make_reference = DistinctTexts(corpus, seed=12)
    for i in range(min(sizes)):
        reference.assign(f"r{i}", *make_reference(i))
    gc.collect()
    base = _rss()
    filled, previous_size, previous_bytes = 0, 0, 0
    gc.callbacks.append(gc_clock)
    try:
        for size in sorted(sizes):
            while filled < size:
                dedup.assign(f"s{filled}", *make(filled))
                filled += 1
            gc.collect()
            state_bytes = _rss() - base
            probes = [make(filled + i) for i in range(probe)]
            per_round = -(-probe // rounds)
            round_us, ratios, wall, cpu = [], [], 0.0, 0.0
            in_gc[0] = 0.0
            for number, start in enumerate(range(0, probe, per_round)):
                batch = probes[start : start + per_round]
                reference_first = number % 2
                if reference_first:
                    on_reference = _time_assign(reference, f"r{size}-{start}", batch)
                cpu_started = time.process_time()
                took = _time_assign(dedup, f"p{size}-{start}", batch)
                wall, cpu = wall + took, cpu + time.process_time() - cpu_started
                if not reference_first:
                    on_reference = _time_assign(reference, f"r{size}-{start}", batch)
                round_us.append(took / len(batch) * 1e6)
                ratios.append(took / on_reference)
            per_lead_us = wall / probe * 1e6
            filled += probe
            rows.append({
                "state_leads": size, "us_per_lead": round(per_lead_us), "median_round_us": round(statistics.median(round_us)),
                "cpu_us_per_lead": round(cpu / probe * 1e6), "gc_us_per_lead": round(in_gc[0] / probe * 1e6, 1),
                "vs_reference": round(statistics.median(ratios), 2),
                "state_rss_bytes_per_lead": round(state_bytes / size),
                "marginal_bytes_per_lead": round((state_bytes - previous_bytes) / (size - previous_size)),
            })  # fmt: skip
            previous_size, previous_bytes = size, state_bytes
            print(f"  dedup state {size:,}: {per_lead_us:.0f} us/lead", flush=True)
    finally:
        gc.callbacks.remove(gc_clock)
    for key, ratio in (("us_per_lead", "vs_smallest"), ("cpu_us_per_lead", "cpu_vs_smallest")):
        first = rows[0][key]
        for row in rows:
            row[ratio] = round(row[key] / first, 2)
    return rows


def _time_assign(dedup: Deduplicator, prefix: str, batch: list[tuple[str, str]]) -> float:
    started = time.perf_counter()
    for i, (title, text) in enumerate(batch):
        dedup.assign(f"{prefix}-{i}", title, text)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--dedup-sizes", default="10000,100000,1000000")
    parser.add_argument("--model", type=Path, default=None, help="also time rules + this classifier")
    args = parser.parse_args()
    corpus = texts()
    stages = stage_rates(corpus, args.leads, args.model)
    print_table("pure stages, one core (target: route path >= 2,000 leads/s)", stages)
    sizes = [int(s) for s in args.dedup_sizes.split(",") if s]
    scale = dedup_scale(corpus, sizes)
    print_table("dedup cost as the state grows (target: flat, <= 1.3x)", scale)
    write_json("route_speed", {"args": vars(args) | {"model": str(args.model) if args.model else None}, "stages": stages, "dedup_scale": scale})


if __name__ == "__main__":
    main()
