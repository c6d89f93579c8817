"""Item pipelines: to Kafka (for `scrapy crawl`), or to a JSON-lines file (for ingestors/board.py).

KafkaPipeline makes each item a RawLead and produces it to leads.raw keyed source:external_id,
as the ingest runner does; an item that cannot be a lead goes to leads.dlq as a DeadLetter with
the item's JSON as payload. Sends are flushed (and checked) when the spider closes.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, TextIO

from ingestors.spiders.parse import item_to_lead

if TYPE_CHECKING:
    from adapters.producer import CheckedProducer

logger = logging.getLogger(__name__)


def _payload(item: dict) -> bytes:
    return json.dumps(dict(item), ensure_ascii=False, default=str).encode("utf-8")


class KafkaPipeline:
    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.producer: CheckedProducer | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self, spider=None) -> None:  # spider: for Scrapy < 2.13, which passes it
        from scrapy.utils.misc import load_object

        from adapters.producer import CheckedProducer

        # The settings root belongs to the top (leadhub/); like ITEM_PIPELINES, the Scrapy project names
        # it in its settings rather than this layer importing upwards.
        build_settings = load_object(self.crawler.settings["LEADHUB_SETTINGS_FACTORY"])
        self.producer = CheckedProducer(build_settings().kafka)

    def process_item(self, item, spider=None):
        from schemas.dead_letters import DeadLetter
        from schemas.serialization import encode

        spider = self.crawler.spider
        source = spider.lead_source
        try:
            lead = item_to_lead(dict(item), spider.config, source=source, channel=spider.lead_channel, timezone=spider.lead_timezone)
        except ValueError as exc:
            letter = DeadLetter.of(f"ingest:{source}", exc, _payload(item), details={"url": item.get("url")})
            value, headers = encode(letter)
            self.producer.send("leads.dlq", value, source.encode(), headers)
            return item
        value, headers = encode(lead)
        self.producer.send("leads.raw", value, lead.key.encode(), headers)
        return item

    def close_spider(self, spider=None) -> None:
        if self.producer is not None:
            sent = self.producer.flush()
            self.producer.close()
            logger.info("produced %d record(s) to Kafka", sent)


class JsonLinesPipeline:
    """Writes each item as one line to the file in setting LEADHUB_OUTPUT (the parent reads it)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.file: TextIO | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings["LEADHUB_OUTPUT"])

    def open_spider(self, spider=None) -> None:
        self.file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close_spider

    def process_item(self, item, spider=None):
        self.file.write(json.dumps(dict(item), ensure_ascii=False, default=str) + "\n")
        self.file.flush()
        return item

    def close_spider(self, spider=None) -> None:
        if self.file is not None:
            self.file.close()
