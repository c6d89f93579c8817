"""Dedup pairwise precision and recall on the re-post set (benchmarks/repost_set.py).

    python -m benchmarks.dedup_quality [--reposts 2000] [--seed 7] [--background 100000] [--method minhash]

Targets (issue 5): precision >= 0.98, recall >= 0.95. --background N spreads N distinct leads
(route_speed's Markov texts, each its own complaint) evenly among the set's, as a busy city's other
complaints come between a lead and its re-posts: the set is then judged inside a grown state, where
most anchors are common and an original has moved far back in their postings. Precision and recall
are over the set's leads. --method minhash judges datasketch's MinHash-LSH on the same set instead
(benchmarks/minhash_baseline.py), the comparison behind leadhub's own anchors.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter, defaultdict
from math import comb

from benchmarks.common import print_table, write_json
from benchmarks.repost_set import REPOST_KINDS, build
from enrichers.dedup import DedupConfig, Deduplicator, MemoryDedupState


def pairwise(truth: dict[str, str], predicted: dict[str, str]) -> tuple[float, float, int, int, int]:
    both = Counter((truth[i], predicted[i]) for i in truth)
    tp = sum(comb(n, 2) for n in both.values())
    pred_pairs = sum(comb(n, 2) for n in Counter(predicted.values()).values())
    true_pairs = sum(comb(n, 2) for n in Counter(truth.values()).values())
    return (tp / pred_pairs if pred_pairs else 1.0), (tp / true_pairs if true_pairs else 1.0), tp, pred_pairs, true_pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reposts", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--background", type=int, default=0, help="distinct leads spread among the set's")
    parser.add_argument("--method", choices=("anchors", "minhash"), default="anchors", help="leadhub's dedup, or the MinHash-LSH baseline")
    parser.add_argument("--threshold", type=float, default=DedupConfig().jaccard, help="minhash only: the Jaccard threshold")
    args = parser.parse_args()

    items = build(reposts=args.reposts, seed=args.seed)
    if args.method == "minhash":
        from benchmarks.minhash_baseline import MinHashAssigner

        assign_case = MinHashAssigner(args.threshold).assign
    else:
        dedup = Deduplicator(MemoryDedupState(), DedupConfig())
        assign_case = lambda *lead: dedup.assign(*lead).case_id  # noqa: E731
    make_background = None
    if args.background:
        from benchmarks.route_speed import DistinctTexts, texts

        make_background = DistinctTexts(texts())
    elapsed = 0.0  # in assign() only, not in writing the background texts

    def assign(lead_id: str, title: str, text: str, published_at=None) -> str:
        nonlocal elapsed
        started = time.perf_counter()
        case_id = assign_case(lead_id, title, text, published_at)
        elapsed += time.perf_counter() - started
        return case_id

    predicted: dict[str, str] = {}
    filled = 0
    for k, it in enumerate(items):
        while make_background and filled < args.background * k // len(items):
            assign(f"background-{filled}", *make_background(filled))
            filled += 1
        predicted[it.id] = assign(it.id, it.title, it.text, it.published_at)
    truth = {it.id: it.group for it in items}
    precision, recall, tp, pred_pairs, true_pairs = pairwise(truth, predicted)

    # Recall per re-post kind: did the re-post land in its original group's case?
    by_group = defaultdict(set)
    for it in items:
        if it.kind == "original":
            by_group[it.group].add(predicted[it.id])
    kind_rows = []
    for kind in REPOST_KINDS:
        mine = [it for it in items if it.kind == kind]
        joined = sum(1 for it in mine if predicted[it.id] in by_group[it.group])
        kind_rows.append({"kind": kind, "reposts": len(mine), "joined_its_case": joined, "share": joined / len(mine) if mine else 0.0})

    summary = {
        "method": args.method,
        "background_leads": filled,
        "leads": len(items),
        "true_groups": len(set(truth.values())),
        "predicted_cases": len(set(predicted.values())),
        "pairwise_precision": round(precision, 4),
        "pairwise_recall": round(recall, 4),
        "true_pairs": true_pairs,
        "predicted_pairs": pred_pairs,
        "correct_pairs": tp,
        "leads_per_s": round((len(items) + filled) / elapsed),
    }
    print_table("dedup quality (targets: precision >= 0.98, recall >= 0.95)", [summary])
    print_table("re-posts that joined their original's case", kind_rows)
    write_json("dedup_quality" if args.method == "anchors" else f"dedup_quality-{args.method}", {"args": vars(args), "config": DedupConfig().__dict__, "summary": summary, "by_kind": kind_rows})


if __name__ == "__main__":
    main()
