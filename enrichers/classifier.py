"""A trained text classifier for level-1 categories: character n-grams, no word segmentation.

The model file records its labels, a hash of its training data and its validation scores, so a
categorization can always be traced to the data that taught it. Model files are pickles: load only
files you made or trust.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.calibration import CalibratedClassifierCV
from sklearn.svm import LinearSVC
from sklearn.metrics import classification_report, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

FORMAT = "leadhub-classifier/1"


class ModelFileError(ValueError):
    """The model file is missing, unreadable or not a leadhub classifier."""


def data_hash(texts: Sequence[str], labels: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(label.encode())
        digest.update(b"\x1f")
        digest.update(text.encode())
        digest.update(b"\x1e")
    return digest.hexdigest()


def build_pipeline(seed: int = 0) -> Pipeline:
    # Measured on the board messages (benchmarks/categorize_quality.py): a linear SVM over character
    # 1-3-grams with balanced class weights beat logistic regression and word features; calibration
    # turns its margins into the probabilities the categorizer blends with the rules.
    svm = LinearSVC(C=0.5, class_weight="balanced", random_state=seed)
    return Pipeline(
        [
            ("tfidf", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2, max_features=400_000)),
            ("clf", CalibratedClassifierCV(svm, cv=3, method="sigmoid")),
        ]
    )


@dataclass
class TextClassifier:
    pipeline: Pipeline
    labels: list[str]
    data_sha256: str
    scores: dict[str, Any] = field(default_factory=dict)
    trained_at: str = ""
    sklearn_version: str = sklearn.__version__

    def predict_proba(self, texts: Sequence[str]) -> list[dict[str, float]]:
        classes = [str(c) for c in self.pipeline.classes_]
        return [dict(zip(classes, map(float, row))) for row in self.pipeline.predict_proba(list(texts))]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"format": FORMAT, **{k: getattr(self, k) for k in ("pipeline", "labels", "data_sha256", "scores", "trained_at", "sklearn_version")}}
        with path.open("wb") as out:
            pickle.dump(payload, out, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def load(cls, path: Path) -> TextClassifier:
        try:
            with Path(path).open("rb") as f:
                payload = pickle.load(f)  # noqa: S301 - our own model files only (see module doc)
        except FileNotFoundError:
            raise ModelFileError(f"model file {path} does not exist") from None
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
            raise ModelFileError(f"model file {path} cannot be read: {exc}") from None
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ModelFileError(f"{path} is not a leadhub classifier file")
        payload.pop("format")
        return cls(**payload)


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    validation_share: float = 0.2,
    extra_texts: Sequence[str] = (),
    extra_labels: Sequence[str] = (),
    seed: int = 0,
) -> TextClassifier:
    """Train on a stratified split of ``texts``; score on the held-out part; refit on everything.

    ``extra_texts`` join the training part only (e.g. a second, differently shaped data set).
    """
    if len(set(labels)) < 2:
        raise ValueError("training needs at least two distinct labels")
    scores: dict[str, Any] = {}
    if validation_share > 0:
        x_train, x_val, y_train, y_val = train_test_split(
            list(texts), list(labels), test_size=validation_share, random_state=seed, stratify=list(labels)
        )
        held_out = build_pipeline(seed).fit(x_train + list(extra_texts), y_train + list(extra_labels))
        predicted = held_out.predict(x_val)
        scores = {
            "validation_size": len(x_val),
            "macro_f1": round(float(f1_score(y_val, predicted, average="macro")), 4),
            "per_label": {
                label: round(values["f1-score"], 4)
                for label, values in classification_report(y_val, predicted, output_dict=True, zero_division=0).items()
                if isinstance(values, dict) and label not in ("macro avg", "weighted avg")
            },
        }
    all_texts, all_labels = list(texts) + list(extra_texts), list(labels) + list(extra_labels)
    final = build_pipeline(seed).fit(all_texts, all_labels)
    return TextClassifier(
        pipeline=final,
        labels=sorted(set(all_labels)),
        data_sha256=data_hash(all_texts, all_labels),
        scores=scores | {"train_size": len(all_texts), "seed": seed},
        trained_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    )
