"""The default model (issue 21): its card, its reproducible build, `routing.model: default | none`,
and the triage threshold chosen on validation."""

import json
import re

import pytest

import streams.pipeline as pipeline
from enrichers.calibration import at_threshold, choose_threshold, reliability
from enrichers.categorize import Categorizer
from enrichers.classifier import TextClassifier
from enrichers.model_card import card_path, file_sha256, read_card
from enrichers.models import DEFAULT_CARD, DEFAULT_MODEL
from enrichers.taxonomy import load_taxonomy
from leadhub.cli import main
from streams.settings import RoutingSettings
from tests.train_data import two_class_csv

# ---- calibration figures and the threshold choice (pure) ----


def test_reliability_bins_and_expected_calibration_error():
    # 0.95-confident and right 3 of 4; 0.55-confident and right 1 of 2.
    table = reliability([0.95, 0.95, 0.95, 0.95, 0.55, 0.55], [True, True, True, False, True, False])
    assert [(b["bin"], b["n"], b["accuracy"]) for b in table["bins"]] == [("0.5-0.6", 2, 0.5), ("0.9-1.0", 4, 0.75)]
    assert table["ece"] == pytest.approx(4 / 6 * 0.2 + 2 / 6 * 0.05, abs=1e-4)


def test_threshold_is_the_widest_prefix_at_the_target_precision():
    confidence = [0.99] * 49 + [0.9, 0.8, 0.7, 0.6]
    correct = [True] * 49 + [True, False, True, False]
    # Down to 0.9: 50/50 right; 0.8 adds a miss (50/51 = 0.980), 0.7 a hit (51/52 = 0.981), 0.6 a miss (51/53).
    assert choose_threshold(confidence, correct, 0.98) == 0.7
    assert at_threshold(confidence, correct, 0.7) == {"threshold": 0.7, "coverage": round(52 / 53, 4), "precision": round(51 / 52, 4), "routed": 52, "rows": 53}


def test_threshold_never_splits_equal_confidences_and_can_refuse_everything():
    # Among the three 0.9s one is wrong: taking them all is 3/4, so the cut stays above them.
    assert choose_threshold([0.95, 0.9, 0.9, 0.9], [True, True, True, False], 0.9) == 0.95
    assert choose_threshold([0.7, 0.6], [False, True], 0.98) > 0.7  # nothing is good enough: all to triage


# ---- a model trained by `leadhub model train`, its card, a byte-identical rebuild ----


def _train_csv(tmp_path):
    return two_class_csv(tmp_path / "train.csv")


def _train(data, out, capsys):
    args = ["model", "train", "--data", str(data), "--text-col", "title,text", "--label-col", "label", "--seed", "0"]
    assert main([*args, "--trained-at", "2026-12-07", "--out", str(out)]) == 0
    return capsys.readouterr().out


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small model trained twice into two folders with the same recipe."""
    import io
    from contextlib import redirect_stdout

    base = tmp_path_factory.mktemp("models")
    data = _train_csv(base)
    outs = []
    for name in ("a", "b"):
        (base / name).mkdir()
        with redirect_stdout(io.StringIO()):
            args = ["model", "train", "--data", str(data), "--text-col", "title,text", "--label-col", "label"]
            assert main([*args, "--trained-at", "2026-12-07", "--out", str(base / name / "classifier.pkl")]) == 0
        outs.append(base / name / "classifier.pkl")
    return data, outs


def test_model_train_writes_a_card_that_names_the_file_and_data(trained):
    data, (model, _) = trained
    card = read_card(card_path(model))
    assert card["model"]["sha256"] == file_sha256(model) and card["model"]["bytes"] == model.stat().st_size
    assert card["data"]["files"] == [{"name": "train.csv", "sha256": file_sha256(data), "rows": 60, "role": "train + validation"}]
    assert card["data"]["training_rows_sha256"] == TextClassifier.load(model).data_sha256
    assert card["training"]["command"].startswith("leadhub model train --data train.csv --text-col title,text --label-col label")
    assert set(card["validation"]["per_label"]) == {"城乡建设", "劳动和社会保障"}
    assert {"precision", "recall", "f1-score", "support"} <= set(card["validation"]["per_label"]["城乡建设"])
    assert card["triage"]["threshold"] == TextClassifier.load(model).triage_threshold
    assert {"coverage", "precision", "target_precision"} <= set(card["triage"]) and "ece" in card["calibration"]
    # How the threshold was chosen: out-of-fold predictions of all 60 base rows, 12 of them the validation split.
    assert card["triage"]["chosen_on"] == {"rows": 60, "folds": 5, "validation_rows": 12, "precision_bound_z": 1.645}


def test_the_same_recipe_builds_the_same_bytes(trained):
    _, (a, b) = trained
    assert file_sha256(a) == file_sha256(b)
    assert card_path(a).read_bytes() == card_path(b).read_bytes()


def test_the_card_is_rendered_in_the_cli(trained, capsys, clean_env):
    _, (model, _) = trained
    assert main(["model", "card", str(model)]) == 0
    out = capsys.readouterr().out
    assert file_sha256(model) in out and "triage     threshold" in out and "expected calibration error" in out
    assert "chosen on out-of-fold predictions of 60 rows (5 folds)" in out
    assert main(["model", "card", str(clean_env / "nothing.pkl")]) == 2
    assert "error:" in capsys.readouterr().err


def test_the_threshold_from_the_card_is_used(trained):
    _, (model, _) = trained
    loaded = TextClassifier.load(model)
    threshold = read_card(card_path(model))["triage"]["threshold"]
    categorizer = pipeline.build_categorizer(RoutingSettings(model=model))
    assert categorizer.triage_threshold == threshold == loaded.triage_threshold
    # An explicit routing.triage_threshold still wins; rules alone keep 0.5.
    assert pipeline.build_categorizer(RoutingSettings(model=model, triage_threshold=0.9)).triage_threshold == 0.9
    assert Categorizer(load_taxonomy()).triage_threshold == 0.5
    result = categorizer.categorize("", "公司拖欠工资第3个月")
    assert result.needs_triage == (result.confidence < threshold)


# ---- routing.model: default | none ----


def test_routing_model_none_is_rules_only():
    for value in ("none", None):
        assert pipeline.build_categorizer(RoutingSettings(model=value)).model is None
    assert RoutingSettings.model_validate({"model": "none"}).model == "none"


def test_routing_model_defaults_to_the_default_model(trained, monkeypatch):
    _, (model, _) = trained
    assert RoutingSettings().model == "default"
    monkeypatch.setattr(pipeline, "DEFAULT_MODEL", model)
    assert pipeline.model_path(RoutingSettings()) == model
    assert pipeline.build_categorizer(RoutingSettings()).model is not None


def test_categorize_with_no_flags_uses_the_default_model(trained, monkeypatch, capsys, clean_env):
    import io

    _, (model, _) = trained
    monkeypatch.setattr(pipeline, "DEFAULT_MODEL", model)
    line = json.dumps({"id": "x", "text": "拖欠工资第3个月"}, ensure_ascii=False) + "\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(line))
    assert main(["categorize"]) == 0
    with_default = json.loads(capsys.readouterr().out)
    expected = TextClassifier.load(model).predict_proba(["\n拖欠工资第3个月"])[0]
    assert with_default["confidence"] == round(max(expected.values()), 4)
    monkeypatch.setattr("sys.stdin", io.StringIO(line))
    assert main(["categorize", "--model", "none"]) == 0
    rules = json.loads(capsys.readouterr().out)
    assert rules["confidence"] != with_default["confidence"]


def test_the_default_model_matches_its_card_or_rules_route():
    """The card of the default model is in the repository; the model file is built from the board
    messages (`leadhub model build-default`) and must then be the file the card names."""
    card = read_card(DEFAULT_CARD)
    assert card["model"]["file"] == DEFAULT_MODEL.name
    assert [f["name"] for f in card["data"]["files"]] == ["messages_labelled.csv", "messages_tokens_labelled.csv"]
    assert all(re.fullmatch(r"[0-9a-f]{64}", f["sha256"]) for f in card["data"]["files"])
    assert card["triage"]["threshold"] is not None and card["model"]["bytes"] <= 20_000_000
    if DEFAULT_MODEL.is_file():
        assert file_sha256(DEFAULT_MODEL) == card["model"]["sha256"]
        model = TextClassifier.load(DEFAULT_MODEL)
        assert model.data_sha256 == card["data"]["training_rows_sha256"] and model.triage_threshold == card["triage"]["threshold"]
        assert pipeline.build_categorizer(RoutingSettings()).model is not None
    else:
        assert pipeline.model_path(RoutingSettings()) is None
