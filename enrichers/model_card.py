"""A model card: what a classifier file is, what taught it, how well it did, and how to make it again.

The card is JSON next to the model (``classifier.pkl`` → ``classifier.card.json``). It holds the
file's SHA-256 (so a card always names one exact file), the training files' SHA-256 and row counts,
the training command, the validation scores per class, the triage threshold and the calibration
figures with the rows they were chosen on (out-of-fold predictions of every base row; how many, in how
many folds). Nothing in it depends on the machine or the hour, so a reproducible build gives a
byte-identical card.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from enrichers.classifier import FORMAT, TextClassifier

CARD_FORMAT = "leadhub-model-card/1"


def card_path(model_path: Path) -> Path:
    return model_path.with_name(f"{model_path.stem}.card.json")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_card(
    model: TextClassifier, model_path: Path, data: Sequence[Mapping[str, Any]], command: Sequence[str]
) -> dict[str, Any]:
    """The card of ``model`` as saved at ``model_path``. ``data``: one entry per training file, with its
    ``name``, ``sha256``, ``rows`` (rows used) and ``role`` (train+validation, or train only)."""
    scores = dict(model.scores)
    validation = {k: scores.pop(k) for k in ("validation_size", "macro_f1", "accuracy", "per_label") if k in scores}
    return {
        "format": CARD_FORMAT,
        "model": {
            "file": model_path.name,
            "sha256": file_sha256(model_path),
            "bytes": model_path.stat().st_size,
            "format": FORMAT,
            "labels": model.labels,
            "sklearn_version": model.sklearn_version,
            "trained_at": model.trained_at,
        },
        "data": {"files": [dict(d) for d in data], "training_rows_sha256": model.data_sha256, "train_rows": scores.pop("train_size", None)},
        "training": {"command": " ".join(command), "seed": scores.pop("seed", None)},
        "validation": validation | {"extra_dropped_as_copies_of_validation": scores.pop("extra_dropped_as_copies_of_validation", None)},
        "triage": {**scores.pop("triage", {}), "threshold": model.triage_threshold},
        "calibration": scores.pop("calibration", {}),
    }


def write_card(card: Mapping[str, Any], path: Path) -> None:
    # Sorted keys, fixed indent, a final newline: the same card is the same bytes.
    path.write_text(json.dumps(card, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_card(path: Path) -> dict[str, Any]:
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"model card {path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"model card {path} cannot be read: {exc}") from None
    if not isinstance(card, dict) or card.get("format") != CARD_FORMAT:
        raise ValueError(f"{path} is not a leadhub model card")
    return card


def render(card: Mapping[str, Any]) -> str:
    """The card as text for a terminal."""
    model, data, validation = card["model"], card["data"], card["validation"]
    triage, calibration = card["triage"], card["calibration"]
    lines = [
        f"model      {model['file']}  {model['bytes'] / 1e6:.1f} MB  sha256 {model['sha256']}",
        f"           {len(model['labels'])} labels: {', '.join(model['labels'])}",
        f"           {model['format']}, scikit-learn {model['sklearn_version']}, trained {model['trained_at'] or '-'}",
        f"training   {card['training']['command']}",
        f"data       {data['train_rows']} rows, rows sha256 {data['training_rows_sha256']}",
    ]
    lines += [f"           {d['name']}: {d['rows']} rows ({d['role']}), sha256 {d['sha256']}" for d in data["files"]]
    if validation.get("validation_size"):
        lines.append(
            f"validation {validation['validation_size']} held-out rows: macro-F1 {validation['macro_f1']:.4f}, accuracy {validation['accuracy']:.4f}"
        )
        lines.append(f"           {'class':<12} {'precision':>9} {'recall':>7} {'F1':>7} {'rows':>5}")
        for label, s in validation["per_label"].items():
            lines.append(f"           {label:<12} {s['precision']:>9.3f} {s['recall']:>7.3f} {s['f1-score']:>7.3f} {int(s['support']):>5}")
    # Cards from before the out-of-fold choice have no 'chosen_on': their rows were the validation rows.
    chosen = triage.get("chosen_on")
    rows = f"out-of-fold predictions of {chosen['rows']} rows ({chosen['folds']} folds)" if chosen else "the validation rows"
    bound = f", its lower bound at z {chosen['precision_bound_z']}" if chosen and chosen.get("precision_bound_z") else ""
    if triage.get("threshold") is not None:
        lines.append(
            f"triage     threshold {triage['threshold']:.4f} (chosen on {rows} for precision >= {triage.get('target_precision')}{bound}):"
            f" {triage.get('coverage', 0):.1%} routed without triage, {triage.get('precision', 0):.1%} of them right"
        )
        if split := triage.get("validation_split"):
            lines.append(f"           on the {split['rows']} validation rows: {split['coverage']:.1%} routed, {split['precision']:.1%} of them right")
    if calibration:
        lines.append(f"calibration expected calibration error {calibration['ece']:.4f} on {rows}")
        lines += [f"           {b['bin']}: {b['n']:>4} rows, confidence {b['confidence']:.3f}, right {b['accuracy']:.3f}" for b in calibration["bins"]]
    return "\n".join(lines + _versioned(card))


def _versioned(card: Mapping[str, Any]) -> list[str]:
    """The parts a version in routing.model_dir adds: its name, the corrections, the comparison."""
    return ([f"version    {card['version']}"] if card.get("version") else []) + correction_lines(card)


def correction_lines(card: Mapping[str, Any]) -> list[str]:
    """What a model trained with --corrections learned from them and how it compares with the model in
    use (the card shows these, and `model train` prints them)."""
    lines = []
    if corrections := card.get("corrections"):
        lines.append(
            f"corrections from {corrections['store']}: {corrections['cases']} cases, {corrections['trained_on']} rows trained on,"
            f" {corrections['held_out']} held out ({corrections['held_out_cases']} cases), {corrections.get('too_few_to_learn', 0)}"
            " of classes with too few rows"
        )
    if learned := card.get("learned"):
        departments = ", ".join(f"{k} -> {v}" for k, v in learned["departments"].items()) or "none"
        classes = ", ".join(f"{k} ({n} cases)" for k, n in learned["level2_classes"].items()) or "none"
        lines.append(f"learned    departments: {departments}")
        lines.append(f"           level-2 classes: {classes}; used at confidence >= {learned['level2_threshold']}"
                     f" ({learned['level2_threshold_rows']} held-out rows chose it; 0: the default)")  # fmt: skip
    comparison = card.get("comparison") or {}
    for part, name in (("validation", "validation rows"), ("held_out_corrections", "held-out corrections")):
        if part in comparison:
            c = comparison[part]
            lines.append(
                f"compared   on {c['rows']} {name}: this model macro-F1 {c['new']['macro_f1']:.4f}, accuracy {c['new']['accuracy']:.4f};"
                f" {comparison['in_use']} (in use when trained) {c['in_use']['macro_f1']:.4f}, {c['in_use']['accuracy']:.4f}"
            )
    if "error" in comparison:
        lines.append(f"compared   {comparison['error']}")
    return lines
