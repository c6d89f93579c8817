"""What officers' corrections teach beyond the level-1 class: the department a class goes to, and
level-2 classes (also ones the taxonomy names without keywords, so rules never pick them).

Stored inside the model file of a version (TextClassifier.learned), so promoting or rolling back a
version carries what it learned with it. Pure: it gets correction facts, never reads a store.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline, make_pipeline

from enrichers.calibration import choose_threshold

# The label meaning "keep the level-2 class the rules give": base rows of a class carry it.
KEEP = "<rules>"
# A correction's vote for "where the taxonomy sends it" in the department counts.
TAXONOMY = "<taxonomy>"
# A clear majority: the top department has at least this share of the corrections that agree on a key.
MAJORITY = 2 / 3
# With no held-out corrections to choose on, the level-2 model must be at least this sure.
DEFAULT_LEVEL2_THRESHOLD = 0.5
LEVEL2_PRECISION = 0.9


@dataclass(frozen=True)
class RoutingFact:
    """One corrected case: its leads' texts and where the officer's last recategorize left it."""

    case_id: str
    texts: tuple[str, ...]
    level1: str
    level2: str | None
    department: str | None
    held_out: bool = False
    # Whether the officer set the category (False: the department only; its level-2 is the rules'
    # and teaches no level-2 class).
    category_set: bool = True


def department_key(level1: str, level2: str | None = None) -> str:
    return level1 if level2 is None else f"{level1}/{level2}"


def learn_departments(
    facts: Sequence[RoutingFact], min_support: int, default: Callable[[str, str | None], str | None]
) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    """(map, support): for each "level1/level2" and each "level1", the department officers moved it to
    when at least ``min_support`` corrected cases agree and they are a clear majority of that key's cases.

    ``default`` is the taxonomy's department of a class: a case left where the taxonomy sends it votes
    for the taxonomy (TAXONOMY), so a level-2 class with its own department in the taxonomy teaches its
    level-1 nothing. Support holds every key's votes, learned or not (the card shows both)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for fact in facts:
        if not fact.department:
            continue
        vote = TAXONOMY if fact.department == default(fact.level1, fact.level2) else fact.department
        counts[department_key(fact.level1)][vote] += 1
        if fact.level2:
            counts[department_key(fact.level1, fact.level2)][vote] += 1
    learned: dict[str, str] = {}
    for key, votes in counts.items():
        department, n = votes.most_common(1)[0]
        if department != TAXONOMY and n >= min_support and n >= MAJORITY * sum(votes.values()):
            learned[key] = department
    return learned, {key: dict(sorted(c.items())) for key, c in sorted(counts.items())}


def _pipeline(seed: int) -> Pipeline:
    # Small on purpose: it only tells a class's new level-2 from "what the rules say" within one level-1.
    # Sparse (L1): a few tens of corrected cases against thousands of base rows teach a handful of
    # terms that set the new class apart (its subject), not a little of every gram. With an L2 penalty
    # a long message whose subject is one word among hundreds scored below 0.5: 55-65 % of a split
    # class's later leads were found after 50 corrected cases, 97-100 % with L1 (benchmarks.learning's
    # pool, 20-50 cases, no false positive among 500 base rows of the family).
    return make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=1),
        # One against the rest: liblinear (the solver for L1) fits two classes at a time.
        OneVsRestClassifier(LogisticRegression(C=10.0, l1_ratio=1.0, solver="liblinear", class_weight="balanced", random_state=seed)),
    )


@dataclass
class LearnedRouting:
    departments: dict[str, str] = field(default_factory=dict)
    department_support: dict[str, dict[str, int]] = field(default_factory=dict)
    level2_model: Any = None  # a scikit-learn pipeline over "level1/level2" labels (and "level1/<rules>")
    level2_classes: dict[str, int] = field(default_factory=dict)  # "level1/level2" learned -> corrected cases
    level2_threshold: float = DEFAULT_LEVEL2_THRESHOLD
    level2_threshold_rows: int = 0  # held-out correction rows the threshold was chosen on (0: the default)

    def department(self, level1: str, level2: str | None) -> str | None:
        """The learned department of a class: its level-2's if learned, else its level-1's, else None."""
        if level2 is not None and (found := self.departments.get(department_key(level1, level2))):
            return found
        return self.departments.get(department_key(level1))

    @property
    def level1_with_level2(self) -> set[str]:
        return {label.split("/", 1)[0] for label in self.level2_classes}

    def level2_many(self, texts: Sequence[str]) -> list[tuple[str, str | None, float]]:
        """(level1, level2, probability) of the surest learned class of each text, by that class's own
        one-against-the-rest model (not normalised over the other labels: with two families' classes
        learned, a sure class would read as unsure)."""
        if self.level2_model is None or not texts:
            return [("", None, 0.0)] * len(texts)
        features = self.level2_model[:-1].transform(list(texts))
        classes = [str(c) for c in self.level2_model.classes_]
        ovr = self.level2_model[-1]
        columns = []
        for k, label in enumerate(classes):
            if label.endswith(f"/{KEEP}"):
                continue
            if len(classes) == 2:  # two classes: one model, of the second class
                positive = ovr.estimators_[0].predict_proba(features)[:, 1]
                columns.append((label, positive if k == 1 else 1 - positive))
            else:
                columns.append((label, ovr.estimators_[k].predict_proba(features)[:, 1]))
        if not columns:
            return [("", None, 0.0)] * len(texts)
        proba = np.column_stack([p for _, p in columns])
        out: list[tuple[str, str | None, float]] = []
        for row in proba:
            best = int(row.argmax())
            level1, level2 = columns[best][0].split("/", 1)
            out.append((level1, level2, float(row[best])))
        return out

    def summary(self) -> dict[str, Any]:
        """What the card records."""
        return {
            "departments": dict(sorted(self.departments.items())),
            "department_support": self.department_support,
            "level2_classes": dict(sorted(self.level2_classes.items())),
            "level2_threshold": round(self.level2_threshold, 4),
            "level2_threshold_rows": self.level2_threshold_rows,
        }


def learn(
    facts: Sequence[RoutingFact],
    base_texts: Sequence[str],
    base_labels: Sequence[str],
    *,
    default_department: Callable[[str, str | None], str | None],
    min_support: int,
    seed: int = 0,
    max_base_rows: int = 2000,
) -> LearnedRouting:
    """Departments and level-2 classes from the trained-on facts; the level-2 threshold from the held-out ones.

    A level-2 class is learned when at least ``min_support`` trained-on cases name it. Its model is
    trained on those cases' leads ("level1/level2") against the base rows of the same level-1
    ("level1/<rules>", at most ``max_base_rows`` per class, taken in order), so it learns what sets
    the new class apart from the rest of its family, not the level-1 (the main model's job: trained
    against every class, a learned class took leads of other classes, 交通运输 leads fell from 88 to
    73 % right in benchmarks.learning).
    """
    trained = [f for f in facts if not f.held_out]
    departments, support = learn_departments(trained, min_support, default_department)
    result = LearnedRouting(departments=departments, department_support=support)
    cases = Counter(department_key(f.level1, f.level2) for f in trained if f.level2 and f.category_set)
    classes = {label: n for label, n in cases.items() if n >= min_support}
    if not classes:
        return result
    families = {label.split("/", 1)[0] for label in classes}
    texts: list[str] = []
    labels: list[str] = []
    for fact in trained:
        label = department_key(fact.level1, fact.level2) if fact.level2 and fact.category_set else None
        if label in classes:
            texts += fact.texts
            labels += [label] * len(fact.texts)
    for family in sorted(families):
        rows = [t for t, label in zip(base_texts, base_labels, strict=True) if label == family][:max_base_rows]
        texts += rows
        labels += [f"{family}/{KEEP}"] * len(rows)
    if len(set(labels)) < 2:
        return result
    result.level2_model = _pipeline(seed).fit(texts, labels)
    result.level2_classes = dict(sorted(classes.items()))
    held = [(t, department_key(f.level1, f.level2)) for f in facts if f.held_out and f.level2 and f.category_set for t in f.texts
            if department_key(f.level1, f.level2) in classes]  # fmt: skip
    if held:
        predicted = result.level2_many([t for t, _ in held])
        confidence = [p for _, _, p in predicted]
        correct = [f"{l1}/{l2}" == truth for (l1, l2, _), (_, truth) in zip(predicted, held, strict=True)]
        result.level2_threshold = choose_threshold(confidence, correct, LEVEL2_PRECISION)
        result.level2_threshold_rows = len(held)
    return result
