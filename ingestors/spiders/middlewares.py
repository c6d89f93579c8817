"""A downloader middleware that keeps the crawler off addresses sources may not reach.

Every request passes here, including robots.txt fetches and each redirect hop (Scrapy reschedules
a redirect as a new request), and is checked with the same guard as our HTTP client.
The check resolves the host itself, so a name that resolves differently a moment later (DNS
rebinding) is not caught; the guard is against misconfiguration and links into intranets.
"""

from __future__ import annotations

import logging

from scrapy.exceptions import IgnoreRequest

from ingestors.base import SourceUnavailable
from ingestors.http import BlockedAddress, check_url

logger = logging.getLogger(__name__)


class SsrfGuardMiddleware:
    def __init__(self, crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _allow_private(self) -> bool:
        config = getattr(self.crawler.spider, "config", None)
        return bool(getattr(config, "allow_private_network", False))

    def process_request(self, request, spider=None):  # spider: for Scrapy < 2.13, which passes it
        try:
            check_url(request.url, self._allow_private())
        except BlockedAddress as exc:
            logger.warning("blocked: %s", exc)
            self.crawler.stats.inc_value("leadhub/ssrf_blocked")
            raise IgnoreRequest(str(exc)) from None
        except SourceUnavailable as exc:  # the name does not resolve: the download would fail anyway
            raise IgnoreRequest(str(exc)) from None
        return None
