"""Run only the regular expressions that can match: each pattern's possible literal openings
("triggers") go into one keyword index, and a pattern is searched only when one of them occurs.

Patterns whose opening is not a literal or a group of literal alternatives are always searched.
"""

from __future__ import annotations

import re
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parser  # type: ignore[attr-defined]
from typing import Any

from enrichers.keywords import KeywordIndex

# The parser's items: (opcode, argument), the argument's shape depending on the opcode.
_Items = list[tuple[Any, Any]]


def _literal_run(items: _Items) -> str | None:
    chars = []
    for op, arg in items:
        if op is not sre_constants.LITERAL:
            break
        chars.append(chr(arg))
    return "".join(chars) or None


def triggers(pattern: re.Pattern[str]) -> list[str] | None:
    """Literal strings one of which every match starts with; None if there is no such list."""
    try:
        parsed = list(sre_parser.parse(pattern.pattern, pattern.flags))
    except re.error:
        return None
    return triggers_of_items(parsed)


def triggers_of_items(parsed: _Items) -> list[str] | None:
    while parsed and parsed[0][0] is sre_constants.AT:  # \b, ^: no characters of their own
        parsed = parsed[1:]
    if not parsed:
        return None
    op, arg = parsed[0]
    if op is sre_constants.LITERAL:
        first = _literal_run(parsed)
        return [first] if first else None
    if op is sre_constants.IN and all(kind is sre_constants.LITERAL for kind, _ in arg):
        return [chr(code) for _, code in arg]  # (收|拿) is parsed as the class [收拿]
    if op is sre_constants.SUBPATTERN:
        inner = list(arg[-1])
        if len(inner) == 1 and inner[0][0] is sre_constants.IN:
            return triggers_of_items(inner)
        if len(inner) == 1 and inner[0][0] is sre_constants.BRANCH:
            branches = [list(branch) for branch in inner[0][1][1]]
            options = [run for run in map(_literal_run, branches) if run]
            return options if len(options) == len(branches) else None
        run = _literal_run(inner)
        return [run] if run else None
    return None


class PatternSet:
    """Search many patterns over a text, skipping those whose triggers do not occur in it."""

    def __init__(self, patterns: list[tuple[int, re.Pattern[str]]]) -> None:
        self._always: list[tuple[int, re.Pattern[str]]] = []
        entries: list[tuple[str, int]] = []
        for position, (owner, pattern) in enumerate(patterns):
            found = triggers(pattern)
            if found is None:
                self._always.append((owner, pattern))
            else:
                entries += [(t.lower(), position) for t in found]
        self._patterns = patterns
        self._triggers = KeywordIndex(entries)

    def search(self, text: str) -> list[tuple[int, re.Match[str]]]:
        """(owner, first match) for each pattern that matches ``text`` (already lower-cased)."""
        candidates = sorted({p for _, _, positions in self._triggers.find_raw(text) for p in positions})
        results: list[tuple[int, re.Match[str]]] = []
        for owner, pattern in [self._patterns[p] for p in candidates] + self._always:
            found = pattern.search(text)
            if found:
                results.append((owner, found))
        return results
