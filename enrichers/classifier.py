"""A trained text classifier for level-1 categories: character n-grams plus dictionary words.

Features are counted with numpy rather than sklearn's Python n-gram loop, which was the slowest step of
categorizing a message. Whitespace is dropped before counting, so a message and its space-separated
token form (the shape of segmented training data) yield the same features.

The model file records its labels, a hash of its training data and its validation scores, so a
categorization can always be traced to the data that taught it. Model files are pickles: load only
files you made or trust.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import pickle
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.metrics import classification_report, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.svm import LinearSVC

FORMAT = "leadhub-classifier/1"
_WHITESPACE = re.compile(r"\s+")
# Odd 64-bit multiplier of the rolling gram keys: two different grams sharing a key is astronomically
# unlikely, and would only merge two features.
_KEY_FACTOR = np.uint64(0x9E3779B97F4A7C15)


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


def gram_keys(
    texts: Sequence[str], ngram_range: tuple[int, int], head: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """A key for every character n-gram of every text (lower-cased, whitespace dropped, cut to ``head``
    characters if given), and its text's row."""
    cleaned = [_WHITESPACE.sub("", text.lower())[:head] for text in texts]
    # surrogatepass: a lone surrogate (from a broken upstream decode) is one more character, not an error.
    codes = np.frombuffer("".join(cleaned).encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    lengths = np.fromiter(map(len, cleaned), dtype=np.int64, count=len(cleaned))
    rows = np.repeat(np.arange(len(cleaned)), lengths)
    room = np.repeat(lengths.cumsum(), lengths) - np.arange(len(codes))  # characters left in the text
    rolling = np.zeros_like(codes)
    keys, key_rows = [], []
    for n in range(1, ngram_range[1] + 1):
        starts = max(len(codes) - n + 1, 0)
        rolling[:starts] = rolling[:starts] * _KEY_FACTOR + codes[n - 1 :]
        if n >= ngram_range[0]:
            whole = np.flatnonzero(room >= n)  # grams that do not run into the next text
            keys.append(rolling[whole])
            key_rows.append(rows[whole])
    return np.concatenate(keys), np.concatenate(key_rows)


@cache
def lexicon_keys(ngram_range: tuple[int, int]) -> np.ndarray:
    """Keys of the words in jieba's dictionary whose length is in ``ngram_range``."""
    with resources.files("jieba").joinpath("dict.txt").open(encoding="utf-8") as f:
        words = {line.split(" ", 1)[0].lower() for line in f}
    lo, hi = ngram_range
    keys = [gram_keys(same, (n, n))[0] for n in range(lo, hi + 1) if (same := [w for w in words if len(w) == n])]
    return np.unique(np.concatenate(keys))


# scikit-learn ships no type information: its bases are Any to mypy, which strict mode refuses to subclass.
class GramCounter(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Counts of the character n-grams seen in at least ``min_df`` training texts (sparse, one row a text).

    With ``lexicon`` only grams that are dictionary words count: a word-level view of the text without
    segmenting it, which is too slow for categorizing a stream. With ``head`` only the first characters
    count: a message opens with its title, which names the matter most directly.
    """

    def __init__(
        self, ngram_range: tuple[int, int] = (1, 3), *, lexicon: bool = False, head: int | None = None, min_df: int = 2
    ) -> None:
        self.ngram_range = ngram_range
        self.lexicon = lexicon
        self.head = head
        self.min_df = min_df

    def fit(self, texts: Sequence[str], y: object = None) -> GramCounter:
        keys, rows = gram_keys(texts, self.ngram_range, self.head)
        if self.lexicon:
            in_lexicon = np.isin(keys, lexicon_keys(tuple(self.ngram_range)))
            keys, rows = keys[in_lexicon], rows[in_lexicon]
        order = np.lexsort((rows, keys))
        keys, rows = keys[order], rows[order]
        first_in_text = np.ones(len(keys), dtype=bool)
        first_in_text[1:] = (keys[1:] != keys[:-1]) | (rows[1:] != rows[:-1])
        vocabulary, document_frequency = np.unique(keys[first_in_text], return_counts=True)
        self.vocabulary_ = vocabulary[document_frequency >= self.min_df]
        return self

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        # The vocabulary holds only lexicon words already: no dictionary needed here.
        keys, rows = gram_keys(texts, self.ngram_range, self.head)
        shape = (len(texts), len(self.vocabulary_))
        if not len(self.vocabulary_):
            return sp.csr_matrix(shape)
        columns = np.minimum(np.searchsorted(self.vocabulary_, keys), len(self.vocabulary_) - 1)
        known = self.vocabulary_[columns] == keys
        counts = sp.csr_matrix((np.ones(int(known.sum())), (rows[known], columns[known])), shape=shape)
        counts.sum_duplicates()
        return counts


def build_pipeline(seed: int = 0) -> Pipeline:
    # Chosen by 5-fold cross-validation inside the training part of benchmarks/categorize_quality.py's
    # splits (seeds 0 and 1), never on their validation part: on top of character 1-3-grams, dictionary
    # words (weight 0.7) and the grams of the first 20 characters (0.3) add about half a point of
    # macro-F1 each; C=0.5 and balanced class weights beat the alternatives tried. Calibration is fitted
    # on cross-validated margins of the one SVM trained on everything (ensemble=False): averaging three
    # SVMs trained on two thirds each scored lower (0.917 against 0.920).
    svm = LinearSVC(C=0.5, class_weight="balanced", random_state=seed)
    features = FeatureUnion(
        [
            ("chars", make_pipeline(GramCounter((1, 3)), TfidfTransformer(sublinear_tf=True))),
            ("words", make_pipeline(GramCounter((2, 4), lexicon=True), TfidfTransformer(sublinear_tf=True))),
            ("opening", make_pipeline(GramCounter((1, 3), head=20), TfidfTransformer(sublinear_tf=True))),
        ],
        transformer_weights={"words": 0.7, "opening": 0.3},
    )
    return Pipeline([("features", features), ("clf", CalibratedClassifierCV(svm, cv=3, method="sigmoid", ensemble=False))])


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
        return [dict(zip(classes, map(float, row), strict=True)) for row in self.pipeline.predict_proba(list(texts))]

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
        trained_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
