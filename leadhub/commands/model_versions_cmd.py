"""Model versions (routing.model_dir): `leadhub model list | promote | rollback`, and what
`leadhub model train` needs to write a new version, with officers' corrections and a comparison with
the model in use."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import typer
from sklearn.metrics import f1_score

from enrichers.categorize import Categorizer
from enrichers.classifier import TextClassifier
from enrichers.learned_routing import LearnedRouting, RoutingFact, learn
from enrichers.model_card import correction_lines
from enrichers.model_versions import VersionError, model_file, next_version, promote, read_pointer, rollback, versions
from enrichers.taxonomy import DEFAULT_TAXONOMY, load_taxonomy
from leadhub.corrections import Correction, hold_out, learnable, read_lessons
from schemas.errors import ConfigError
from streams.pipeline import load_model, model_choice

# A correction is an officer's decision for this city, where the base data is another city's board:
# one counts as much as ten base rows. benchmarks.learning, 100 corrections, later leads right: seed 0
# 87.1 % at 5, 88.6 % at 10, 90.0 % at 20; seed 1 87.9 % at 10, 88.6 % at 20; other classes' level-1
# 93 % at 5 and 10, 91.3 % at 20 (seed 0): 20 buys a point here and costs two elsewhere.
DEFAULT_CORRECTIONS_WEIGHT = 10.0


def _model_dir(ctx: typer.Context) -> Path:
    model_dir = ctx.obj.settings.routing.model_dir
    if model_dir is None:  # the root settings always set one; a bare section may not
        raise ConfigError("routing.model_dir is not set", hint="set routing.model_dir to the folder of model versions")
    return Path(model_dir)


def model_list(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="One JSON object a version.")) -> None:
    """The versions in routing.model_dir: created, validation macro-F1, corrections, which one routes."""
    model_dir = _model_dir(ctx)
    try:
        pointer = read_pointer(model_dir)
    except VersionError as exc:
        raise ConfigError(str(exc), hint="promote a version again: leadhub model promote VERSION") from None
    found = versions(model_dir)
    rows = [
        {
            "version": v.name, "created": v.created, "macro_f1": v.macro_f1, "current": v.name == pointer.version,
            "corrections": ((v.card or {}).get("corrections") or {}).get("trained_on"),
        }
        for v in found
    ]  # fmt: skip
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    if not rows:
        typer.echo(f"no model versions in {model_dir}; write one with `leadhub model train … ` (no --out)")
        return
    typer.echo(f"  {'version':<8} {'created':<26} {'macro-F1':>8} {'corrections':>11}")
    for row in rows:
        f1 = f"{row['macro_f1']:.4f}" if row["macro_f1"] is not None else "-"
        corrections = "-" if row["corrections"] is None else str(row["corrections"])
        typer.echo(f"{'*' if row['current'] else ' '} {row['version']:<8} {row['created'] or '-':<26} {f1:>8} {corrections:>11}")
    if pointer.version is None:
        typer.echo("none promoted: routing.model default uses the package's default model (or rules)")
    else:
        typer.echo(f"* current (promoted {pointer.at}); history: {' -> '.join(pointer.promoted)}")


def model_promote(ctx: typer.Context, version: str = typer.Argument(..., help="A version from `leadhub model list`, e.g. v0003.")) -> None:
    """Route with VERSION: the running workers and embedded mode load it within routing.model_check_seconds."""
    model_dir = _model_dir(ctx)
    try:
        TextClassifier.load(model_file(model_dir, version))  # never point the stages at a file they cannot read
    except (ValueError, OSError) as exc:
        if model_file(model_dir, version).is_file():
            raise ConfigError(f"{version} cannot be loaded: {exc}", hint="train a new version") from None
    try:
        pointer = promote(model_dir, version)
    except VersionError as exc:
        raise ConfigError(str(exc), hint="see `leadhub model list`") from None
    typer.echo(f"current model version: {pointer.version} ({model_dir})")


def model_rollback(ctx: typer.Context) -> None:
    """Route with the version promoted before the current one again."""
    model_dir = _model_dir(ctx)
    try:
        pointer = rollback(model_dir)
    except VersionError as exc:
        raise ConfigError(str(exc), hint="see `leadhub model list`") from None
    typer.echo(f"current model version: {pointer.version} ({model_dir})")


class TrainingSession:
    """What `model train` does beyond training when it writes a version or learns from corrections."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.trained_on: list[Correction] = []
        self.held_out: list[Correction] = []
        self.read = False
        self.share: float | None = None
        self.where = ""
        self.too_few: list[Correction] = []
        self.facts: list[RoutingFact] = []
        self.learned: LearnedRouting | None = None

    def new_version(self) -> tuple[str, Path]:
        model_dir = self.settings.routing.model_dir
        if model_dir is None:
            raise ConfigError("routing.model_dir is not set", hint="pass --out, or set routing.model_dir")
        name = next_version(Path(model_dir))
        path = model_file(Path(model_dir), name)
        path.parent.mkdir(parents=True, exist_ok=False)
        return name, path

    def read_corrections(self, share: float, base_labels: Sequence[str], validation_share: float) -> tuple[list[Correction], list[Correction]]:
        from leadhub.runtime import open_runtime

        runtime = open_runtime(self.settings, existing=True)
        try:
            rows, self.facts = read_lessons(runtime.store, share)
            self.where = runtime.describe()
        finally:
            runtime.close()
        if not rows and not self.facts:
            raise ConfigError(f"no recategorized cases with leads in {self.where}", hint="train without --corrections")
        trained_on, self.held_out = hold_out(rows, share)
        self.trained_on, self.too_few = learnable(trained_on, base_labels, validation_share)
        self.read, self.share = True, share
        return self.trained_on, self.held_out

    def learn_routing(self, base_texts: Sequence[str], base_labels: Sequence[str], min_support: int, seed: int) -> LearnedRouting:
        """Departments and level-2 classes from the corrections read (see enrichers/learned_routing.py)."""
        taxonomy = load_taxonomy(self.settings.routing.taxonomy or DEFAULT_TAXONOMY)
        self.learned = learn(self.facts, base_texts, base_labels, default_department=taxonomy.department_for,
                             min_support=min_support, seed=seed)  # fmt: skip
        return self.learned

    def card_sections(self, model: TextClassifier, version: str | None) -> dict[str, Any]:
        """The card's version, corrections and comparison with the model in use."""
        sections: dict[str, Any] = {}
        if version is not None:
            sections["version"] = version
        if self.read:
            sections["corrections"] = {
                "store": self.where, "cases": len({c.case_id for c in self.trained_on + self.held_out + self.too_few}),
                "trained_on": len(self.trained_on), "held_out": len(self.held_out),
                "held_out_cases": len({c.case_id for c in self.held_out}), "holdout_share": self.share,
                "labels": sorted({c.label for c in self.trained_on + self.held_out + self.too_few}),
                "too_few_to_learn": len(self.too_few), "too_few_labels": sorted({c.label for c in self.too_few}),
            }  # fmt: skip
        if self.learned is not None:
            sections["learned"] = self.learned.summary() | {"cases": len(self.facts), "held_out_cases": sum(f.held_out for f in self.facts)}
        sections["comparison"] = self._compare(model)
        return sections

    def _compare(self, model: TextClassifier) -> dict[str, Any]:
        """The new model and the one in use on the same validation rows, and on the held-out corrections.
        Validation: the new model's held-out predictions (trained without those rows); the model in use
        may have been trained on them (a model is refit on all its rows), which flatters it."""
        in_use, path = model_choice(self.settings.routing)
        try:
            current = load_model(path) if path else None
        except (ValueError, OSError) as exc:
            return {"in_use": in_use, "error": f"the model in use cannot be loaded: {exc}"}
        taxonomy = load_taxonomy(self.settings.routing.taxonomy or DEFAULT_TAXONOMY)
        result: dict[str, Any] = {"in_use": in_use}
        if model.validation is not None:
            texts, truth, new = model.validation
            result["validation"] = {"rows": len(texts), "new": _scores(truth, new), "in_use": _scores(truth, _predict(current, taxonomy, texts))}
        if self.held_out:
            texts, truth = [c.text for c in self.held_out], [c.label for c in self.held_out]
            result["held_out_corrections"] = {
                "rows": len(texts), "new": _scores(truth, _predict(model, taxonomy, texts)),
                "in_use": _scores(truth, _predict(current, taxonomy, texts)),
            }  # fmt: skip
        return result

    def summary(self, card: dict[str, Any]) -> list[str]:
        lines = correction_lines(card)
        corrections = card.get("corrections") or {}
        if corrections.get("too_few_to_learn"):
            lines.append(
                f"not trained on: {corrections['too_few_to_learn']} rows of {', '.join(corrections['too_few_labels'])}"
                " (a class needs 3 training rows; more corrections of it will be)"
            )
        return lines


def _predict(model: TextClassifier | None, taxonomy: Any, texts: Sequence[str]) -> list[str]:
    """Level-1 classes: the model's most likely label (model alone, as the card's validation scores), or
    the rules' category when no model is in use ("" for none)."""
    if model is None:
        return [r.category or "" for r in Categorizer(taxonomy).categorize_many([("", t) for t in texts])]
    proba = model.pipeline.predict_proba(list(texts))
    classes = np.asarray(model.pipeline.classes_)
    return [str(c) for c in classes[proba.argmax(axis=1)]]


def _scores(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    if not truth:
        return {"macro_f1": 0.0, "accuracy": 0.0}
    return {
        "macro_f1": round(float(f1_score(list(truth), list(predicted), average="macro", labels=sorted(set(truth)), zero_division=0)), 4),
        "accuracy": round(sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth), 4),
    }


__all__ = ["DEFAULT_CORRECTIONS_WEIGHT", "TrainingSession", "model_list", "model_promote", "model_rollback"]
