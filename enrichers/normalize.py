"""The normalize stage as a pure function: RawLead -> Lead with clean, masked text."""

from __future__ import annotations

from enrichers.dedup import fingerprint
from enrichers.language import detect_language
from enrichers.pii import mask_pii
from enrichers.text import normalize_text
from leadhub.errors import RecordError
from schemas.leads import Lead, RawLead

LANGUAGES = ("zh", "en", "other")
# A lead's text after normalization; longer is a dump or spam, not a report (a normalized lead must also
# fit the 1 MB records of leads.clean / leads.routed: at most 4 UTF-8 bytes a character).
MAX_TEXT_CHARS = 100_000


class UnusableLead(RecordError, ValueError):
    """A valid RawLead that cannot become a lead: too large, or nothing left once cleaned."""


def normalize_lead(raw: RawLead) -> Lead:
    contact = raw.contact
    # The reporter's own details are masked wherever they appear, whatever their shape.
    own = tuple(v for v in (contact.phone, contact.email, contact.name) if v) if contact else ()
    body = normalize_text(raw.body)
    if len(body) > MAX_TEXT_CHARS:
        raise UnusableLead(f"body too large: {len(body)} characters (limit {MAX_TEXT_CHARS})")
    title = normalize_text(raw.title)
    if not title and not body:
        # Else every such lead would share the empty content's fingerprint and join one case.
        raise UnusableLead(
            "nothing left after normalization: no title or body text once markup, control characters and whitespace are removed"
        )
    title, title_kinds = mask_pii(title, own)
    text, text_kinds = mask_pii(body, own)
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
