"""Many keywords found in one pass over a text (Aho-Corasick), whatever their number."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

import ahocorasick

V = TypeVar("V")


class KeywordIndex(Generic[V]):
    """Maps each keyword to the values registered under it; ``find`` returns (keyword, value) hits."""

    def __init__(self, entries: Iterable[tuple[str, V]]) -> None:
        grouped: dict[str, list[V]] = {}
        for keyword, value in entries:
            if keyword:
                grouped.setdefault(keyword, []).append(value)
        self._automaton = ahocorasick.Automaton()
        for keyword, values in grouped.items():
            self._automaton.add_word(keyword, (keyword, tuple(values)))
        self._empty = not grouped
        if grouped:
            self._automaton.make_automaton()

    def find_raw(self, text: str) -> list[tuple[int, str, tuple[V, ...]]]:
        """Like find, without the whole-word rule for Latin keywords (for regex triggers)."""
        if self._empty or not text:
            return []
        return [(end - len(kw) + 1, kw, values) for end, (kw, values) in self._automaton.iter(text)]

    def find(self, text: str) -> list[tuple[int, str, tuple[V, ...]]]:
        """(start offset, keyword, values) for every occurrence, overlapping ones included."""
        if self._empty or not text:
            return []
        hits: list[tuple[int, str, tuple[V, ...]]] = []
        for end, (keyword, values) in self._automaton.iter(text):
            start = end - len(keyword) + 1
            # Latin keywords match whole words only: "bus" is not in "business".
            if keyword[0].isascii() and keyword[0].isalnum() and start > 0 and _word_char(text[start - 1]):
                continue
            if keyword[-1].isascii() and keyword[-1].isalnum() and end + 1 < len(text) and _word_char(text[end + 1]):
                continue
            hits.append((start, keyword, values))
        return hits


def _word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()
