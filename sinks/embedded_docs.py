"""How the embedded index stores a document: its JSON, deflated with a preset dictionary (a blob), so
a lead's or case's document takes about half the bytes. Files made before schema 5 hold plain JSON
text; reading takes either, so a row not yet rewritten still reads.

The dictionary primes deflate with the keys and common values every lead and case document repeats
(a document is too short for deflate to learn them itself). It is part of the file format: a stored
blob names its dictionary in its first byte, and a dictionary once used is never changed (a new one
gets a new byte). Pure.
"""

from __future__ import annotations

import zlib

# Keys and values in the order documents hold them (deflate finds the nearest copy cheapest, so the
# most frequent sit at the end). Never edit: add a new dictionary under a new tag instead.
_DICTIONARY_1 = (
    b'"merged_into": null, "merged": [], "history": [], "feedback": [], "ratings": [], "accepted_at": null, '
    b'"resolved_at": null, "hours_to_resolve": null, "resolved_on_time": null, "returns": 0, "reopens": 0, '
    b'"last_rating": null, "assignee": null, "resolution": null, "status": "new", "report_count": 1, '
    b'"channels": ["complaint_platform"], "sources": ["board"], "reporter_groups": [], "activities": [], '
    b'"first_seen": "", "last_seen": "", "lead_ids": [""], "due_at": "", "summary": "'
    b'{"lead_id": "", "source": "board", "channel": "complaint_platform", "external_id": "", "url": null, '
    b'"title": "", "text": "", "author": null, "contact": null, "location_text": null, "published_at": "", '
    b'"fetched_at": "", "lang": "zh", "attachments": [], "extra": {}, "pii_types": [], "fingerprint": "", '
    b'"category": {"level1": "", "level2": ""}, "department": "", "confidence": 0., "needs_triage": false, '
    b'"place": {"town": "", "community": null, "address": null, "geo": {"lat": 29., "lon": 120.}}, '
    b'"priority": 25, "priority_reasons": [], "case_id": "", "is_primary": true, "official_reply": null, '
    b'"category_source": null, "decided_by": null, "decided_at": null, "reporter_group": null, "activity": null, '
    b'"entities": [], "model_version": "rules"}'
)
_DICTIONARIES = {1: _DICTIONARY_1}


class EmbeddedIndexError(Exception):
    """The embedded index's file cannot be used as it is (a newer schema, a document that is missing)."""
_TAG = 1  # the dictionary new blobs are written with


def pack(text: str) -> bytes:
    """A document's JSON as stored: the dictionary's tag, then raw deflate (no header or checksum:
    SQLite's pages have their own integrity)."""
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, _DICTIONARIES[_TAG])
    return bytes((_TAG,)) + deflate.compress(text.encode()) + deflate.flush()


def unpack(stored: bytes | str) -> str:
    """The JSON of a stored document, packed (bytes) or from before schema 5 (text)."""
    if isinstance(stored, str):
        return stored
    dictionary = _DICTIONARIES.get(stored[0])
    if dictionary is None:
        raise ValueError(f"a stored document packed with dictionary {stored[0]}, unknown to this leadhub: upgrade leadhub")
    inflate = zlib.decompressobj(-15, dictionary)
    return (inflate.decompress(stored[1:]) + inflate.flush()).decode()


def unpack_sql(stored: bytes | str | None) -> str | None:
    """``doc_json(doc)`` in SQL (triggers, retention): NULL stays NULL."""
    return None if stored is None else unpack(stored)


def pack_sql(text: str | None) -> bytes | None:
    """``doc_pack(json)`` in SQL (retention's json_set of a document)."""
    return None if text is None else pack(text)
