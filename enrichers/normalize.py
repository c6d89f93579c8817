"""The normalize stage as a pure function: RawLead -> Lead with clean, masked text."""

from __future__ import annotations

from enrichers.dedup import fingerprint
from enrichers.language import detect_language
from enrichers.pii import mask_pii
from enrichers.text import normalize_text
from schemas.leads import Lead, RawLead

LANGUAGES = ("zh", "en", "other")


def normalize_lead(raw: RawLead) -> Lead:
    contact = raw.contact
    # The reporter's own details are masked wherever they appear, whatever their shape.
    own = tuple(v for v in (contact.phone, contact.email, contact.name) if v) if contact else ()
    title, title_kinds = mask_pii(normalize_text(raw.title), own)
    text, text_kinds = mask_pii(normalize_text(raw.body), own)
    declared = (raw.lang or "").lower()[:2]
    lang = declared if declared in ("zh", "en") else detect_language(f"{title}\n{text}")
    location = normalize_text(raw.location_text) if raw.location_text else None
    if location:
        location, location_kinds = mask_pii(location, own)
    else:
        location_kinds = []
    return Lead.from_raw(
        raw,
        title=title,
        text=text,
        location_text=location,
        lang=lang,
        pii_types=sorted(set(title_kinds) | set(text_kinds) | set(location_kinds)),
        fingerprint=fingerprint(title, text),
    )
