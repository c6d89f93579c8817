"""How far a classifier's confidence can be trusted: reliability, calibration error, a triage threshold.

Pure functions over two parallel sequences, each prediction's confidence and whether it was right, so
the model's training (validation rows) and the benchmark (its own held-out rows) measure the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

# A dispatch centre's trade (issue 21): what is routed without a person is at least this often right.
TARGET_PRECISION = 0.98


def reliability(confidence: Sequence[float], correct: Sequence[bool], bins: int = 10) -> dict[str, Any]:
    """Equal-width confidence bins: each bin's count, mean confidence and accuracy, and the expected
    calibration error (ECE: the count-weighted mean gap between a bin's confidence and its accuracy)."""
    conf = np.asarray(confidence, dtype=float)
    right = np.asarray(correct, dtype=bool)
    if not len(conf):
        return {"ece": 0.0, "bins": []}
    # Bin i holds (i/bins, (i+1)/bins]; a confidence of exactly 0 joins the first bin.
    index = np.clip(np.ceil(conf * bins).astype(int) - 1, 0, bins - 1)
    rows, ece = [], 0.0
    for i in range(bins):
        mine = index == i
        n = int(mine.sum())
        if not n:
            continue
        mean_conf, accuracy = float(conf[mine].mean()), float(right[mine].mean())
        ece += n / len(conf) * abs(mean_conf - accuracy)
        rows.append({"bin": f"{i / bins:.1f}-{(i + 1) / bins:.1f}", "n": n, "confidence": round(mean_conf, 4), "accuracy": round(accuracy, 4)})
    return {"ece": round(ece, 4), "bins": rows}


def at_threshold(confidence: Sequence[float], correct: Sequence[bool], threshold: float) -> dict[str, Any]:
    """Share of predictions at or above ``threshold`` (routed without triage) and how often they are right."""
    conf = np.asarray(confidence, dtype=float)
    right = np.asarray(correct, dtype=bool)
    routed = conf >= threshold
    n = int(routed.sum())
    return {
        "threshold": round(float(threshold), 4),
        "coverage": round(n / len(conf), 4) if len(conf) else 0.0,
        "precision": round(float(right[routed].mean()), 4) if n else 1.0,
        "routed": n,
        "rows": len(conf),
    }


def choose_threshold(confidence: Sequence[float], correct: Sequence[bool], target_precision: float = TARGET_PRECISION) -> float:
    """The lowest confidence at which the predictions at or above it are still ``target_precision`` right.

    Confidences are walked from the surest down; the threshold stops at the widest such prefix, so
    coverage is as high as the precision allows. Ties share a side: a threshold never splits equal
    confidences. With no prefix good enough, everything above the surest prediction goes to triage.
    """
    conf = np.asarray(confidence, dtype=float)
    right = np.asarray(correct, dtype=bool)
    if not len(conf):
        return 1.0
    order = np.argsort(-conf, kind="stable")
    conf, right = conf[order], right[order]
    precision = np.cumsum(right) / np.arange(1, len(conf) + 1)
    # Only cut where the next confidence is lower (or at the end), so equal confidences stay together.
    cut_ok = np.append(conf[1:] < conf[:-1], True)
    good = np.flatnonzero((precision >= target_precision) & cut_ok)
    if not len(good):
        return float(np.nextafter(conf[0], np.inf)) if conf[0] < 1 else 1.0
    return float(conf[good[-1]])
