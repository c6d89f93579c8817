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
from scrapy.http import TextResponse

from ingestors.spiders.parse import parse_detail, parse_list
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
            yield scrapy.Request(url, callback=self.parse_list_page, errback=self.list_failed, cb_kwargs={"page": 1})

    def parse_list_page(self, response, page: int):
        if not isinstance(response, TextResponse):
            self.errors.append(f"{response.url}: not an HTML page")
            return
        listing = parse_list(response.text, response.url, self.config)
        self.list_pages += 1
        if not listing.entries:
            self.errors.append(f"{response.url}: no items on the list page (is list_item still right?)")
            return
        fresh = [entry for entry in listing.entries if entry.external_id not in self.seen]
        for entry in fresh:
            self.seen.add(entry.external_id)  # the same message on two list pages is fetched once
            yield scrapy.Request(
                entry.url, callback=self.parse_detail_page, errback=self.detail_failed,
                cb_kwargs={"external_id": entry.external_id, "list_fields": entry.fields},
            )  # fmt: skip
        if not fresh:
            self.logger.info("%s: every item already seen; not reading older pages", response.url)
            return
        if listing.next_url and page < self.config.max_pages:
            yield scrapy.Request(
                listing.next_url, callback=self.parse_list_page, errback=self.list_failed, cb_kwargs={"page": page + 1}
            )

    def parse_detail_page(self, response, external_id: str, list_fields: dict[str, str]):
        if not isinstance(response, TextResponse):
            self.errors.append(f"{response.url}: not an HTML page")
            return
        record: dict[str, Any] = parse_detail(response.text, response.url, self.config)
        for name, value in list_fields.items():  # the list knows what the detail page left out
            record[name] = record.get(name) or value
        yield record | {
            "url": response.url, "external_id": external_id,
            "fetched_at": dt.datetime.now(dt.UTC).isoformat(),
        }  # fmt: skip

    def list_failed(self, failure):
        self.errors.append(f"{failure.request.url}: {failure.getErrorMessage() or failure.type.__name__}")

    def detail_failed(self, failure):
        if failure.check(IgnoreRequest):  # robots.txt said no: not an error, just not ours to read
            self.logger.info("skipped %s: %s", failure.request.url, failure.getErrorMessage())
            return
        self.errors.append(f"{failure.request.url}: {failure.getErrorMessage() or failure.type.__name__}")
