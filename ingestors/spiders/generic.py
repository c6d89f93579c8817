"""One spider for every board: list page → detail pages → next list page, as the SiteConfig says.

Incremental: ids already seen (passed in) are not fetched again, and once a whole list page is
already seen the older pages behind it are not read at all. Boards list newest first, so that is
where the new messages end.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError

from ingestors.spiders.parse import decode_html, external_id_for, parse_detail, parse_list
from ingestors.spiders.site_config import SiteConfig, load_site


class GenericBoardSpider(scrapy.Spider):
    name = "leadhub_generic"

    def __init__(
        self, site: str | None = None, config: SiteConfig | None = None, seen: list[str] | None = None,
        seen_file: str | None = None, start_urls: str | list[str] | None = None, source: str = "board",
        channel: str = "complaint_platform", timezone: str = "Asia/Shanghai", allow_private_network: str | bool = False,
        **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(**kwargs)
        if config is None:
            if not site:
                raise ValueError("give the spider a site: -a site=leader_board or -a site=path/to/site.yaml")
            config = load_site(site)
        changes: dict[str, Any] = {}
        if start_urls:  # -a start_urls=URL[,URL…] on the command line
            urls = start_urls.split(",") if isinstance(start_urls, str) else list(start_urls)
            changes["start_urls"] = [u.strip() for u in urls]
        if str(allow_private_network).lower() in ("1", "true", "yes"):  # -a allow_private_network=true
            changes["allow_private_network"] = True
        if changes:
            config = SiteConfig.model_validate(config.model_dump() | changes)
        self.config = config
        self.seen: set[str] = set(seen or ())
        if seen_file:
            self.seen.update(json.loads(Path(seen_file).read_text(encoding="utf-8")))
        self.lead_source, self.lead_channel, self.lead_timezone = source, channel, timezone
        # Next-page links that wander to another site are dropped by Scrapy's offsite filter.
        self.allowed_domains = sorted({host for u in config.start_urls if (host := urlsplit(u).hostname)})
        self.list_pages = 0
        self.detail_failed_count = 0
        self.errors: list[str] = []

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        # The site's own pace. Settings are still open here (frozen after the spider is made);
        # "spider" priority beats the project's defaults but not `-s` on the command line.
        config = spider.config
        crawler.settings.set("DOWNLOAD_DELAY", config.download_delay_s, priority="spider")
        crawler.settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", config.concurrency, priority="spider")
        crawler.settings.set("AUTOTHROTTLE_START_DELAY", config.download_delay_s, priority="spider")
        crawler.settings.set("AUTOTHROTTLE_TARGET_CONCURRENCY", float(config.concurrency), priority="spider")
        return spider

    async def start(self):  # Scrapy >= 2.13
        for request in self.start_requests():
            yield request

    def start_requests(self):  # older Scrapy
        for url in self.config.start_urls:
            if self.config.list_item is None:  # a thread-only site: each start URL is a thread
                yield self._detail_request(url, external_id_for(url, self.config), {})
            else:
                yield scrapy.Request(url, callback=self.parse_list_page, errback=self.list_failed, cb_kwargs={"page": 1})

    def _detail_request(self, url: str, external_id: str, fields: dict[str, str]) -> scrapy.Request:
        return scrapy.Request(
            url, callback=self.parse_detail_page, errback=self.detail_failed,
            cb_kwargs={"external_id": external_id, "list_fields": fields},
        )  # fmt: skip

    def _text(self, response: Response) -> str | None:
        """The page as text, decoded as the site's pages are (see decode_html); None if it is no page."""
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
        if content_type and not any(t in content_type for t in ("html", "xml", "text")):
            self.errors.append(f"{response.url}: not an HTML page ({content_type})")
            return None
        return decode_html(response.body, content_type or None, self.config.encoding)

    def _now(self) -> str:
        return dt.datetime.now(dt.UTC).isoformat()

    def parse_list_page(self, response, page: int):
        html = self._text(response)
        if html is None:
            return
        listing = parse_list(html, response.url, self.config)
        self.list_pages += 1
        if not listing.entries:
            self.errors.append(f"{response.url}: no items on the list page (is list_item still right?)")
            return
        fresh = [entry for entry in listing.entries if entry.external_id not in self.seen]
        for entry in fresh:
            self.seen.add(entry.external_id)  # the same message on two list pages is fetched once
            if self.config.detail_link is None:  # a list-only site: the list's fields are the lead
                yield entry.fields | {"url": entry.url or response.url, "external_id": entry.external_id,
                                      "fetched_at": self._now()}  # fmt: skip
            elif entry.url:
                yield self._detail_request(entry.url, entry.external_id, entry.fields)
        if not fresh:
            self.logger.info("%s: every item already seen; not reading older pages", response.url)
            return
        if listing.next_url and page < self.config.max_pages:
            yield scrapy.Request(
                listing.next_url, callback=self.parse_list_page, errback=self.list_failed, cb_kwargs={"page": page + 1}
            )

    def parse_detail_page(self, response, external_id: str, list_fields: dict[str, str]):
        html = self._text(response)
        if html is None:
            yield self._failed_item(response.url, external_id, list_fields, "not an HTML page")
            return
        record: dict[str, Any] = parse_detail(html, response.url, self.config)
        for name, value in list_fields.items():  # the list knows what the detail page left out
            record[name] = record.get(name) or value
        yield record | {"url": response.url, "external_id": external_id, "fetched_at": self._now()}

    def _failed_item(self, url: str, external_id: str, list_fields: dict[str, str], reason: str) -> dict[str, Any]:
        # Handed on, not dropped: the parent counts it as a failure (a dead letter), or keeps the list's
        # fields as a lead when the site says so (keep_list_on_error).
        self.detail_failed_count += 1
        return list_fields | {"url": url, "external_id": external_id, "fetched_at": self._now(), "fetch_error": reason}

    def list_failed(self, failure):
        if failure.check(HttpError):
            self.errors.append(f"{failure.request.url}: HTTP {failure.value.response.status}")
            return
        self.errors.append(f"{failure.request.url}: {failure.getErrorMessage() or failure.type.__name__}")

    def detail_failed(self, failure):
        request = failure.request
        # HttpError is a subclass of IgnoreRequest: it must be told apart before robots.txt's refusal.
        if failure.check(HttpError):
            reason = f"HTTP {failure.value.response.status}"
        elif failure.check(IgnoreRequest):  # robots.txt (or the address guard) said no: not ours to read
            self.logger.info("skipped %s: %s", request.url, failure.getErrorMessage())
            return None
        else:
            reason = failure.getErrorMessage() or failure.type.__name__
        self.errors.append(f"{request.url}: {reason}")
        kwargs = request.cb_kwargs
        return [self._failed_item(request.url, kwargs["external_id"], kwargs["list_fields"], reason)]
