"""RSS/Atom feeds: fetched with the HTTP client the runner hands in (ctx.http), parsed by feedparser from bytes.

feedparser never loads a URL or a path itself. Chinese feeds often declare the wrong encoding, or
none: when the declared one fails on more than a stray byte, the bytes are decoded as what they most
likely are (GB18030 covers GB2312 and GBK; Big5 for traditional) and parsed from text. A GBK feed
that declares Latin-1 is recognised by its byte pairs, since Latin-1 never fails to decode.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterator

import feedparser
from charset_normalizer import from_bytes
from pydantic import Field, ValidationError

from ingestors.base import ContractSample, FetchContext, KindOptions, Problem, SourceKind, SourceUnavailable
from ingestors.charsets import looks_like_gb, widest_codec
from schemas.leads import RawLead
from schemas.redaction import redact

_DECLARED = re.compile(rb"""<\?xml[^>]*encoding=["']([A-Za-z0-9_.-]+)["']""")
_FALLBACKS = ("utf-8", "gb18030", "big5")
# Feeds that say GB2312 or GBK are often GBK or GB18030 in fact; GB18030 decodes all three alike.


class FeedOptions(KindOptions):
    url: str = Field(..., description="The feed's http(s) URL.")
    encoding: str | None = Field(None, description="Force an encoding when the feed lies about its own.")
    allow_private_network: bool = Field(False, description="Allow loopback/private addresses (tests, intranets).")
    timeout_s: float = Field(20.0, gt=0)
    max_bytes: int = Field(10 * 1024 * 1024, gt=0)


# Single-byte Western encodings decode any bytes without an error, so a GBK feed that declares one
# is never caught by a failed decode: it is caught by its shape (see ingestors.charsets.looks_like_gb).
_SINGLE_BYTE = {"iso-8859-1", "latin-1", "latin1", "l1", "iso8859-1", "windows-1252", "cp1252", "us-ascii", "ascii"}
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # an undecodable byte, as errors="surrogateescape" leaves it


def _nearly_clean(data: bytes, encoding: str) -> str | None:
    """The text if ``encoding`` decodes all but a stray byte or two (at most 2, or 1 % of the non-ASCII
    characters), with each bad byte as U+FFFD; None if it fails on more. A feed that is what it says
    but carries one bad byte keeps its encoding; GBK read as UTF-8 fails on nearly every character."""
    try:
        text = data.decode(encoding, errors="surrogateescape")
    except (UnicodeDecodeError, LookupError):  # surrogateescape cannot stand in for a byte below 0x80
        return None
    bad = len(_ESCAPED_BYTE.findall(text))
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore"))
    if bad > max(2, non_ascii // 100):
        return None
    return _ESCAPED_BYTE.sub("\ufffd", text)


def decode_feed(data: bytes, forced: str | None = None) -> str:
    """The feed as text, whatever encoding it declares or fails to declare."""
    if forced:
        return data.decode(forced, errors="replace")
    declared = _DECLARED.search(data[:200])
    candidates = [widest_codec(declared.group(1).decode("ascii"))] if declared else []
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        candidates.insert(0, "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-16")
    elif candidates and candidates[0].lower() in _SINGLE_BYTE and looks_like_gb(data):
        return data.decode("gb18030")
    for encoding in [*candidates, "utf-8"]:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    # Nothing decodes cleanly. The declared encoding (UTF-8 when none is declared) still wins when
    # only a stray byte spoils it: guessing then would turn the whole feed into mojibake (鈥).
    for encoding in candidates or ["utf-8"]:
        text = _nearly_clean(data, encoding)
        if text is not None:
            return text
    best = from_bytes(data, cp_isolation=list(_FALLBACKS)).best()
    if best is not None and best.encoding:
        return data.decode(best.encoding, errors="replace")
    return data.decode("gb18030", errors="replace")


def _when(entry: dict) -> dt.datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    return dt.datetime.fromtimestamp(calendar.timegm(parsed), dt.UTC)


def entries_to_leads(text: str, ctx: FetchContext) -> tuple[list[RawLead | Problem], str | None]:
    # The text is already decoded: drop the declaration so feedparser does not re-decode it.
    # Handed over as a stream: given a str (or bytes) feedparser treats a body that reads as a URL or a
    # path as one and fetches or opens it itself, past our address guard (a feed answering
    # "file:///etc/..." or "http://169.254.169.254/..." would be followed).
    body = re.sub(r"^\s*<\?xml[^>]*\?>", "", text).encode("utf-8", errors="replace")
    parsed = feedparser.parse(io.BytesIO(body))
    problem = f"{type(parsed.bozo_exception).__name__}: {parsed.bozo_exception}" if parsed.bozo else None
    items: list[RawLead | Problem] = []
    for entry in parsed.entries:
        body = entry.get("content", [{}])[0].get("value") if entry.get("content") else entry.get("summary", "")
        title = entry.get("title", "")
        external = entry.get("id") or entry.get("link") or hashlib.sha256(f"{title}\n{body}".encode()).hexdigest()[:32]
        try:
            items.append(
                RawLead(
                    source=ctx.source, channel=ctx.channel, external_id=str(external)[:512],
                    url=entry.get("link") if str(entry.get("link", "")).startswith(("http://", "https://")) else None,
                    title=title[:2000], body=body or "", author=entry.get("author"), published_at=_when(entry),
                )  # fmt: skip
            )
        except ValidationError as exc:
            items.append(Problem(f"feed entry {external}: {exc.errors()[0]['msg']}", repr(dict(entry)).encode("utf-8")))
    return items, problem


class FeedKind(SourceKind):
    kind = "feed"
    Options = FeedOptions
    options: FeedOptions

    def fetch(self, ctx: FetchContext) -> Iterator[RawLead | Problem]:
        http = ctx.http.open(allow_private=self.options.allow_private_network, timeout_s=self.options.timeout_s,
                             max_bytes=self.options.max_bytes)  # fmt: skip
        try:
            response = http.get(self.options.url, etag=ctx.state.get("etag"), last_modified=ctx.state.get("last_modified"))
        finally:
            http.close()
        if response.not_modified:
            return
        items, problem = entries_to_leads(decode_feed(response.content, self.options.encoding), ctx)
        if problem and not items:
            raise SourceUnavailable(f"{redact(self.options.url)}: not a feed ({problem})")
        if problem:
            ctx.warnings.append(f"{redact(self.options.url)}: {problem}")
        for key, header in (("etag", "etag"), ("last_modified", "last-modified")):
            if header in response.headers:
                ctx.state[key] = response.headers[header]
        yield from items

    @classmethod
    def contract_sample(cls) -> ContractSample:
        feed = """<?xml version="1.0" encoding="gb2312"?>
<rss version="2.0"><channel><title>义乌新闻网·民生</title>
<item><guid>c-1</guid><title>稠城街道路灯不亮</title><link>https://news.example.cn/a/c-1.html</link>
<description>居民反映夜间出行不便。</description><pubDate>Mon, 06 May 2024 09:30:00 +0800</pubDate></item>
<item><guid>c-2</guid><title>江东街道垃圾清运不及时</title><description>垃圾堆放三天。</description></item>
</channel></rss>"""
        return ContractSample({"url": "{base_url}/feed.xml", "allow_private_network": True},
                              leads=2, served={"/feed.xml": feed.encode("gb18030")})  # fmt: skip

    def parse_document(self, data: bytes, ctx: FetchContext) -> Iterator[RawLead | Problem]:
        items, problem = entries_to_leads(decode_feed(data, getattr(self.options, "encoding", None)), ctx)
        if problem and not items:
            raise SourceUnavailable(f"not a feed: {problem}")
        if problem:
            ctx.warnings.append(problem)
        yield from items
