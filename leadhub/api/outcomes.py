"""What a page may say after a redirect: a fixed set of messages chosen by code, in the page's language. Pure.

A form post redirects with ``?error=CODE[&action=…]`` or ``?message=done&action=…&status=…``; the page
shows the catalog's text for those values and nothing of what the query string held, so a crafted link
cannot make a leadhub page say anything (phishing text, a fake "call this number"). An action or status
outside the enums is dropped, never shown.
"""

from __future__ import annotations

from leadhub.api import i18n
from schemas.cases import Action, Status

CODES = ("invalid", "forbidden", "not_found", "conflict", "unavailable", "failed", "unknown_key", "session_ended")
# HTTP status of a refused action -> the error code the page shows for it.
STATUS_CODES = {400: "invalid", 403: "forbidden", 404: "not_found", 409: "conflict", 422: "invalid", 503: "unavailable"}
_ACTIONS = frozenset(a.value for a in Action)
_STATUSES = frozenset(s.value for s in Status)


def error_code(http_status: int) -> str:
    return STATUS_CODES.get(http_status, "failed")


def error_text(lang: str, code: str | None, action: str | None = None) -> str | None:
    """The fixed text for ``code``; an unknown code shows the generic failure, no code shows nothing."""
    if not code:
        return None
    code = code if code in CODES else "failed"
    if code == "conflict" and action in _ACTIONS:
        return i18n.translate(lang, "outcome.conflict_action", action=i18n.label(lang, "action", action))
    return i18n.translate(lang, f"outcome.{code}")


def done_text(lang: str, action: str | None, status: str | None, pending: bool) -> str | None:
    """'<action>: done, the case is now <status>' for a known action and status; anything else shows nothing."""
    if action not in _ACTIONS or status not in _STATUSES:
        return None
    text = i18n.translate(lang, "outcome.done", action=i18n.label(lang, "action", action), status=i18n.label(lang, "status", status))
    return text + (" " + i18n.translate(lang, "outcome.pending") if pending else "")
