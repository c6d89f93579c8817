"""Pure parsing of board pages: HTML text + SiteConfig in, list entries and detail records out.

No network and no Scrapy here: the spider calls these on what it downloaded, and
``leadhub ingest preview`` calls them on a saved page. ``item_to_lead`` makes the RawLead in both
the Kafka pipeline and the board kind, so a crawl and a preview agree on what a page means.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit, urlunsplit

import parsel
from charset_normalizer import from_bytes
from w3lib.encoding import html_body_declared_encoding, html_to_unicode, http_content_type_encoding, read_bom
from w3lib.html import remove_tags, remove_tags_with_content, replace_entities

from ingestors.charsets import looks_like_gb, widest_codec
from ingestors.spiders.site_config import AUTO, Selector, SiteConfig, parse_board_time, split_selector
from schemas.leads import RawLead

# Where a block ends in HTML, a line ends in the text: paragraphs stay paragraphs.
_BREAKS = re.compile(r"<br\s*/?>|</?(?:p|div|li|tr|h[1-6]|blockquote|pre|table|dd|dt)(?:\s[^>]*)?>", re.IGNORECASE)
DETAIL_FIELDS = ("title", "author", "published", "reply_unit", "reply_time")  # one line each
MULTILINE_FIELDS = ("body", "reply_body")


@dataclass
class ListEntry:
    url: str | None  # the detail page, absolute when the page's own URL is known; None on a list-only site
    external_id: str
    fields: dict[str, str] = field(default_factory=dict)  # list-level title/author/published


@dataclass
class ListPage:
    entries: list[ListEntry]
    next_url: str | None


def decode_html(data: bytes, content_type: str | None = None, forced: str | None = None) -> str:
    """Text of a page, as the feed kind reads feeds: a forced encoding (the site's ``encoding:``); else
    the BOM; else the declared charset (Content-Type, then <meta>) strictly; else UTF-8; else a guess.

    One exception to "declared first": bytes that are valid UTF-8 throughout, with multi-byte text in
    them, are UTF-8 whatever the page declares. People's Daily serves UTF-8 under a GB2312 <meta>, and
    GB18030 accepts many UTF-8 byte runs as (wrong) characters, so a strict GB decode alone would
    often "succeed" into mojibake; Chinese text in GBK is practically never valid UTF-8 at page length.
    """
    return decode_html_explained(data, content_type, forced)[0]


# A server's default charset (latin-1) decodes any bytes, so a GBK page under it never fails to decode.
_WESTERN = {"iso-8859-1", "latin-1", "latin1", "cp1252", "windows-1252", "ascii", "us-ascii"}


def _declared_encoding(data: bytes, content_type: str | None) -> str | None:
    declared = http_content_type_encoding(content_type) if content_type else None
    declared = declared or html_body_declared_encoding(data)
    return widest_codec(declared) if declared else None


def decode_html_explained(data: bytes, content_type: str | None = None, forced: str | None = None) -> tuple[str, str]:
    """decode_html's text and how it was decoded (for --explain)."""
    if forced:
        return data.decode(forced, errors="replace"), f"{forced} (the site's encoding:)"
    bom = read_bom(data)
    if bom[0]:
        return data[len(bom[1]) :].decode(bom[0], errors="replace"), f"{bom[0]} (byte order mark)"
    declared = _declared_encoding(data, content_type)
    if not data.isascii():
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            said = f"; the page declares {declared}" if declared and declared != "utf-8" else ""
            return text, f"utf-8 (the bytes are valid UTF-8{said})"
    if declared and declared.lower() in _WESTERN and looks_like_gb(data):
        return data.decode("gb18030"), f"gb18030 (declared {declared}, but the bytes are Chinese)"
    if declared:
        try:
            return data.decode(declared), f"{declared} (declared)"
        except (UnicodeDecodeError, LookupError):
            pass
    best = from_bytes(data[:200_000], cp_isolation=["utf_8", "gb18030", "big5"]).best()
    if best is not None and best.encoding:
        return data.decode(best.encoding, errors="replace"), f"{best.encoding} (detected)"
    return html_to_unicode(content_type, data)[1], "w3lib's guess"


def html_to_text(html: str) -> str:
    html = remove_tags_with_content(html, which_ones=("script", "style"))
    text = replace_entities(remove_tags(_BREAKS.sub("\n", html)))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def select(node: parsel.Selector, spec: str) -> parsel.SelectorList:
    how, expression = split_selector(spec)
    return node.css(expression) if how == "css" else node.xpath(expression)


def _node_text(node: parsel.Selector) -> str:
    # Attribute values and text nodes come back as strings; elements as markup to flatten.
    if isinstance(node.root, str):
        return html_to_text(node.root) if "<" in node.root else " ".join(node.root.split())
    return html_to_text(node.get())


def text_of(node: parsel.Selector, selector: Selector | None, *, every: bool = False) -> str | None:
    """The text a field's selector finds: the first that finds any; all matches when ``every``."""
    if selector is None:
        return None
    for spec in [selector] if isinstance(selector, str) else selector:
        found = select(node, spec)
        texts = [t for t in (_node_text(n) for n in (found if every else found[:1])) if t]
        if texts:
            return "\n".join(texts) if every else " ".join(texts[0].split())
    return None


def _link(node: parsel.Selector, selector: Selector, base_url: str) -> str | None:
    for spec in [selector] if isinstance(selector, str) else selector:
        for found in select(node, spec):
            href = found.root if isinstance(found.root, str) else found.attrib.get("href")
            href = (href or "").strip()
            if href and not href.lower().startswith(("javascript:", "#", "mailto:")):
                return urljoin(base_url, href)
    return None


def _base_url(page: parsel.Selector, url: str) -> str:
    base = page.css("base::attr(href)").get()
    return urljoin(url, base.strip()) if base else url


def external_id_for(url: str, config: SiteConfig) -> str:
    """A stable id from the detail URL: id_pattern, else an id query parameter, else the URL."""
    if config.id_pattern and (match := re.search(config.id_pattern, url)):
        return match.group(1) if match.groups() else match.group(0)
    query = parse_qs(urlsplit(url).query)
    for name in config.id_params:
        if query.get(name) and query[name][0].strip():
            return query[name][0].strip()
    bare = urlunsplit(urlsplit(url)._replace(fragment=""))
    return bare if len(bare) <= 512 else "url-sha256:" + hashlib.sha256(bare.encode()).hexdigest()


_COMMENT = re.compile(r"<!--(.*?)-->", re.DOTALL)


def _list_only_id(fields: dict[str, str], index: int) -> str:
    # A list-only site links nowhere: its item is known by what it says (stable across runs).
    text = "\n".join(fields.get(name, "") for name in ("title", "author", "published")) or str(index)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:32]


def parse_list(html: str, url: str, config: SiteConfig) -> ListPage:
    if config.list_item is None:  # a thread-only site: no list pages
        return ListPage([], None)
    if config.unwrap_comments:
        html = _COMMENT.sub(lambda m: m.group(1) if "<" in m.group(1) else m.group(0), html)  # markup, not notes
    page = parsel.Selector(text=html)
    base = _base_url(page, url)
    entries: list[ListEntry] = []
    for spec in [config.list_item] if isinstance(config.list_item, str) else config.list_item:
        for index, item in enumerate(select(page, spec)):
            fields: dict[str, str] = {name: text for name, sel in config.list_fields.items() if (text := text_of(item, sel))}
            if config.detail_link is None:
                if fields.get("title"):
                    link = _link(item, "css:a::attr(href)", base)
                    entries.append(ListEntry(link, external_id_for(link, config) if link else _list_only_id(fields, index), fields))
                continue
            link = _link(item, config.detail_link, base)
            if not link:
                continue  # a separator row or an advert
            entries.append(ListEntry(link, external_id_for(link, config), fields))
        if entries:
            break
    next_url = _link(page, config.next_page, base) if config.next_page else None
    return ListPage(entries, next_url if next_url != url else None)


_FULL_TIME = re.compile(r"\d{4}\s*[-/年.]\s*\d{1,2}\s*[-/月.]\s*\d{1,2}\s*日?\s*\d{1,2}:\d{2}(?::\d{2})?")


def _uses_extractor(config: SiteConfig) -> bool:
    return config.body is None or config.body == AUTO


def extract_main(html: str, url: str | None = None) -> dict[str, str | None]:
    """Title, author, published and body of an article or thread page found without selectors
    (trafilatura's main-content extraction); each None when it finds none."""
    from trafilatura import bare_extraction  # loaded only by sites that use it (it takes ~0.5 s)

    doc = bare_extraction(html, url=url, with_metadata=True, include_comments=False, include_tables=True)
    if doc is None:
        return {"title": None, "author": None, "published": None, "body": None}
    found = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    published = found.get("date")
    if published:
        # trafilatura gives the day only; the page usually says the minute too (发布时间：2024-05-06 09:30).
        day = published.replace("-", "")
        for match in _FULL_TIME.finditer(html_to_text(html)):
            digits = re.findall(r"\d+", match.group(0))
            if f"{digits[0]}{int(digits[1]):02d}{int(digits[2]):02d}" == day:
                published = match.group(0)
                break
    body = found.get("text") or None
    title = found.get("title") or None
    if body and title:  # the headline repeated as the text's first line is not the body
        lines = body.split("\n")
        body = "\n".join(lines[1:]).strip() or body if lines[0].strip() == title.strip() else body
    return {"title": title, "author": found.get("author") or None, "published": published, "body": body}


def _selected(page: parsel.Selector, config: SiteConfig) -> dict[str, str | None]:
    record: dict[str, str | None] = {}
    for name in DETAIL_FIELDS:
        selector = getattr(config, name)
        record[name] = None if selector == AUTO else text_of(page, selector)
    for name in MULTILINE_FIELDS:
        selector = getattr(config, name)
        record[name] = None if selector == AUTO else text_of(page, selector, every=True)
    return record


def parse_detail(html: str, url: str, config: SiteConfig) -> dict[str, str | None]:
    return explain_detail(html, url, config)[0]


def explain_detail(html: str, url: str, config: SiteConfig) -> tuple[dict[str, str | None], dict[str, str]]:
    """The detail record and, per field, what found it: the selector, ``trafilatura``, or nothing."""
    page = parsel.Selector(text=html)
    for spec in config.drop:
        select(page, spec).drop()
    record = _selected(page, config)
    how = {name: f"selector {getattr(config, name)!r}" for name, value in record.items() if value}
    if _uses_extractor(config):
        # Selectors given override; trafilatura fills the fields they leave empty (drop applied first).
        extracted = extract_main(page.get() if config.drop else html, url or None)
        for name in ("title", "author", "published", "body"):
            auto_allowed = getattr(config, name) in (None, AUTO) or name == "body"
            if not record.get(name) and extracted.get(name) and auto_allowed:
                record[name] = extracted[name]
                how[name] = "trafilatura"
    for name in record:
        how.setdefault(name, "not found" if getattr(config, name) is not None else "no selector")
    return record, how


def canonical_url(html: str) -> str | None:
    """The page's own URL as it states it (a saved page has no other)."""
    page = parsel.Selector(text=html)
    found = page.css('link[rel="canonical"]::attr(href), meta[property="og:url"]::attr(content)').get()
    return found.strip() if found and found.strip().startswith(("http://", "https://")) else None


def item_to_lead(item: dict[str, Any], config: SiteConfig, *, source: str, channel: str, timezone: str) -> RawLead:
    """The RawLead of one crawled item; ValueError (incl. ValidationError) when it cannot be one.

    Relative times count back from the item's ``fetched_at``, when the page was read. A time that
    cannot be read keeps its text in ``extra['published_text']`` and leaves published_at unset: the
    complaint matters more than its date. A thread that could not be fetched (``fetch_error``) is a
    failure, unless the site keeps list-level leads (``keep_list_on_error``).
    """
    fetched = dt.datetime.fromisoformat(item["fetched_at"]) if item.get("fetched_at") else dt.datetime.now(dt.UTC)
    extra: dict[str, Any] = {"site": config.name}
    if item.get("fetch_error"):
        if not config.keep_list_on_error:
            raise ValueError(f"thread not read: {item['fetch_error']}")
        extra["detail_error"] = item["fetch_error"]
    formats = config.all_date_formats
    try:
        published = parse_board_time(item.get("published"), fetched, formats, timezone)
    except ValueError:
        published, extra["published_text"] = None, item.get("published")
    if item.get("reply_body"):
        extra["reply"] = item["reply_body"]
        try:
            reply_time = parse_board_time(item.get("reply_time"), fetched, formats, timezone)
            extra["reply_time"] = reply_time.isoformat() if reply_time else None
        except ValueError:
            # A reply with an odd time is still the reply: keep the words, lose the time.
            extra["reply_time"], extra["reply_time_text"] = None, item.get("reply_time")
        if item.get("reply_unit"):
            extra["reply_unit"] = item["reply_unit"]
    url = item.get("url")
    return RawLead(
        source=source, channel=channel, external_id=str(item.get("external_id") or ""),
        url=url if isinstance(url, str) and url.startswith(("http://", "https://")) else None,
        title=(item.get("title") or "")[:2000], body=item.get("body") or "", author=(item.get("author") or "")[:300] or None,
        published_at=published, fetched_at=fetched, extra=extra,
    )  # fmt: skip
