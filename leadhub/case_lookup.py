"""A case named by an id someone typed: the CLI's table and the pages show ids by their first 10
characters, and a 12345 operator reads a case number out over the phone. Pure but for the store."""

from __future__ import annotations

import re

from leadhub.readers.contract import ReadStore

# Ids are 32 lower-case hex characters; eight or more are an id's start, or six or seven that mix
# digits and letters. Otherwise a date (202612), a postcode or an English word of a-f ("facade")
# would open whichever case happens to start so (2 % of six-character starts at 400,000 ids).
_ID_LIKE = re.compile(r"[0-9a-f]{8,32}|(?=[a-f]*[0-9])(?=[0-9]*[a-f])[0-9a-f]{6,7}")


def looks_like_id(text: str) -> bool:
    return bool(_ID_LIKE.fullmatch(text.strip().lower()))


def case_id_for(store: ReadStore, text: str) -> str | None:
    """The case ``text`` names: a case's id or one of its leads' ids, whole or its start when only one
    id starts so; None when it names none, or several (then it is searched as words)."""
    key = text.strip().lower()
    if not looks_like_id(key):
        return None
    cases = store.ids_starting("cases", key, 2)
    if cases:
        return cases[0] if len(cases) == 1 else None
    leads = store.ids_starting("leads", key, 2)
    if len(leads) != 1:
        return None
    lead = store.get("leads", leads[0])
    case_id = (lead or {}).get("case_id")
    return case_id if isinstance(case_id, str) else None
