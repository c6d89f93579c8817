"""The board/forum crawler: one generic list → detail Scrapy spider driven by per-site configuration.

site_config.py  the SiteConfig model, bundled sites (sites/*.yaml) and board time parsing
parse.py        pure HTML → list entries / detail records → RawLead (no network; used offline too)
generic.py      the spider; settings.py, middlewares.py and pipelines.py its Scrapy plumbing
run.py          `python -m ingestors.spiders.run`: one crawl in a child process for ingestors/board.py

`scrapy crawl leadhub_generic -a site=leader_board -a start_urls=URL` works from this folder
(scrapy.cfg) and produces to Kafka through pipelines.KafkaPipeline.
"""
