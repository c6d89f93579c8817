"""Scrapy settings for leadhub's board crawler (``scrapy.cfg`` points here).

Polite by default: robots.txt obeyed, one request at a time per site with a delay that AutoThrottle
only ever raises, our own User-Agent, and a cap on what one response may weigh. The spider sets
the site's own delay and concurrency from its SiteConfig (see GenericBoardSpider.from_crawler).
"""

from ingestors.http import USER_AGENT

BOT_NAME = "leadhub"
SPIDER_MODULES = ["ingestors.spiders.generic"]
NEWSPIDER_MODULE = "ingestors.spiders"

USER_AGENT = USER_AGENT
ROBOTSTXT_OBEY = True

AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 5.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_DELAY = 2.0
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 1

DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 5 * 1024 * 1024  # a board page is tens of KB; anything this big is not one
DOWNLOAD_WARNSIZE = 1024 * 1024
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 5
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False

DOWNLOADER_MIDDLEWARES = {
    # Before robots.txt (100) and everything else, so no request, robots.txt's included, escapes it.
    "ingestors.spiders.middlewares.SsrfGuardMiddleware": 50,
}
ITEM_PIPELINES = {"ingestors.spiders.pipelines.KafkaPipeline": 300}
# What KafkaPipeline builds its Kafka settings with (./leadhub.yaml, LEADHUB_* environment).
LEADHUB_SETTINGS_FACTORY = "leadhub.settings.build_settings"

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
