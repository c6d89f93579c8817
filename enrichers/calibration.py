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
# How sure the choice must be that the routed leads reach it: the one-sided 95 % lower bound (Wilson) of
# their counted precision, not the count itself. A threshold whose rows are 98.0 % right is as likely
# to route new leads below 98 % as above; the bound asks for the margin the row count leaves.
CONFIDENCE_Z = 1.645


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


def wilson_lower(right: np.ndarray, n: np.ndarray, z: float) -> np.ndarray:
    """The Wilson score interval's lower end for ``right`` successes in ``n`` trials (elementwise), at
    ``z`` standard deviations (1.645: one-sided 95 %); ``z`` 0 is the plain share."""
    right, n = np.asarray(right, dtype=float), np.asarray(n, dtype=float)
    share = right / n
    centre = share + z * z / (2 * n)
    spread = z * np.sqrt(share * (1 - share) / n + z * z / (4 * n * n))
    return np.asarray((centre - spread) / (1 + z * z / n))


def choose_threshold(
    confidence: Sequence[float], correct: Sequence[bool], target_precision: float = TARGET_PRECISION, z: float = 0.0
) -> float:
    """The lowest confidence at which the predictions at or above it are still ``target_precision`` right
    (with ``z`` > 0: the lower bound of their precision at ``z``, see wilson_lower, reaches it).

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
    precision = wilson_lower(np.cumsum(right), np.arange(1, len(conf) + 1), z)
    return _widest_cut(conf, precision >= target_precision)


def sharpen(proba: np.ndarray, temperature: float) -> np.ndarray:
    """Each row of class probabilities raised to 1/``temperature`` and renormalised: below 1 sharper,
    above 1 flatter; the order of a row's classes never changes."""
    logs = np.log(np.clip(np.asarray(proba, dtype=float), 1e-12, 1.0)) / temperature
    logs -= logs.max(axis=1, keepdims=True)
    out = np.exp(logs)
    return np.asarray(out / out.sum(axis=1, keepdims=True))


def fit_temperature(proba: np.ndarray, truth: Sequence[int], bounds: tuple[float, float] = (0.05, 20.0)) -> float:
    """The temperature that makes ``proba`` (rows of class probabilities) likeliest for the true class
    indexes ``truth`` (mean log-loss), searched within ``bounds``: one number, so a few hundred
    validation rows fix it without over-fitting them. No rows: 1 (leave the probabilities as they are)."""
    from scipy.optimize import minimize_scalar

    proba = np.asarray(proba, dtype=float)
    truth_ix = np.asarray(truth, dtype=int)
    if not len(truth_ix):
        return 1.0
    rows = np.arange(len(truth_ix))

    def loss(log_t: float) -> float:
        return float(-np.log(np.clip(sharpen(proba, float(np.exp(log_t)))[rows, truth_ix], 1e-12, 1.0)).mean())

    found = minimize_scalar(loss, bounds=(np.log(bounds[0]), np.log(bounds[1])), method="bounded")
    return float(np.exp(found.x))


def calibrated_threshold(confidence: Sequence[float], target_precision: float = TARGET_PRECISION) -> float:
    """The lowest confidence at which the predictions at or above it are ``target_precision`` right on
    average by their own (calibrated) confidence: the mean confidence of the routed rows, not the count
    of right ones. Smooth where choose_threshold counts a few hundred right/wrong outcomes and picks
    the widest lucky prefix. Ties share a side; none good enough: above the surest."""
    conf = np.sort(np.asarray(confidence, dtype=float))[::-1]
    if not len(conf):
        return 1.0
    expected = np.cumsum(conf) / np.arange(1, len(conf) + 1)
    return _widest_cut(conf, expected >= target_precision)


def _widest_cut(conf: np.ndarray, reached: np.ndarray) -> float:
    """The lowest confidence of ``conf`` (sorted surest first) whose prefix ``reached`` the target; none:
    above the surest."""
    # Only cut where the next confidence is lower (or at the end), so equal confidences stay together.
    cut_ok = np.append(conf[1:] < conf[:-1], True)
    cuts = np.flatnonzero(reached & cut_ok)
    if not len(cuts):
        return float(np.nextafter(conf[0], np.inf)) if conf[0] < 1 else 1.0
    return float(conf[cuts[-1]])
