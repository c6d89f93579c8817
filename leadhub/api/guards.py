"""What every response carries and every request is held to: security headers, a body size limit,
validation errors that do not echo their input. ASGI middleware plus pure helpers."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable
from html import unescape
from typing import Any

from fastapi import HTTPException
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The pages run no script and load nothing from elsewhere.
PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# Swagger UI (/docs) comes from its CDN and starts with one inline script, allowed by its hash.
DOCS_CDN = "https://cdn.jsdelivr.net"
DOCS_FAVICON = "https://fastapi.tiangolo.com"
DOCS_PATHS = ("/docs",)
HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",  # frame-ancestors for browsers that predate CSP
    # Same-origin form posts keep their Referer (the cross-site check falls back to it); nothing
    # of a case's address leaves for another site.
    "referrer-policy": "same-origin",
}
INPUT_CHARS = 200
MAX_ERRORS = 20  # errors listed in a 422; the rest are counted

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def docs_policy(html: str) -> str:
    """The /docs page's policy: its CDN's script and style, its inline script by hash, nothing else."""
    hashes = " ".join(_hash(script) for script in _INLINE_SCRIPT.findall(html))
    return (
        f"default-src 'none'; script-src {DOCS_CDN} {hashes}; style-src {DOCS_CDN} 'unsafe-inline'; "
        f"img-src 'self' data: {DOCS_FAVICON}; connect-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


_INLINE_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.DOTALL)
_STYLE_ATTRIBUTE = re.compile(r'<[^>]*\sstyle="([^"]*)"')


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def page_policy(page: str) -> str:
    """PAGE_POLICY, plus the hashes of the page's own ``<style>`` elements (the dashboard's server-
    drawn SVG charts carry their styles inline); no other inline style or any script is allowed."""
    # Inside an <svg> a <style>'s text is parsed like any text (pygal writes "&gt;" for ">"), and the
    # browser hashes what it parsed.
    hashes = sorted({_hash(unescape(style)) for style in _INLINE_STYLE.findall(page)})
    # pygal's hidden tooltip layer has style="opacity: 0"; such attributes need 'unsafe-hashes'
    # (only these exact values: an injected attribute with other text is still refused).
    attributes = sorted({_hash(unescape(value)) for value in _STYLE_ATTRIBUTE.findall(page)})
    if not hashes and not attributes:
        return PAGE_POLICY
    sources = ["'self'", *hashes, *(["'unsafe-hashes'", *attributes] if attributes else [])]
    return PAGE_POLICY.replace("style-src 'self'", "style-src " + " ".join(sources))


def _short(value: Any) -> Any:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    if len(text) <= INPUT_CHARS:
        return value
    return text[:INPUT_CHARS] + f"… ({len(text)} characters)"


def _short_text(text: str) -> str:
    return text if len(text) <= INPUT_CHARS else text[:INPUT_CHARS] + f"… ({len(text)} characters)"


def validation_errors(errors: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each error's place, message and type, and its input cut to INPUT_CHARS characters (pydantic
    echoes the whole input otherwise: the whole body, when the body is not valid JSON). The place
    and message are cut too (an unknown key is echoed in ``loc``: a 900 KB key came back whole), and
    at most MAX_ERRORS errors are listed (60,000 unknown keys in a 768 KB body made a 6 MB answer)."""
    shown: list[dict[str, Any]] = []
    count = 0
    for error in errors:
        count += 1
        if len(shown) == MAX_ERRORS:
            continue
        loc = [part if isinstance(part, int) else _short_text(str(part)) for part in error.get("loc", ())]
        entry = {"loc": loc, "msg": _short_text(str(error.get("msg", ""))), "type": str(error.get("type", ""))[:100]}
        if "input" in error:
            entry["input"] = _short(error["input"])
        shown.append(entry)
    if count > len(shown):
        shown.append({"loc": [], "msg": f"and {count - len(shown)} more errors not listed", "type": "too_many_errors"})
    return shown


class SecurityHeaders:
    """Content-Security-Policy and friends on every response (the docs page brings its own CSP)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("content-security-policy", PAGE_POLICY)
            await send(message)

        await self.app(scope, receive, with_headers)


class _TooLarge(HTTPException):
    # An HTTPException, so that FastAPI, reading the body inside a route, passes it on as it is
    # (anything else it turns into "400 error parsing the body").
    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, detail=too_large(max_bytes))


def too_large(max_bytes: int) -> str:
    return f"request body too large: at most {max_bytes} bytes are accepted (api.max_body_bytes)"


def too_large_upload(max_bytes: int) -> str:
    return f"request body too large: at most {max_bytes} bytes with photos (attachments.max_files × attachments.max_bytes)"


class BodyLimit:
    """413 for a request body over ``max_bytes``: at once when Content-Length says so, else as soon
    as a streamed (chunked) body passes the limit, before the app has it all in memory.

    ``uploads``: paths whose multipart/form-data POSTs carry photos, with their own (larger) limit;
    any other body to them (JSON) keeps ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int, uploads: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.uploads = uploads or {}

    def limit_for(self, scope: Scope) -> int:
        larger = self.uploads.get(scope.get("path", ""))
        if larger is None or scope.get("method") != "POST":
            return self.max_bytes
        content_type = Headers(scope=scope).get("content-type", "").lower()
        return max(larger, self.max_bytes) if content_type.startswith("multipart/form-data") else self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit_for(scope)

        def refusal() -> JSONResponse:
            detail = too_large(max_bytes) if max_bytes == self.max_bytes else too_large_upload(max_bytes)
            return JSONResponse({"detail": detail}, status_code=413)

        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await refusal()(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise _TooLarge(max_bytes)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if started:  # too late for a 413; the connection just ends
                raise
            await refusal()(scope, receive, send)
