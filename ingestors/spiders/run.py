"""One crawl in its own process: ``python -m ingestors.spiders.run --config C --output O …``.

Scrapy's Twisted reactor cannot be restarted within a process, so ingestors/board.py runs each
crawl here. Items are written to --output as JSON lines; --summary gets what the parent needs to
judge the run (list pages read, errors). Exit status 0 unless the crawl itself could not start.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingestors.spiders.run")
    parser.add_argument("--config", required=True, help="SiteConfig as YAML or JSON (or a bundled site name).")
    parser.add_argument("--output", required=True, help="Items as JSON lines.")
    parser.add_argument("--summary", required=True, help="A JSON summary of the crawl.")
    parser.add_argument("--seen", help="A JSON list of external ids already fetched.")
    parser.add_argument("--source", default="board")
    parser.add_argument("--channel", default="complaint_platform")
    parser.add_argument("--timezone", default="Asia/Shanghai")
    parser.add_argument("--timeout", type=float, default=0, help="Close the crawl after this many seconds (0: never).")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)

    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    from ingestors.spiders.generic import GenericBoardSpider
    from ingestors.spiders.site_config import load_site

    config = load_site(args.config)
    seen = json.loads(Path(args.seen).read_text(encoding="utf-8")) if args.seen else []
    settings = Settings()
    settings.setmodule("ingestors.spiders.settings", priority="project")
    settings.set("ITEM_PIPELINES", {"ingestors.spiders.pipelines.JsonLinesPipeline": 300}, priority="cmdline")
    settings.set("LEADHUB_OUTPUT", args.output, priority="cmdline")
    settings.set("LOG_LEVEL", args.log_level, priority="cmdline")
    if args.timeout:
        settings.set("CLOSESPIDER_TIMEOUT", args.timeout, priority="cmdline")
    Path(args.output).touch()

    process = CrawlerProcess(settings)
    crawler = process.create_crawler(GenericBoardSpider)
    process.crawl(crawler, config=config, seen=seen, source=args.source, channel=args.channel, timezone=args.timezone)
    process.start()

    spider = crawler.spider
    if not isinstance(spider, GenericBoardSpider):  # the crawl failed before it made its spider
        raise RuntimeError("the crawl did not start (see the log above)")
    stats = crawler.stats.get_stats() if crawler.stats else {}
    summary = {
        "list_pages": spider.list_pages,
        "errors": spider.errors,
        "details_failed": spider.detail_failed_count,
        "finish_reason": stats.get("finish_reason"),
        "robots_forbidden": stats.get("robotstxt/forbidden", 0),
        "ssrf_blocked": stats.get("leadhub/ssrf_blocked", 0),
        "responses": stats.get("downloader/response_count", 0),
    }
    Path(args.summary).write_text(json.dumps(summary, ensure_ascii=False, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
