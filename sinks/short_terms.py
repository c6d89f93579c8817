"""Tokens of the embedded index's short-term index: search terms of one or two characters, which the
trigram index cannot find (it needs three), as one index look-up instead of a LIKE scan of every row.

Every character of the text is a token, and so is every pair of adjacent characters, so a term of
one or two characters is exactly one token, found in the text exactly where ``LIKE '%term%'`` would
find it. That holds for any script (Chinese, Latin, digits, punctuation), not only CJK:

- a pair is made only of two characters that stand next to each other in one field, neither of them
  whitespace (a query term never holds whitespace), so "a b" never yields the pair "ab";
- ASCII letters are folded to lower case and nothing else is, as SQLite's LIKE does (so "É" and
  "é" stay different, and diacritics are kept);
- a token is written as the characters' code points in hex ("4e00", pair "4e00x4e8c"), plain ASCII
  words that the ``ascii`` tokenizer passes through unchanged, so its own folding and separators
  (punctuation) play no part.

The index stores rowids only (``detail=none``): one look-up per term, no positions to compare. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable


def _fold(ch: str) -> str:
    # SQLite's LIKE ignores case for ASCII letters only.
    return ch.lower() if "A" <= ch <= "Z" else ch


def _code(ch: str) -> str:
    return format(ord(_fold(ch)), "x")


def term_token(term: str) -> str:
    """The one token a term of one or two characters is indexed under."""
    if not 1 <= len(term) <= 2:
        raise ValueError(f"a short term has one or two characters, not {len(term)}")
    return "x".join(_code(ch) for ch in term)


class _Codes(dict[str, str]):
    """Character (already folded) -> its token, computed once per character seen."""

    def __missing__(self, ch: str) -> str:
        code = self[ch] = format(ord(ch), "x")
        return code


_CODES = _Codes()
_ASCII_LOWER = str.maketrans({chr(c): chr(c + 32) for c in range(ord("A"), ord("Z") + 1)})


def tokens(values: Iterable[str | None]) -> str:
    """The text to index for one document's searchable fields: its distinct tokens, sorted (the same
    fields always give the same text, which deleting a row from a contentless table relies on).
    (Folded once per field and split at whitespace, as str.isspace sees it; each character's token
    computed once: a fifth less time than a character-by-character loop, paid for every lead and case.)"""
    found: set[str] = set()
    codes = _CODES
    for value in values:
        for run in (value or "").translate(_ASCII_LOWER).split():
            chars = [codes[ch] for ch in run]
            found.update(chars)
            found.update([f"{a}x{b}" for a, b in zip(chars, chars[1:], strict=False)])
    return " ".join(sorted(found))


def match_expression(terms: Iterable[str], operator: str) -> str:
    """An FTS5 expression joining the terms' tokens with AND / OR (tokens are quoted: plain text)."""
    return f" {operator} ".join(f'"{term_token(term)}"' for term in terms)
