"""Category, department and confidence for a lead: taxonomy rules, plus a trained model when configured.

Rules know every class of the taxonomy; a model knows only the labels it was trained on. So the
model decides among its own labels, and rules decide alone when they point clearly at a class the
model never learned (e.g. the government-service family) while the model is unsure.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from enrichers.classifier import TextClassifier
from enrichers.keywords import KeywordIndex
from enrichers.pattern_triggers import PatternSet
from enrichers.taxonomy import Taxonomy

TITLE_WEIGHT = 2.0
PATTERN_SCORE = 2.0
# Triage threshold of rules alone, and of a model file that records none.
RULES_THRESHOLD = 0.5


@dataclass(frozen=True)
class CategoryResult:
    category: str | None
    subcategory: str | None
    department: str | None
    confidence: float
    needs_triage: bool
    matched: tuple[str, ...] = ()
    model_version: str = "rules"  # the model that took part ("rules" when none did)

    def as_fields(self) -> dict[str, object]:
        return {
            "category": self.category,
            "subcategory": self.subcategory,
            "department": self.department,
            "confidence": round(self.confidence, 4),
            "needs_triage": self.needs_triage,
            "model_version": self.model_version,
        }


class Categorizer:
    def __init__(
        self,
        taxonomy: Taxonomy,
        model: TextClassifier | None = None,
        *,
        triage_threshold: float | None = None,
        model_version: str | None = None,
    ) -> None:
        self.taxonomy = taxonomy
        self.model = model
        # What each result (and so each lead) records as the model that routed it.
        self.model_version = model_version or ("rules" if model is None else "model")
        # Unset: the threshold the model chose on its validation rows (its card says which), else 0.5.
        if triage_threshold is None:
            chosen = getattr(model, "triage_threshold", None)  # a stand-in model may not record one
            triage_threshold = chosen if chosen is not None else RULES_THRESHOLD
        self.triage_threshold = triage_threshold
        self._keywords = KeywordIndex(
            (keyword, index) for index, sub in enumerate(taxonomy.subcategories) for keyword in sub.keywords
        )
        self._patterns = PatternSet(
            [(index, pattern) for index, sub in enumerate(taxonomy.subcategories) for pattern in sub.patterns]
        )

    def rule_scores(self, title: str, text: str) -> tuple[dict[int, float], list[str]]:
        """Score of each subcategory (by index) and the keywords that matched."""
        scores: dict[int, float] = defaultdict(float)
        matched: list[str] = []
        for part, weight in ((title.lower(), TITLE_WEIGHT), (text.lower(), 1.0)):
            counts: dict[str, int] = defaultdict(int)
            owners: dict[str, tuple[object, ...]] = {}
            for _, keyword, values in self._keywords.find(part):
                counts[keyword] += 1
                owners[keyword] = values
            for keyword, n in counts.items():
                # Repeating a word adds a little: a long text that names a thing often is about it.
                gain = weight * (1 + 0.5 * min(n - 1, 4)) * (1 + 0.15 * (len(keyword) - 2))
                for index in owners[keyword]:
                    scores[index] += gain  # type: ignore[index]
                matched.append(keyword)
        # Patterns run once over title and text together; a match in the title weighs as a title word.
        combined = f"{title}\n{text}".lower()
        hit: set[int] = set()
        for index, found in self._patterns.search(combined):
            if index not in hit:
                hit.add(index)
                scores[index] += PATTERN_SCORE * (TITLE_WEIGHT if found.start() < len(title) else 1.0)
        return scores, sorted(set(matched))

    def categorize(self, title: str, text: str) -> CategoryResult:
        return self.categorize_many([(title, text)])[0]

    def categorize_many(self, items: Sequence[tuple[str, str]]) -> list[CategoryResult]:
        probabilities = (
            self.model.predict_proba([f"{t}\n{x}" for t, x in items]) if self.model and items else [None] * len(items)
        )
        results = [self._decide(title, text, proba) for (title, text), proba in zip(items, probabilities, strict=True)]
        return self._apply_learned(items, results)

    def _apply_learned(self, items: Sequence[tuple[str, str]], results: list[CategoryResult]) -> list[CategoryResult]:
        """What the model's version learned from corrections, once the level-1 class is decided: its
        level-2 class (when its level-1 agrees and it is sure enough), then the department officers
        moved that class to. Nothing learned: the results as the taxonomy routes them."""
        learned = getattr(self.model, "learned", None)
        if learned is None:
            return results
        families = learned.level1_with_level2
        asked = [i for i, r in enumerate(results) if r.category in families]
        level2 = dict(zip(asked, learned.level2_many([f"{items[i][0]}\n{items[i][1]}" for i in asked]), strict=True))
        out = []
        for i, result in enumerate(results):
            if result.category is None:
                out.append(result)
                continue
            sub = result.subcategory
            if i in level2:
                level1, name, p = level2[i]
                known = any(s.level1 == level1 and s.name == name for s in self.taxonomy.subcategories)
                if level1 == result.category and name is not None and known and p >= learned.level2_threshold:
                    sub = name
            department = learned.department(result.category, sub) or self.taxonomy.department_for(result.category, sub)
            out.append(dataclasses.replace(result, subcategory=sub, department=department))
        return out

    def _decide(self, title: str, text: str, model_proba: dict[str, float] | None) -> CategoryResult:
        sub_scores, matched = self.rule_scores(title, text)
        level1_scores: dict[str, float] = defaultdict(float)
        for index, score in sub_scores.items():
            level1_scores[self.taxonomy.subcategories[index].level1] += score
        total = sum(level1_scores.values())
        top_rule = max(level1_scores, key=level1_scores.__getitem__) if level1_scores else None
        strength = 1 - math.exp(-level1_scores[top_rule] / 3) if top_rule else 0.0
        rule_share = {name: score / total for name, score in level1_scores.items()} if total else {}

        # Rules overrule the model only for a class it never learned, when they are sure and it is not.
        rules_overrule = (
            model_proba is not None and top_rule is not None and top_rule not in model_proba
            and strength >= 0.8 and rule_share[top_rule] >= 0.6 and max(model_proba.values()) < 0.5
        )  # fmt: skip
        if model_proba is None or rules_overrule:
            category = top_rule
            confidence = rule_share.get(top_rule, 0.0) * strength if top_rule else 0.0
        else:
            # No blend with the rule shares among the model's labels: every rule weight tried (0.05-0.5)
            # lowered macro-F1 in cross-validation on the board messages (benchmarks/categorize_quality.py).
            category = max(model_proba, key=model_proba.__getitem__)
            confidence = model_proba[category]

        subcategory = None
        if category:
            in_category = [(s, i) for i, s in sub_scores.items() if self.taxonomy.subcategories[i].level1 == category]
            if in_category:
                subcategory = self.taxonomy.subcategories[max(in_category)[1]].name
            elif any(s.level1 == category and s.name == "其他" for s in self.taxonomy.subcategories):
                subcategory = "其他"
        department = self.taxonomy.department_for(category, subcategory) if category else None
        return CategoryResult(
            category=category,
            subcategory=subcategory,
            department=department,
            confidence=confidence,
            needs_triage=category is None or confidence < self.triage_threshold,
            matched=tuple(matched),
            model_version=self.model_version,
        )
