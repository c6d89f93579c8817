"""Clean text: HTML out, full-width forms folded, whitespace normalized, paragraph breaks kept."""

from __future__ import annotations

import re
import unicodedata

from w3lib.html import remove_tags, remove_tags_with_content, replace_entities

_LOOKS_LIKE_HTML = re.compile(r"<\s*(?:[a-zA-Z][a-zA-Z0-9]*|/[a-zA-Z]|!--)[^>]*>")
_BLOCK_TAG = re.compile(r"<\s*(?:br|/?p|/?div|/?li|/?tr|/?h[1-6]|/?blockquote|/?section|/?article)\b[^>]*>", re.I)
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES = re.compile(r"[ \t\f\v\u00a0\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def strip_html(text: str) -> str:
    """Plain text of an HTML fragment; text that is not HTML (``温度<5度``) is left alone."""
    if not _LOOKS_LIKE_HTML.search(text):
        return replace_entities(text) if "&" in text else text
    text = remove_tags_with_content(text, which_ones=("script", "style", "noscript", "template"))
    text = _BLOCK_TAG.sub("\n", text)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    return replace_entities(remove_tags(text))


def _printable(ch: str) -> bool:
    return ch == "\n" or unicodedata.category(ch)[0] != "C"


def _fold(text: str) -> str:
    # NFKC folds full-width letters, digits and punctuation (ＡＢＣ１２３，) to their usual forms. Most
    # text is already in that form and printable, and the C checks are far cheaper than the work.
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)  # str.translate looks each character up in a dict: far slower
    return "\n".join(line if line.isprintable() else _printable_line(line) for line in text.split("\n"))


def _printable_line(line: str) -> str:
    # isprintable() also refuses spaces other than " " (category Z), which are kept here and
    # collapsed later; only control, format, private-use and unassigned characters (C) go.
    return "".join(ch if _printable(ch) else " " for ch in line)


# A tag as a browser reads one (and w3lib removes one): "<" right before a name, "/" or "!", up to ">".
_TAG = re.compile(r"<[a-zA-Z/!][^<>]*>")
# A "<" a browser would start a tag with.
_TAG_OPEN = re.compile(r"<(?=[a-zA-Z/!?])")
_MARKUP_ROUNDS = 4


def normalize_text(text: str, html: bool = True) -> str:
    """One canonical form of a lead's text, the same whatever the channel wrote.

    ``html=False`` is for sources that send plain text (hotline exports, officers' reports): there
    ``a<b 且 x>y`` and ``等候<5分钟…实际>2小时`` are what the person wrote, so "<" and ">" stay as they
    are and entities stay undecoded; whatever shows the text escapes it (the web pages autoescape).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not html:
        return _tidy(_fold(text))
    text = _fold(strip_html(text))
    # Markup can hide in entities (&lt;script&gt;), full-width forms (＜script＞) and invisible characters
    # (<\u200bscript>) that become tags only once decoded or folded: strip and fold again while tags remain.
    for _ in range(_MARKUP_ROUNDS - 1):
        if not _TAG.search(text):
            break
        text = _fold(strip_html(text))
    # Whatever is left (an unclosed "<script", markup nested deeper still) can never open a tag.
    return _tidy(_TAG_OPEN.sub("\uff1c", text))


def _tidy(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


_NOT_ALNUM = re.compile(r"[\W_]+")


def content_key(title: str, text: str) -> str:
    """What duplicate detection compares: letters and digits only, case-folded."""
    return _NOT_ALNUM.sub("", f"{title}{text}".casefold())
