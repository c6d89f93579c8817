"""A feed's body is parsed, never followed: feedparser, handed a str, treats one that reads as a URL or
a path as a place to fetch or open itself, past the address guard. A hostile feed answering
``file:///…`` or ``http://169.254.169.254/…`` must give a parse problem, not that resource's content."""

import pytest

from ingestors.base import FetchContext
from ingestors.feed import entries_to_leads

LOCAL_FEED = (
    '<rss version="2.0"><channel><title>t</title><item><title>LOCAL FILE READ</title>'
    "<link>http://example.org/1</link><description>from disk</description></item></channel></rss>"
)


def ctx() -> FetchContext:
    return FetchContext(source="s", channel="news", timezone="Asia/Shanghai", state={})


@pytest.mark.parametrize(
    "template",
    ["{path}", "file://{path}", "file:{path}", "feed:file://{path}", "{path}\n"],
)
def test_a_body_naming_a_local_file_is_not_opened(tmp_path, template):
    feed = tmp_path / "local.xml"
    feed.write_text(LOCAL_FEED, encoding="utf-8")
    items, _problem = entries_to_leads(template.format(path=feed), ctx())
    assert not [i for i in items if getattr(i, "title", "") == "LOCAL FILE READ"]


@pytest.mark.parametrize(
    "body", ["http://169.254.169.254/latest/meta-data/", "https://[::1]:1/", "ftp://127.0.0.1/x", "feed://127.0.0.1:1/"]
)
def test_a_body_naming_a_url_is_not_fetched(monkeypatch, body):
    import feedparser.http

    def refuse(*args, **kwargs):
        raise AssertionError(f"feedparser fetched {args[0]!r}")

    monkeypatch.setattr(feedparser.http, "get", refuse)
    items, problem = entries_to_leads(body, ctx())
    assert items == [] and problem  # not a feed: said so, nothing fetched


def test_a_real_feed_still_parses():
    items, problem = entries_to_leads('<?xml version="1.0" encoding="gbk"?>' + LOCAL_FEED.replace("from disk", "中文"), ctx())
    assert problem is None and [(i.title, i.body) for i in items] == [("LOCAL FILE READ", "中文")]
