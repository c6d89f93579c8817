"""Tokens of the embedded index's text index (schema 8): every character of a field is one token, at
its position, so any term is a phrase of its characters' tokens, found in a field exactly where it
occurs in it. One index answers every term: one or two characters as ``LIKE '%term%'`` found them
(this module's name is from the short-term index they had until schema 7), three and more as the
trigram index found them. It replaced both (at 50,000 leads: 2.9 KB a lead -> 0.9 KB), and bm25
still ranks (FTS5 counts a phrase's occurrences the same way; a row's length is its characters,
where the trigram index counted its trigrams, two fewer a field).

- A token is the character's code point in hex ("4e00"), a plain ASCII word the ``ascii`` tokenizer
  passes through unchanged, so its own folding and separators (punctuation) play no part; every
  character is one, whitespace and punctuation included, so a phrase never matches across them.
- ASCII letters are folded to lower case in the index and in the query, nothing else, as SQLite's
  LIKE does (so "É" and "é" stay different for a term of one or two characters). A term of three
  characters or more also finds other cases of its non-ASCII letters, as the trigram tokenizer's
  case folding did (the query spells them out, ``phrase``).

Pure.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

MIN_FOLDED = 3  # terms this long fold non-ASCII case too (the trigram index's rule)
MAX_SPELLINGS = 16  # case spellings of one term spelled out (more: as typed, lower and upper case)


class _Codes(dict[str, str]):
    """Character (already folded) -> its token, computed once per character seen."""

    def __missing__(self, ch: str) -> str:
        code = self[ch] = format(ord(ch), "x")
        return code


_CODES = _Codes()
_ASCII_LOWER = str.maketrans({chr(c): chr(c + 32) for c in range(ord("A"), ord("Z") + 1)})


def column_tokens(value: str | None) -> str:
    """What one field is indexed as: its characters' tokens in order (the same text always gives the
    same tokens, which deleting a row from a contentless table relies on)."""
    return " ".join(map(_CODES.__getitem__, (value or "").translate(_ASCII_LOWER)))


def _cases(ch: str) -> list[str]:
    """The characters the trigram tokenizer folded together with ``ch`` (non-ASCII letters: its lower,
    upper and title case, each one character)."""
    if ch.isascii():
        return [ch]
    folded = ch.lower()
    return sorted({c for c in (ch, folded, ch.upper(), ch.title()) if len(c) == 1 and c.lower() == folded}) or [ch]


def phrase(term: str) -> str:
    """An FTS5 expression matching the rows whose fields hold ``term`` (quoted: plain text)."""
    if len(term) < MIN_FOLDED:
        return f'"{column_tokens(term)}"'
    choices = [_cases(ch) for ch in term]
    count = 1
    for options in choices:
        count *= len(options)
    if count == 1:
        return f'"{column_tokens(term)}"'
    spellings = ["".join(s) for s in itertools.product(*choices)] if count <= MAX_SPELLINGS else [term, term.lower(), term.upper()]
    return "(" + " OR ".join(f'"{column_tokens(s)}"' for s in dict.fromkeys(spellings)) + ")"


def match_expression(terms: Iterable[str], operator: str) -> str:
    """An FTS5 expression joining the terms' phrases with AND / OR."""
    return f" {operator} ".join(phrase(term) for term in terms)
