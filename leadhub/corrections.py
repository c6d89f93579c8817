"""Officers' corrections as training rows: every case recategorized in the configured store (engine or
embedded), read through its ReadStore.

A correction is a case's last `recategorize`; each of the case's leads becomes one row (title and text,
as the route stage gave them to the model) labelled with the level-1 class it left. One that kept the
category (the officer moved the department only) is a row too: a person read the case and kept its
class, which is as much a label as a changed one, and the cases a model already gets right are what
tells it a class's share in this city.
Every recategorized case (a department-only one too) is also a RoutingFact: where the officer left
its level-1, level-2 and department, which teaches the version's department map and level-2 classes
(enrichers/learned_routing.py). Corrections are held out by case (a stable hash of its id), so a case's leads never sit on both sides,
and the same cases are held out by every training run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from enrichers.learned_routing import RoutingFact
from leadhub.queries import MAX_WINDOW, Filters, SearchRequest, Sort
from leadhub.readers.contract import ReadStore

PAGE = 1000
# The classifier calibrates on a stratified three-way split of its training rows: a class needs three.
MIN_CLASS_ROWS = 3
# Corrected cases that must agree before a department or a level-2 class is learned (--corrections-min-support).
DEFAULT_MIN_SUPPORT = 3


@dataclass(frozen=True)
class Correction:
    case_id: str
    lead_id: str
    text: str
    label: str  # the level-1 class the officer set
    actor: str
    at: str


def label_of(case: dict[str, Any]) -> tuple[str, str, str] | None:
    """The level-1 class the case's last category-setting recategorize gave it, with who and when."""
    for entry in reversed(case.get("history") or []):
        if entry.get("action") != "recategorize":
            continue
        after = entry.get("category") or {}
        # The entry keeps the category after, not the action's fields. One that left the category as
        # it was (the officer moved the department only) is a category a person checked and kept: as
        # much a label as one they changed. The last recategorize decides: it saw what came before.
        if after.get("level1"):
            return str(after["level1"]), str(entry.get("actor", "")), str(entry.get("at", ""))
        return None
    return None


def _all_cases(store: ReadStore) -> Iterator[dict[str, Any]]:
    """Every case document, whole, oldest first. Past the stores' 10,000-result window the next
    window starts at the last case's first_seen (cases seen before are skipped by id)."""
    seen: set[str] = set()
    since: dt.datetime | None = None
    while True:
        last = None
        fresh = 0
        for page in range(1, MAX_WINDOW // PAGE + 1):
            found = store.search(SearchRequest(kind="cases", filters=Filters(since=since), sort=Sort.oldest, page=page,
                                               size=PAGE, facets=False, full=True))  # fmt: skip
            for hit in found.hits:
                if hit.get("case_id") not in seen:
                    seen.add(hit["case_id"])
                    fresh += 1
                    yield hit
                last = hit
            if len(found.hits) < PAGE:
                return
        if not fresh or last is None or not last.get("first_seen"):
            return
        since = dt.datetime.fromisoformat(last["first_seen"])


def _leads_of(store: ReadStore, case_id: str) -> list[dict[str, Any]]:
    """The case's leads, whole, oldest first."""
    found = store.search(SearchRequest(kind="leads", filters=Filters(case_id=[case_id]), sort=Sort.oldest,
                                       size=PAGE, facets=False, full=True))  # fmt: skip
    return found.hits


def _text_of(lead: dict[str, Any]) -> str:
    """What a model reads of a lead: its title and text."""
    return "\n".join(p for p in (lead.get("title") or "", lead.get("text") or "") if p).strip()


def read_corrections(store: ReadStore) -> list[Correction]:
    return read_lessons(store, 0.0)[0]


def routing_of(case: dict[str, Any]) -> tuple[str, str | None, str | None, bool] | None:
    """(level1, level2, department, whether the category was set) where the case's last recategorize
    left it, whatever it changed: a department-only correction teaches the department map (its level-1
    row is the class it kept; "category set" is False, so its level-2 is the rules' and teaches none)."""
    for entry in reversed(case.get("history") or []):
        if entry.get("action") != "recategorize":
            continue
        after = entry.get("category") or {}
        if not after.get("level1"):
            return None
        changed = after != (entry.get("from_category") or {})
        return str(after["level1"]), after.get("level2") or None, entry.get("department") or None, changed
    return None


def read_lessons(store: ReadStore, share: float) -> tuple[list[Correction], list[RoutingFact]]:
    """In one pass over the cases, reading each recategorized case's leads once: the corrections (a
    row per lead of a case an officer recategorized, with the level-1 class it left) and every recategorized case as a
    RoutingFact, held out by the same case hash as hold_out()."""
    rows: list[Correction] = []
    decided: list[tuple[str, tuple[str, str | None, str | None, bool], tuple[str, ...]]] = []
    for case in _all_cases(store):
        label, routing = label_of(case), routing_of(case)
        if label is None and routing is None:
            continue
        texts = [(lead["lead_id"], text) for lead in _leads_of(store, case["case_id"]) if (text := _text_of(lead))]
        if label is not None:
            rows += [Correction(case["case_id"], lead_id, text, *label) for lead_id, text in texts]
        if routing is not None:
            decided.append((case["case_id"], routing, tuple(text for _, text in texts)))
    held = {c.case_id for c in hold_out([Correction(case_id, "", "", "", "", "") for case_id, _, _ in decided], share)[1]}
    facts = [
        RoutingFact(case_id, texts_, level1, level2, department, held_out=case_id in held, category_set=changed)
        for case_id, (level1, level2, department, changed), texts_ in decided
        if texts_
    ]
    return rows, facts


def _share(case_id: str) -> float:
    return int.from_bytes(hashlib.sha256(case_id.encode()).digest()[:8], "big") / 2**64


def hold_out(corrections: Sequence[Correction], share: float) -> tuple[list[Correction], list[Correction]]:
    """(to train on, held out): the cases whose id hashes below ``share``; with two or more cases at
    least one is held out and one trained on, so both sides of the comparison exist."""
    cases = sorted({c.case_id for c in corrections}, key=_share)
    held = {case for case in cases if _share(case) < share}
    if share > 0 and len(cases) >= 2:
        if not held:
            held = {cases[0]}
        if len(held) == len(cases):
            held.discard(cases[-1])
    return [c for c in corrections if c.case_id not in held], [c for c in corrections if c.case_id in held]


def learnable(
    corrections: Sequence[Correction], base_labels: Sequence[str], validation_share: float
) -> tuple[list[Correction], list[Correction]]:
    """(kept, too few): corrections whose class has at least MIN_CLASS_ROWS training rows with the base
    data's training part (a weight does not make one row three). A class officers used once or twice
    waits for more corrections; its rows are counted on the card, not silently lost."""
    base = Counter(base_labels)
    mine = Counter(c.label for c in corrections)
    enough = {label for label, n in mine.items() if n + int(base.get(label, 0) * (1 - validation_share)) >= MIN_CLASS_ROWS}
    return [c for c in corrections if c.label in enough], [c for c in corrections if c.label not in enough]
