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
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.metrics import classification_report, f1_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.svm import LinearSVC

from enrichers.calibration import (
    CONFIDENCE_Z,
    TARGET_PRECISION,
    at_threshold,
    calibrated_threshold,
    choose_threshold,
    fit_temperature,
    reliability,
    sharpen,
)
from enrichers.dedup import DedupConfig, anchors, similarity

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


# The second view: a model that reads only the first 40 characters (mostly the title), weighing 0.3 in
# the geometric mean of the two views' probabilities. Where the title and the whole text point at
# different classes the message is often one a person files either way, so their disagreement is the
# confidence signal the full view lacks. Chosen on inner validation rows (20 % of the training part of
# benchmarks/categorize_quality.py's seeds 0 and 1, three inner splits each, never their test rows):
# the widest share routed at 98 % precision went from 0.758 (full view alone) to 0.806 (open 20/40/60
# characters and weights 0.2/0.3 tried, arithmetic and geometric means; the geometric one, sharpened
# by the temperature train() fits, also kept the calibration error lowest).
OPENING_CHARS = 40
OPENING_WEIGHT = 0.3


def _full_view(seed: int) -> Pipeline:
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


def _opening_view(seed: int) -> Pipeline:
    svm = LinearSVC(C=0.5, class_weight="balanced", random_state=seed)
    features = FeatureUnion([("opening", make_pipeline(GramCounter((1, 3), head=OPENING_CHARS), TfidfTransformer(sublinear_tf=True)))])
    return Pipeline([("features", features), ("clf", CalibratedClassifierCV(svm, cv=3, method="sigmoid", ensemble=False))])


# scikit-learn ships no type information: its bases are Any to mypy, which strict mode refuses to subclass.
class TwoViews(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Class probabilities of the whole text and of its opening, combined as a weighted geometric mean
    and sharpened (or flattened) by ``temperature``, which train() fits on validation rows."""

    def __init__(self, full: Pipeline, opening: Pipeline, opening_weight: float = OPENING_WEIGHT, temperature: float = 1.0) -> None:
        self.full = full
        self.opening = opening
        self.opening_weight = opening_weight
        self.temperature = temperature

    def fit(self, texts: Sequence[str], labels: Sequence[str], sample_weight: np.ndarray | None = None) -> TwoViews:
        for view in (self.full, self.opening):
            view.fit(list(texts), list(labels), **({} if sample_weight is None else {"clf__sample_weight": sample_weight}))
        if list(self.full.classes_) != list(self.opening.classes_):  # the same labels give the same order
            raise ValueError("the two views learned different classes")
        return self

    @property
    def classes_(self) -> np.ndarray:
        return np.asarray(self.full.classes_)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        w = self.opening_weight
        logs = (1 - w) * np.log(np.clip(self.full.predict_proba(texts), 1e-12, 1.0))
        logs += w * np.log(np.clip(self.opening.predict_proba(texts), 1e-12, 1.0))
        return sharpen(np.exp(logs), self.temperature)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.classes_[self.predict_proba(texts).argmax(axis=1)])


def build_pipeline(seed: int = 0) -> TwoViews:
    return TwoViews(_full_view(seed), _opening_view(seed))


# Features kept after fitting, by their largest weight in any class. 662,513 grams (47 MB) learnt from
# the board messages; the lightest ones barely move a score, and a model that ships must stay small.
KEEP_FEATURES = 200_000
KEEP_OPENING_FEATURES = 50_000


def compact(model: TwoViews) -> TwoViews:
    """Both views compacted (compact_view), the opening's to fewer features: it knows far fewer grams."""
    compact_view(model.full, KEEP_FEATURES)
    compact_view(model.opening, KEEP_OPENING_FEATURES)
    return model


def compact_view(pipeline: Pipeline, keep: int = KEEP_FEATURES) -> Pipeline:
    """Drop all but the ``keep`` features of largest weight, in place, and store weights as float32.

    The calibrators see the pruned SVM's margins, which differ from the full one's by the dropped
    features' small weights; train() scores the compacted model, so its card describes what ships.
    """
    calibrated = pipeline.named_steps["clf"].calibrated_classifiers_
    svms = [c.estimator for c in calibrated]
    weight = np.max(np.abs(np.vstack([s.coef_ for s in svms])), axis=0)
    if len(weight) > keep:
        # Stable order on (-weight, column): equal weights are cut the same way on every build.
        kept = np.zeros(len(weight), dtype=bool)
        kept[np.lexsort((np.arange(len(weight)), -weight))[:keep]] = True
        offset = 0
        for _, part in pipeline.named_steps["features"].transformer_list:
            counter, tfidf = part.steps[0][1], part.steps[1][1]
            mine = kept[offset : offset + len(counter.vocabulary_)]
            offset += len(counter.vocabulary_)
            counter.vocabulary_ = counter.vocabulary_[mine]
            tfidf.idf_ = tfidf.idf_[mine]
            tfidf.n_features_in_ = int(mine.sum())
        for svm in svms:
            svm.coef_ = svm.coef_[:, kept]
            svm.n_features_in_ = int(kept.sum())
    for svm in svms:
        svm.coef_ = svm.coef_.astype(np.float32)
    return pipeline


def fit(texts: Sequence[str], labels: Sequence[str], seed: int = 0, weights: Sequence[float] | None = None) -> TwoViews:
    """``weights``: one per row (e.g. officers' corrections counted more than the base data); None: all 1."""
    sample_weight = None if weights is None else np.asarray(weights, dtype=float)
    return compact(build_pipeline(seed).fit(list(texts), list(labels), sample_weight=sample_weight))


def near_copies(texts: Sequence[str], of: Sequence[str]) -> set[int]:
    """Indexes of ``texts`` that are the same message as one of ``of`` in another form (e.g. its jieba
    tokens with stop words removed): training on them would score validation on seen messages."""
    cfg = DedupConfig(shingle=2, sample=2)
    index: dict[int, set[int]] = {}
    of_anchors = [anchors("", _WHITESPACE.sub("", v), cfg) for v in of]
    for i, a in enumerate(of_anchors):
        for h in a:
            index.setdefault(h, set()).add(i)
    out = set()
    for row, text in enumerate(texts):
        mine = anchors("", _WHITESPACE.sub("", text), cfg)
        votes: dict[int, int] = {}
        for h in mine:
            for i in index.get(h, ()):
                votes[i] = votes.get(i, 0) + 1
        for i, v in sorted(votes.items()):
            if v >= 3 and similarity(mine, of_anchors[i])[1] >= 0.6:
                out.add(row)
                break
    return out


# The triage threshold and the temperature are chosen on out-of-fold predictions of every base training
# row (the validation split is one fold, the training part is cut into THRESHOLD_FOLDS - 1 more): about
# 1,500 rows instead of the validation split's 300, whose widest lucky prefix moved the threshold by
# several points from seed to seed. Each fold costs one more fit.
THRESHOLD_FOLDS = 5


def inner_folds(labels: Sequence[str], folds: int, seed: int) -> list[np.ndarray]:
    """Row indexes of ``labels`` cut into ``folds`` stratified parts (fewer when even the commonest
    class has fewer rows), each part held out once; [] when that leaves fewer than 2."""
    counts = np.unique(np.asarray(labels), return_counts=True)[1]
    n = min(folds, int(counts.max()) if len(counts) else 0)
    if n < 2:
        return []
    splitter = StratifiedKFold(n_splits=n, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        # A class rarer than the folds is spread over fewer of them: fine for choosing a threshold.
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        return [held for _, held in splitter.split(np.zeros(len(labels)), np.asarray(labels))]


def in_columns(proba: np.ndarray, classes: Sequence[str] | np.ndarray, columns: Sequence[str]) -> np.ndarray:
    """``proba`` (columns in ``classes`` order) laid out in ``columns`` order; a class the model never
    saw (a fold without it) gets probability 0."""
    out = np.zeros((len(proba), len(columns)))
    where = {c: i for i, c in enumerate(columns)}
    for j, c in enumerate(classes):
        out[:, where[str(c)]] = proba[:, j]
    return out


@dataclass
class TextClassifier:
    pipeline: Pipeline
    labels: list[str]
    data_sha256: str
    scores: dict[str, Any] = field(default_factory=dict)
    trained_at: str = ""
    sklearn_version: str = sklearn.__version__
    # Chosen on the validation rows (see train()); None for files from before it was recorded.
    triage_threshold: float | None = None
    # What officers' corrections taught beyond level-1 (enrichers.learned_routing.LearnedRouting): kept in
    # the file so a version's promote/rollback carries it. None: nothing learned, or an older file.
    learned: Any = None
    # After train(), not saved: the validation rows and the held-out model's predictions of them, so a
    # caller can score another model on exactly the same rows.
    validation: tuple[list[str], list[str], list[str]] | None = field(default=None, repr=False, compare=False)

    def predict_proba(self, texts: Sequence[str]) -> list[dict[str, float]]:
        classes = [str(c) for c in self.pipeline.classes_]
        return [dict(zip(classes, map(float, row), strict=True)) for row in self.pipeline.predict_proba(list(texts))]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"format": FORMAT, **{k: getattr(self, k) for k in ("pipeline", "labels", "data_sha256", "scores", "trained_at", "sklearn_version", "triage_threshold", "learned")}}
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
    extra_weights: Sequence[float] | None = None,
    seed: int = 0,
    target_precision: float = TARGET_PRECISION,
    trained_at: str | None = None,
    folds: int = THRESHOLD_FOLDS,
) -> TextClassifier:
    """Train on a stratified split of ``texts``; score on the held-out part; refit on everything.

    ``extra_texts`` join the training part only (e.g. a second, differently shaped data set), less
    those that are near copies of a validation row. The validation rows give the per-class scores. The
    training part is cut into ``folds`` - 1 more folds, each predicted by a model trained without it
    (and without the extra rows that copy it): with the validation rows, every base row has an
    out-of-fold prediction. Those fix the temperature, the reliability table, the calibration error and
    the triage threshold: the lowest confidence whose surer predictions are ``target_precision`` right,
    both counted (the lower end of its one-sided 95 % interval) and by their mean calibrated confidence. ``folds`` 1: the validation rows alone. ``trained_at`` fixes the
    recorded time (a reproducible build passes one); by default it is now. ``extra_weights``: one per
    extra row (its sample weight); the base rows weigh 1.
    """
    if extra_weights is not None and len(extra_weights) != len(extra_texts):
        raise ValueError("extra_weights needs one weight per extra row")
    if len(set(labels)) < 2:
        raise ValueError("training needs at least two distinct labels")
    scores: dict[str, Any] = {}
    threshold = None
    temperature = 1.0
    if validation_share > 0:
        x_train, x_val, y_train, y_val = train_test_split(
            list(texts), list(labels), test_size=validation_share, random_state=seed, stratify=list(labels)
        )
        copies = near_copies(extra_texts, x_val) if extra_texts else set()
        extra = [(t, label) for i, (t, label) in enumerate(zip(extra_texts, extra_labels, strict=True)) if i not in copies]
        held_weights = None
        if extra_weights is not None:
            held_weights = [1.0] * len(x_train) + [float(w) for i, w in enumerate(extra_weights) if i not in copies]
        held_out = fit(x_train + [t for t, _ in extra], y_train + [label for _, label in extra], seed, held_weights)
        classes = np.asarray(held_out.classes_)
        oof_texts, oof_truth = list(x_val), list(y_val)
        oof_proba = [held_out.predict_proba(x_val)]  # temperature 1: the two views' raw combination
        for held in inner_folds(y_train, folds - 1, seed) if folds > 1 else []:
            held_set = set(held.tolist())
            fold_texts = [x_train[i] for i in held]
            fold_copies = near_copies(extra_texts, fold_texts) if extra_texts else set()
            rows = [i for i in range(len(x_train)) if i not in held_set]
            keep = [i for i in range(len(extra_texts)) if i not in fold_copies]
            # Trained on every base row but this fold's (the validation rows too), as the final model is.
            weights = None if extra_weights is None else [1.0] * (len(rows) + len(x_val)) + [float(extra_weights[i]) for i in keep]
            fold_model = fit(
                [x_train[i] for i in rows] + list(x_val) + [extra_texts[i] for i in keep],
                [y_train[i] for i in rows] + list(y_val) + [extra_labels[i] for i in keep], seed, weights,
            )  # fmt: skip
            oof_texts += fold_texts
            oof_truth += [y_train[i] for i in held]
            oof_proba.append(in_columns(fold_model.predict_proba(fold_texts), fold_model.classes_, classes.tolist()))
        raw = np.vstack(oof_proba)
        # The temperature that makes the out-of-fold probabilities likeliest (raw messages, unlike most
        # training rows); the final model uses it too, as it uses the threshold.
        temperature = fit_temperature(raw, np.searchsorted(classes, oof_truth).tolist())
        held_out.temperature = temperature
        proba = held_out.predict_proba(x_val)
        predicted = classes[proba.argmax(axis=1)].tolist()
        correct = [p == y for p, y in zip(predicted, y_val, strict=True)]
        sharp = sharpen(raw, temperature)
        confidence = sharp.max(axis=1).tolist()
        oof_correct = [p == y for p, y in zip(classes[sharp.argmax(axis=1)].tolist(), oof_truth, strict=True)]
        # Both ways of reading the out-of-fold rows must reach the target: the share of right ones among
        # the surest (its one-sided 95 % lower bound: a threshold whose rows are just 98 % right routes
        # new leads below 98 % about half the time) and their mean calibrated confidence.
        counted = choose_threshold(confidence, oof_correct, target_precision, CONFIDENCE_Z)
        expected = calibrated_threshold(confidence, target_precision)
        threshold = max(counted, expected)
        chosen_on = {"rows": len(oof_truth), "folds": len(oof_proba), "validation_rows": len(x_val), "precision_bound_z": CONFIDENCE_Z}
        report = classification_report(y_val, predicted, output_dict=True, zero_division=0)
        scores = {
            "validation_size": len(x_val),
            "extra_dropped_as_copies_of_validation": len(copies),
            "macro_f1": round(float(f1_score(y_val, predicted, average="macro")), 4),
            "accuracy": round(sum(correct) / len(correct), 4),
            "per_label": {
                label: {k: round(float(values[k]), 4) for k in ("precision", "recall", "f1-score", "support")}
                for label, values in sorted(report.items())
                if isinstance(values, dict) and label not in ("macro avg", "weighted avg")
            },
            "calibration": reliability(confidence, oof_correct) | {"temperature": round(temperature, 4), "chosen_on": chosen_on},
            "triage": at_threshold(confidence, oof_correct, threshold)
            | {
                "target_precision": target_precision, "counted_threshold": round(counted, 4), "calibrated_threshold": round(expected, 4),
                "chosen_on": chosen_on, "validation_split": at_threshold(proba.max(axis=1).tolist(), correct, threshold),
            },
        }  # fmt: skip
    all_texts, all_labels = list(texts) + list(extra_texts), list(labels) + list(extra_labels)
    all_weights = None if extra_weights is None else [1.0] * len(texts) + [float(w) for w in extra_weights]
    final = fit(all_texts, all_labels, seed, all_weights)
    final.temperature = temperature
    return TextClassifier(
        pipeline=final,
        labels=sorted(set(all_labels)),
        data_sha256=data_hash(all_texts, all_labels),
        scores=scores | {"train_size": len(all_texts), "seed": seed},
        trained_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds") if trained_at is None else trained_at,
        triage_threshold=threshold,
        validation=(x_val, y_val, predicted) if validation_share > 0 else None,
    )
