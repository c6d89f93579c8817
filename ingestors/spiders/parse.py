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
from w3lib.encoding import html_to_unicode
from w3lib.html import remove_tags, remove_tags_with_content, replace_entities

from ingestors.spiders.site_config import Selector, SiteConfig, parse_board_time, split_selector
from schemas.leads import RawLead

# Where a block ends in HTML, a line ends in the text: paragraphs stay paragraphs.
_BREAKS = re.compile(r"<br\s*/?>|</?(?:p|div|li|tr|h[1-6]|blockquote|pre|table|dd|dt)(?:\s[^>]*)?>", re.IGNORECASE)
DETAIL_FIELDS = ("title", "author", "published", "reply_unit", "reply_time")  # one line each
MULTILINE_FIELDS = ("body", "reply_body")


@dataclass
class ListEntry:
    url: str  # the detail page, absolute when the page's own URL is known
    external_id: str
    fields: dict[str, str] = field(default_factory=dict)  # list-level title/author/published


@dataclass
class ListPage:
    entries: list[ListEntry]
    next_url: str | None


def decode_html(data: bytes, content_type: str | None = None) -> str:
    """Text of a saved page: BOM, then Content-Type, then <meta charset>, then a guess (GBK boards abound)."""
    return html_to_unicode(content_type, data)[1]


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


def parse_list(html: str, url: str, config: SiteConfig) -> ListPage:
    page = parsel.Selector(text=html)
    base = _base_url(page, url)
    entries: list[ListEntry] = []
    for spec in [config.list_item] if isinstance(config.list_item, str) else config.list_item:
        for item in select(page, spec):
            link = _link(item, config.detail_link, base)
            if not link:
                continue  # a separator row or an advert
            fields: dict[str, str] = {name: text for name, sel in config.list_fields.items() if (text := text_of(item, sel))}
            entries.append(ListEntry(link, external_id_for(link, config), fields))
        if entries:
            break
    next_url = _link(page, config.next_page, base) if config.next_page else None
    return ListPage(entries, next_url if next_url != url else None)


def parse_detail(html: str, url: str, config: SiteConfig) -> dict[str, str | None]:
    page = parsel.Selector(text=html)
    for spec in config.drop:
        select(page, spec).drop()
    record: dict[str, str | None] = {name: text_of(page, getattr(config, name)) for name in DETAIL_FIELDS}
    for name in MULTILINE_FIELDS:
        record[name] = text_of(page, getattr(config, name), every=True)
    return record


def canonical_url(html: str) -> str | None:
    """The page's own URL as it states it (a saved page has no other)."""
    page = parsel.Selector(text=html)
    found = page.css('link[rel="canonical"]::attr(href), meta[property="og:url"]::attr(content)').get()
    return found.strip() if found and found.strip().startswith(("http://", "https://")) else None


def item_to_lead(item: dict[str, Any], config: SiteConfig, *, source: str, channel: str, timezone: str) -> RawLead:
    """The RawLead of one crawled item; ValueError (incl. ValidationError) when it cannot be one.

    Relative times count back from the item's ``fetched_at``, when the page was read.
    """
    fetched = dt.datetime.fromisoformat(item["fetched_at"]) if item.get("fetched_at") else dt.datetime.now(dt.UTC)
    published = parse_board_time(item.get("published"), fetched, config.date_formats, timezone)
    extra: dict[str, Any] = {"site": config.name}
    if item.get("reply_body"):
        extra["reply"] = item["reply_body"]
        try:
            reply_time = parse_board_time(item.get("reply_time"), fetched, config.date_formats, timezone)
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
