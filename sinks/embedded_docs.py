"""How the embedded index stores a document: its JSON, deflated with a preset dictionary (a blob), so
a lead's or case's document takes about 40 % of the bytes. Files made before schema 5 hold plain JSON
text; reading takes either, so a row not yet rewritten still reads.

The dictionary primes deflate with the keys and common values every lead and case document repeats
(a document is too short for deflate to learn them itself). It is part of the file format: a stored
blob names its dictionary in its first byte, and a dictionary once used is never changed (a new one
gets a new byte). A dedup sketch's row (sketch_row) is written here too, for the index and its
migration alike. Pure.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

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
# tag -> (dictionary, the JSON's encoding). Tag 2 (schema 9): the same dictionary (ASCII, the same
# bytes in both encodings), the JSON in GB18030, where a Chinese character is two bytes, not UTF-8's
# three: deflate's literals and matches get shorter, a lead's document 855 -> 740 bytes, a case's
# 582 -> 501. GB18030 encodes every code point and decodes it back (checked for all of them).
_FORMATS = {1: (_DICTIONARY_1, "utf-8"), 2: (_DICTIONARY_1, "gb18030")}


class EmbeddedIndexError(Exception):
    """The embedded index's file cannot be used as it is (a newer schema, a document that is missing)."""


TAG = 2  # the format new blobs are written with


def pack(text: str) -> bytes:
    """A document's JSON as stored: the format's tag, then raw deflate (no header or checksum:
    SQLite's pages have their own integrity)."""
    dictionary, encoding = _FORMATS[TAG]
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, dictionary)
    return bytes((TAG,)) + deflate.compress(text.encode(encoding)) + deflate.flush()


def unpack(stored: bytes | str) -> str:
    """The JSON of a stored document, packed (bytes, either tag) or from before schema 5 (text)."""
    if isinstance(stored, str):
        return stored
    found = _FORMATS.get(stored[0])
    if found is None:
        raise ValueError(f"a stored document packed with dictionary {stored[0]}, unknown to this leadhub: upgrade leadhub")
    inflate = zlib.decompressobj(-15, found[0])
    return (inflate.decompress(stored[1:]) + inflate.flush()).decode(found[1])


def load(stored: bytes | str) -> dict[str, Any]:
    """A stored document as a dict (what every reader of a ``doc`` column wants)."""
    return json.loads(unpack(stored))


def dump(doc: dict[str, Any]) -> bytes:
    """A document as stored (spaced JSON, as the dictionary is written, then packed)."""
    return pack(json.dumps(doc, ensure_ascii=False))


def unpack_sql(stored: bytes | str | None) -> str | None:
    """``doc_json(doc)`` in SQL (triggers, retention): NULL stays NULL."""
    return None if stored is None else unpack(stored)


def pack_sql(text: str | None) -> bytes | None:
    """``doc_pack(json)`` in SQL (retention's json_set of a document)."""
    return None if text is None else pack(text)


def sketch_row(lead_id: str, case_id: str, fingerprint: str, anchors: bytes, at: float | None) -> tuple[Any, ...]:
    """A dedup sketch as dedup_sketches holds it (schema 10): the case id NULL when it is the lead's, a
    fingerprint of lower-case hex digits as its bytes (it reads back as the same text)."""
    fp: str | bytes = fingerprint
    if len(fingerprint) % 2 == 0 and fingerprint and all(c in "0123456789abcdef" for c in fingerprint):
        fp = bytes.fromhex(fingerprint)
    return lead_id, None if case_id == lead_id else case_id, fp, anchors, at
