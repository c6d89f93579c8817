"""The normalize stage as a pure function: RawLead -> Lead with clean, masked text."""

from __future__ import annotations

from typing import Any

from enrichers.dedup import fingerprint
from enrichers.language import detect_language
from enrichers.pii import mask_pii
from enrichers.text import normalize_text
from schemas.errors import RecordError
from schemas.leads import Lead, RawLead

LANGUAGES = ("zh", "en", "other")
# A lead's text after normalization; longer is a dump or spam, not a report (a normalized lead must also
# fit the 1 MB records of leads.clean / leads.routed: at most 4 UTF-8 bytes a character).
MAX_TEXT_CHARS = 100_000
# Channels whose sources send plain text (hotline exports, officers' field reports): "<" and ">" there
# are what the person wrote, never markup. Feeds, boards, forums and APIs may send HTML.
PLAIN_TEXT_CHANNELS = frozenset({"hotline", "officer"})
# Full-width digits, Latin letters and the characters of an address or a number (＠．＋－＿) -> ASCII.
_FULL_WIDTH_ASCII = {ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９＠．＋－＿"} | {
    code: code - 0xFEE0 for start, end in ((0xFF21, 0xFF3A), (0xFF41, 0xFF5A)) for code in range(start, end + 1)
}


class UnusableLead(RecordError, ValueError):
    """A valid RawLead that cannot become a lead: too large, or nothing left once cleaned."""


def sends_html(raw: RawLead) -> bool:
    return raw.channel not in PLAIN_TEXT_CHANNELS


def mask_extra(value: Any, own: tuple[str, ...], kinds: set[str]) -> Any:
    """``value`` (a source's ``extra``) with every string in it masked, at any depth; adds the kinds
    found to ``kinds``. ``extra`` is stored with the lead (an officer's own words, a board's reply),
    so it may hold no more personal data than the text does."""
    if isinstance(value, str):
        # extra skips the text cleaner's NFKC fold, and the patterns read ASCII: a full-width number,
        # letter or @ (１３８…, ｘ, ＠) is folded; Chinese punctuation (，：) stays as the person wrote it.
        # (str.translate looks every character up in the dict: pure ASCII has nothing to fold.)
        masked, found = mask_pii(value if value.isascii() else value.translate(_FULL_WIDTH_ASCII), own)
        kinds.update(found)
        return masked
    if isinstance(value, dict):
        return {key: mask_extra(item, own, kinds) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_extra(item, own, kinds) for item in value]
    return value


def normalize_lead(raw: RawLead) -> Lead:
    contact = raw.contact
    # The reporter's own details are masked wherever they appear, whatever their shape.
    own = tuple(v for v in (contact.phone, contact.email, contact.name) if v) if contact else ()
    html = sends_html(raw)
    body = normalize_text(raw.body, html=html)
    if len(body) > MAX_TEXT_CHARS:
        raise UnusableLead(f"body too large: {len(body)} characters (limit {MAX_TEXT_CHARS})")
    title = normalize_text(raw.title, html=html)
    if not title and not body:
        # Else every such lead would share the empty content's fingerprint and join one case.
        raise UnusableLead(
            "nothing left after normalization: no title or body text once markup, control characters and whitespace are removed"
        )
    title, title_kinds = mask_pii(title, own)
    text, text_kinds = mask_pii(body, own)
    declared = (raw.lang or "").lower()[:2]
    lang = declared if declared in ("zh", "en") else detect_language(f"{title}\n{text}")
    location = normalize_text(raw.location_text, html=html) if raw.location_text else None
    if location:
        location, location_kinds = mask_pii(location, own)
    else:
        location_kinds = []
    other_kinds: set[str] = set()
    # Everything Lead.from_raw copies, and reads (an official reply from extra), is masked first.
    masked = raw.model_copy(update={
        "extra": mask_extra(raw.extra, own, other_kinds),
        # A handle is public, but a hotline export's author column or a board name may hold a number.
        "author": mask_extra(raw.author, own, other_kinds),
        "attachments": [a.model_copy(update={"name": mask_extra(a.name, own, other_kinds)}) for a in raw.attachments],
    })  # fmt: skip
    return Lead.from_raw(
        masked,
        title=title,
        text=text,
        location_text=location,
        lang=lang,
        pii_types=sorted(set(title_kinds) | set(text_kinds) | set(location_kinds) | other_kinds),
        fingerprint=fingerprint(title, text),
    )
