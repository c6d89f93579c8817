"""Categorization macro-F1 on a held-out split of the labelled board messages.

    python -m benchmarks.categorize_quality [--seeds 0,1,2,3,4] [--out benchmarks/results/classifier.pkl]

Per seed, the validation split is 20 % of messages_labelled.csv (raw title + text), stratified.
Training uses the other 80 % plus messages_tokens_labelled.csv (jieba tokens, joined) — minus every
token row that is a near copy of a validation message, so no validation message is seen in training
in another form. Target (issue 5): macro-F1 >= 0.93. Rows: the trained model alone; rules + model
(what `leadhub categorize --model` does); rules alone. The summary gives each row's mean and minimum
over the seeds, so one lucky split does not decide. The model's settings were chosen by
cross-validation inside the training part, never on these validation splits.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from benchmarks.common import RESULTS, print_table, read_csv, write_json
from enrichers.categorize import Categorizer
from enrichers.classifier import train
from enrichers.dedup import DedupConfig, anchors, similarity
from enrichers.taxonomy import load_taxonomy


def leaked(token_texts: list[str], validation: list[str]) -> set[int]:
    """Token rows that are the same message as a validation message (stop words removed)."""
    cfg = DedupConfig(shingle=2, sample=2)
    index: dict[int, set[int]] = {}
    val_anchors = [anchors("", v, cfg) for v in validation]
    for i, a in enumerate(val_anchors):
        for h in a:
            index.setdefault(h, set()).add(i)
    out = set()
    for row, text in enumerate(token_texts):
        mine = anchors("", text, cfg)
        votes: dict[int, int] = {}
        for h in mine:
            for i in index.get(h, ()):
                votes[i] = votes.get(i, 0) + 1
        for i, v in votes.items():
            if v >= 3 and similarity(mine, val_anchors[i])[1] >= 0.6:
                out.add(row)
                break
    return out


def evaluate(seed: int, labelled: list[dict[str, str]], tokens: list[dict[str, str]], out: Path | None) -> tuple[list[dict], dict]:
    """Scores of the three methods on one seed's validation split, and that split's data summary."""
    texts = [f"{r['title'] or ''}\n{r['text']}".strip() for r in labelled]
    labels = [r["label"] for r in labelled]
    x_train, x_val, y_train, y_val = train_test_split(texts, labels, test_size=0.2, random_state=seed, stratify=labels)
    token_texts = [r["tokens"].replace(" ", "") for r in tokens]
    drop = leaked(token_texts, x_val)
    extra = [(t, r["label"]) for i, (t, r) in enumerate(zip(token_texts, tokens, strict=True)) if i not in drop]

    started = time.perf_counter()
    model = train(
        x_train, y_train, validation_share=0, extra_texts=[t for t, _ in extra], extra_labels=[l for _, l in extra], seed=seed
    )
    train_s = time.perf_counter() - started
    if out:
        model.save(out)

    taxonomy = load_taxonomy()
    rows = []
    for name, categorizer in (
        ("model alone", None),
        ("rules + model", Categorizer(taxonomy, model)),
        ("rules alone", Categorizer(taxonomy)),
    ):
        started = time.perf_counter()
        if categorizer is None:
            predicted = list(model.pipeline.predict(x_val))
        else:
            predicted = [r.category or "-" for r in categorizer.categorize_many([("", x) for x in x_val])]
        elapsed = time.perf_counter() - started
        rows.append(
            {
                "seed": seed,
                "method": name,
                "macro_f1": round(float(f1_score(y_val, predicted, average="macro", labels=sorted(set(y_val)))), 4),
                "accuracy": round(sum(p == y for p, y in zip(predicted, y_val, strict=True)) / len(y_val), 4),
                "per_s": round(len(x_val) / elapsed),
            }
        )
    summary = {
        "seed": seed,
        "validation_rows": len(x_val),
        "train_rows": len(x_train),
        "token_rows_used": len(extra),
        "token_rows_dropped_as_copies_of_validation": len(drop),
        "train_seconds": round(train_s, 1),
    }
    return rows, summary


def over_seeds(rows: list[dict]) -> list[dict]:
    methods = dict.fromkeys(r["method"] for r in rows)
    table = []
    for method in methods:
        mine = [r for r in rows if r["method"] == method]
        f1s = [r["macro_f1"] for r in mine]
        table.append(
            {
                "method": method,
                "macro_f1_mean": round(statistics.fmean(f1s), 4),
                "macro_f1_min": min(f1s),
                "macro_f1_max": max(f1s),
                "accuracy_mean": round(statistics.fmean(r["accuracy"] for r in mine), 4),
                "per_s_mean": round(statistics.fmean(r["per_s"] for r in mine)),
            }
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated split seeds")
    parser.add_argument("--out", type=Path, default=RESULTS / "classifier.pkl", help="where to save the first seed's model")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]

    labelled = read_csv("messages_labelled.csv")
    tokens = read_csv("messages_tokens_labelled.csv")
    rows, data = [], []
    for seed in seeds:
        seed_rows, summary = evaluate(seed, labelled, tokens, args.out if seed == seeds[0] else None)
        rows += seed_rows
        data.append(summary)
        print_table(f"seed {seed}: categorization on the held-out split (target: macro-F1 >= 0.93)", seed_rows)
    summary_rows = over_seeds(rows)
    print_table("data", data)
    print_table(f"over seeds {args.seeds}", summary_rows)
    write_json("categorize_quality", {"args": {"seeds": seeds}, "over_seeds": summary_rows, "summary": data, "results": rows})


if __name__ == "__main__":
    main()
