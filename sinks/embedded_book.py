"""The case book's rows in the embedded index: the route stage's own copy of each case, without the
text its case document already holds."""

from __future__ import annotations

from typing import Any

from schemas.cases import Case
from sinks.embedded_docs import EmbeddedIndexError, dump, load

# The route stage's case (the case book) and the case document hold the same text: the summary and the
# title the route stage wrote (documents.MEMBERSHIP_FIELDS; nothing else changes them). Once the
# document holds them, the book's row leaves them out and says so under TEXT_IN_CASE (title "" is a
# value of its own, so absence alone would not do); reading it takes them from the document.
BOOK_TEXT = ("title", "summary")
TEXT_IN_CASE = "text_in_case"


def book_doc(case: dict[str, Any], held: dict[str, Any] | None) -> bytes:
    """A case book row's document: the case's fields that differ from their defaults (reading fills
    them in again), without BOOK_TEXT when ``held`` (the case document) holds the same. (Spaced JSON,
    as the pack dictionary is: a fifth smaller packed than pydantic's compact JSON.)"""
    fields = dict(case)
    if held is not None and all(held.get(k) == fields.get(k, "") for k in BOOK_TEXT):
        fields = {k: v for k, v in fields.items() if k not in BOOK_TEXT} | {TEXT_IN_CASE: True}
    return dump(fields)


def book_case(stored: bytes | str, held: bytes | str | None) -> Case:
    """The case a book row holds, its text from ``held`` (the case document, packed) if it left it out."""
    fields = load(stored)
    if fields.pop(TEXT_IN_CASE, False):
        if held is None:  # retention deletes the two together: a file changed by hand
            raise EmbeddedIndexError(f"case {fields.get('case_id')!r}: the case book takes its text from a case document that is missing")
        doc = load(held)
        fields |= {k: doc[k] for k in BOOK_TEXT if k in doc}
    return Case.model_validate(fields)


def book_dump(case: Case) -> dict[str, Any]:
    return case.model_dump(mode="json", exclude_defaults=True)
