import numpy as np
import pytest

from enrichers.calibration import at_threshold, choose_threshold, fit_temperature, reliability, sharpen


def test_sharpen_keeps_each_rows_order_and_sums_to_one():
    proba = np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3]])
    for t in (0.3, 1.0, 4.0):
        out = sharpen(proba, t)
        assert np.allclose(out.sum(axis=1), 1.0)
        assert (out.argsort(axis=1) == proba.argsort(axis=1)).all()
    assert np.allclose(sharpen(proba, 1.0), proba)
    assert sharpen(proba, 0.5)[0, 0] > 0.6 > sharpen(proba, 2.0)[0, 0]


def test_fit_temperature_sharpens_an_underconfident_model_and_flattens_an_overconfident_one():
    rng = np.random.default_rng(0)
    n = 2000
    truth = rng.integers(0, 2, n)
    # Right 90 % of the time but saying 0.6: underconfident, a temperature below 1 makes it likelier.
    right = rng.random(n) < 0.9
    top = np.where(right, truth, 1 - truth)
    proba = np.zeros((n, 2))
    proba[np.arange(n), top] = 0.6
    proba[np.arange(n), 1 - top] = 0.4
    assert fit_temperature(proba, truth) < 0.5
    # Right 60 % of the time but saying 0.95: overconfident, a temperature above 1.
    right = rng.random(n) < 0.6
    top = np.where(right, truth, 1 - truth)
    proba[:] = 0.05
    proba[np.arange(n), top] = 0.95
    t = fit_temperature(proba, truth)
    assert t > 2
    # Sharpened by its fitted temperature, the confidence is near the accuracy.
    assert abs(sharpen(proba, t).max(axis=1).mean() - right.mean()) < 0.02


def test_fit_temperature_without_rows_leaves_probabilities_alone():
    assert fit_temperature(np.zeros((0, 3)), []) == 1.0


def test_threshold_reaches_the_target_precision_with_the_widest_coverage():
    confidence = [0.99, 0.95, 0.9, 0.8, 0.7, 0.6]
    correct = [True, True, True, False, True, False]
    threshold = choose_threshold(confidence, correct, 0.75)
    assert threshold == 0.7  # 4 of the 5 surest are right (0.8); the 6th would make it 4 of 6
    assert at_threshold(confidence, correct, threshold) | {} == {
        "threshold": 0.7, "coverage": round(5 / 6, 4), "precision": 0.8, "routed": 5, "rows": 6,
    }  # fmt: skip
    assert reliability([0.95, 0.95], [True, False])["ece"] == 0.45


def test_calibrated_threshold_routes_while_the_mean_confidence_reaches_the_target():
    from enrichers.calibration import calibrated_threshold

    # Means of the surest k: 1.0, 0.99, 0.98, 0.9725, …: the third is the last to reach 0.98.
    assert calibrated_threshold([0.96, 1.0, 0.98, 0.5, 0.95], 0.98) == 0.96
    # Equal confidences share a side: the cut cannot fall between the two 0.97s.
    # (the surest two average 0.985, all three 0.98): only the 1.0 is routed.
    assert calibrated_threshold([1.0, 0.97, 0.97], 0.985) == 1.0
    assert calibrated_threshold([0.9, 0.8], 0.98) > 0.9  # nothing sure enough: above the surest
    assert calibrated_threshold([], 0.98) == 1.0


def test_wilson_lower_bound_is_the_share_at_z_0_and_below_it_otherwise():
    from enrichers.calibration import wilson_lower

    assert wilson_lower(np.array([98]), np.array([100]), 0.0)[0] == pytest.approx(0.98)
    # 98 of 100 at one-sided 95 %: about 0.9413.
    assert wilson_lower(np.array([98]), np.array([100]), 1.645)[0] == pytest.approx(0.9413, abs=1e-4)
    # The same share on more rows gives a tighter bound.
    assert wilson_lower(np.array([980]), np.array([1000]), 1.645)[0] > wilson_lower(np.array([98]), np.array([100]), 1.645)[0]


def test_threshold_with_a_margin_routes_fewer_than_the_bare_count():
    # 200 sure right ones, then 100 at 0.8 with 2 wrong: the bare count (300 rows, 99.3 % right) routes
    # them all; the 95 % lower bound of 298/300 is below 0.985 while that of the first 200 is not.
    confidence = [0.9] * 200 + [0.8] * 100
    correct = [True] * 200 + [True] * 98 + [False] * 2
    assert choose_threshold(confidence, correct, 0.985) == 0.8
    assert choose_threshold(confidence, correct, 0.98, z=1.645) == 0.8
    assert choose_threshold(confidence, correct, 0.985, z=1.645) == 0.9
