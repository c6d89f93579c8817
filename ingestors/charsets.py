"""Charset facts shared by the kinds that decode pages themselves (feed, board)."""

from __future__ import annotations

import re

_HIGH_RUN = re.compile(rb"[\x80-\xff]+")
# GB18030 is a superset of the older GB names: a page declared "gb2312" that holds one rarer character
# still decodes. (w3lib's own mapping of these names changed between releases: gb18030 before 2.6, gbk since.)
_GB_FAMILY = {"gb2312", "gbk", "x-gbk", "cp936", "euc-cn", "gb18030"}


def widest_codec(declared: str) -> str:
    """The codec to decode a declared charset with: the GB family as GB18030, others as declared."""
    return "gb18030" if declared.lower() in _GB_FAMILY else declared


def looks_like_gb(data: bytes) -> bool:
    """Whether bytes declared as a Western single-byte encoding are GB18030 in fact: they decode as
    GB18030, and their high bytes come in pairs (a Chinese character), not one by one between ASCII
    letters as accented Western letters do. A Western charset decodes any bytes, so only the shape tells."""
    runs = [len(run) for run in _HIGH_RUN.findall(data)]
    if not runs or sum(n for n in runs if n % 2 == 0) < 0.9 * sum(runs):
        return False
    try:
        data.decode("gb18030")
    except UnicodeDecodeError:
        return False
    return True
