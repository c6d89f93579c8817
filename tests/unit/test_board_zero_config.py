"""Boards with little or no configuration, on pages written for these tests in the shapes of real ones:
article pages read by trafilatura (one UTF-8 under a GB2312 <meta>, as People's Daily serves them), a
Tieba list (its threads inside an HTML comment, dates as 16:02 and 7-3), a Discuz! list, drafts from
``preview --suggest``, ``--explain``, ``--now``, ``--url``, .gz pages, and site files beside sources.yaml."""

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from ingestors.base import FetchContext, Problem
from ingestors.board import BoardKind, BoardOptions
from ingestors.sources import build_kind, load_sources
from ingestors.spiders.parse import decode_html, decode_html_explained, item_to_lead, parse_detail, parse_list
from ingestors.spiders.site_config import DEFAULT_DATE_FORMATS, SiteConfig, load_site, parse_board_time
from ingestors.spiders.suggest import suggest_site
from leadhub.cli import main
from schemas.leads import RawLead

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "board"
ARTICLES = FIXTURES / "articles"
EXPECTED = json.loads((ARTICLES / "expected.json").read_text(encoding="utf-8"))
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
# Saved on 2024-07-04 at 16:30 in Yiwu: Tieba's "16:02" is today, "7-3" this year, "昨天" the 3rd.
SAVED = dt.datetime(2024, 7, 4, 16, 30, tzinfo=SHANGHAI)
TIEBA = "https://tieba.baidu.com/f?kw=%E4%B9%89%E4%B9%8C&ie=utf-8"


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=SHANGHAI)


@pytest.mark.parametrize("declared", ["gb2312", "GBK", "x-gbk", "gb18030"])
def test_a_page_declared_in_any_gb_name_decodes_as_gb18030_even_with_a_character_gbk_lacks(declared):
    text = "小区门口𠀀号楼电梯停运"  # 𠀀 exists in GB18030 only; a GBK decode fails on it
    page = f'<html><head><meta charset="{declared}"></head><body>{text}</body></html>'.encode("gb18030")
    decoded, how = decode_html_explained(page)
    assert text in decoded and how == "gb18030 (declared)"


def test_a_utf8_page_that_declares_gb2312_is_read_as_utf8():
    data = (ARTICLES / "people_2024.html").read_bytes()
    assert b"charset=GB2312" in data
    text = decode_html(data)
    assert EXPECTED["people_2024.html"]["title"] in text
    assert decode_html(data, "text/html; charset=gb2312") == text  # a lying header too
    # A GBK page that says so stays GBK; the site's encoding: forces one when a page lies another way.
    assert EXPECTED["gov_notice_gbk.html"]["title"] in decode_html((ARTICLES / "gov_notice_gbk.html").read_bytes())
    gbk_unlabelled = "<html><body><p>北苑街道某工地夜间施工扰民</p></body></html>".encode("gbk")
    assert "北苑街道" in decode_html(gbk_unlabelled, "text/html; charset=utf-8", forced="gb18030")
    assert "北苑街道" in decode_html(gbk_unlabelled, "text/html; charset=iso-8859-1")  # a server's default label
    assert "北苑街道" in decode_html(gbk_unlabelled)  # no charset at all: detection among UTF-8, GB18030, Big5


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_an_article_page_needs_no_selectors(name):
    html = decode_html((ARTICLES / name).read_bytes())
    record = parse_detail(html, "", load_site("article"))
    expected = EXPECTED[name]
    assert expected["title"] in record["title"]
    assert all(paragraph in record["body"] for paragraph in expected["body"])
    assert expected["title"] not in record["body"].split("\n")[0]  # the headline is not the body's first line
    assert record["published"]


def test_a_selector_overrides_the_extractor_and_body_auto_keeps_it_for_the_rest():
    html = decode_html((ARTICLES / "sina_2023.html").read_bytes())
    config = SiteConfig(body="auto", author="css:.date-source .source", title="css:.tab-title")
    record = parse_detail(html, "", config)
    assert record["author"] == "新浪浙江" and record["title"] == "相关新闻"  # the selectors', however odd
    assert EXPECTED["sina_2023.html"]["body"][0] in record["body"]
    selected = parse_detail(html, "", SiteConfig(body="css:#article p", title="css:h1.main-title"))
    assert selected["body"].split("\n")[0] == EXPECTED["sina_2023.html"]["body"][0]
    assert selected["author"] is None  # a body selector turns the extractor off


def test_the_people_page_becomes_one_lead_via_preview_without_mojibake(capsys):
    argv = ["ingest", "preview", "--kind", "board", "--options", '{"site": "article"}', "--file", str(ARTICLES / "people_2024.html"),
            "--url", "http://zj.people.com.cn/n2/2024/0506/c186330-40835123.html", "--explain"]  # fmt: skip
    assert main(argv) == 0
    out, err = capsys.readouterr()
    lead = RawLead.model_validate_json(out.strip())
    assert lead.title == EXPECTED["people_2024.html"]["title"] and "电梯" in lead.body and "锟" not in lead.body
    assert lead.published_at == at(2024, 5, 6, 9, 30) and lead.url.endswith("c186330-40835123.html")
    assert "decoded as utf-8 (the bytes are valid UTF-8; the page declares gb18030)" in err
    assert "title: trafilatura" in err and "body: trafilatura" in err


def test_tieba_list_with_relative_dates_against_the_saved_time(capsys):
    config = load_site("tieba")
    html = decode_html((FIXTURES / "tieba_list.html").read_bytes())
    listing = parse_list(html, TIEBA, config)
    assert [e.external_id for e in listing.entries] == ["9012345678", "9012301234", "9011187654", "9009876543"]  # no sticky
    assert listing.next_url == TIEBA + "&pn=50"
    argv = ["ingest", "preview", "--kind", "forum", "--options", '{"site": "tieba"}', "--file", str(FIXTURES / "tieba_list.html"),
            "--url", TIEBA, "--now", "2024-07-04T16:30"]  # fmt: skip
    assert main(argv) == 0
    leads = [RawLead.model_validate_json(line) for line in capsys.readouterr().out.splitlines()]
    assert [lead.published_at for lead in leads] == [at(2024, 7, 4, 16, 2), at(2024, 7, 3, 21, 26), at(2024, 7, 3), at(2024, 6, 18)]
    assert leads[0].url == "https://tieba.baidu.com/p/9012345678" and leads[0].author == "江东居民"


def test_tieba_thread_first_floor_only():
    html = decode_html((FIXTURES / "tieba_thread_9012345678.html").read_bytes())
    record = parse_detail(html, "https://tieba.baidu.com/p/9012345678", load_site("tieba"))
    assert record["title"] == "义乌江东路晚上大货车太吵了，有没有人管" and record["author"] == "江东居民"
    assert record["published"] == "2024-07-03 21:26" and "渣土车" in record["body"] and "同感" not in record["body"]


def test_relative_times_as_boards_show_them():
    for text, expected in [("昨天 21:26", at(2024, 7, 3, 21, 26)), ("16:02", at(2024, 7, 4, 16, 2)), ("7-3", at(2024, 7, 3)),
                           ("16:45", at(2024, 7, 3, 16, 45)), ("12-30", at(2023, 12, 30))]:  # fmt: skip
        assert parse_board_time(text, SAVED, DEFAULT_DATE_FORMATS, "Asia/Shanghai") == expected, text


def test_an_unreadable_date_keeps_the_lead_and_extra_formats_add_to_the_defaults():
    item = {"external_id": "1", "title": "路灯不亮", "body": "某路口路灯不亮", "published": "2024年第三季度", "fetched_at": SAVED.isoformat()}
    lead = item_to_lead(item, SiteConfig(), source="s", channel="forum", timezone="Asia/Shanghai")
    assert lead.published_at is None and lead.extra["published_text"] == "2024年第三季度"
    monthly = SiteConfig(extra_date_formats=["%Y-%m"])
    assert monthly.all_date_formats[: len(DEFAULT_DATE_FORMATS)] == DEFAULT_DATE_FORMATS
    dated = item_to_lead(item | {"published": "2024-05"}, monthly, source="s", channel="forum", timezone="Asia/Shanghai")
    assert dated.published_at == at(2024, 5, 1)
    assert item_to_lead(item | {"published": "2024-05-06 09:00"}, monthly, source="s", channel="forum",
                        timezone="Asia/Shanghai").published_at == at(2024, 5, 6, 9)  # fmt: skip


def test_list_only_and_thread_only_sites():
    html = decode_html((FIXTURES / "tieba_list.html").read_bytes())
    list_only = SiteConfig(unwrap_comments=True, list_item="css:li.j_thread_list:not(.thread_top)",
                           list_fields={"title": "css:a.j_th_tit", "published": "css:.is_show_create_time"})  # fmt: skip
    entries = parse_list(html, TIEBA, list_only).entries
    assert len(entries) == 4 and entries[0].fields["title"].startswith("义乌江东路")
    assert entries[0].url == "https://tieba.baidu.com/p/9012345678"  # the item's own link, when it has one
    kind = BoardKind(BoardOptions(site="tieba", overrides={"detail_link": None}))
    context = FetchContext("t", "forum", "Asia/Shanghai", {"url": TIEBA}, now=SAVED)
    leads = list(kind.parse_document((FIXTURES / "tieba_list.html").read_bytes(), context))
    assert len(leads) == 4 and all(isinstance(lead, RawLead) for lead in leads)
    assert SiteConfig().list_item is None  # thread-only: start_urls are the pages themselves
    with pytest.raises(ValidationError, match="not a known codec"):
        SiteConfig(encoding="gb9999")


@pytest.mark.parametrize(
    "page, url, item, link, fields, ids",
    [
        ("tieba_list.html", TIEBA, "css:li.j_thread_list.clearfix:not(.thread_top)", "css:a.j_th_tit::attr(href)",
         {"published": "16:02", "author": "江东居民"}, {"id_pattern": "/p/(\\d+)"}),
        ("discuz_list_1.html", "http://bbs.example.cn/forum/forum-2-1.html", "css:tbody[id^=normalthread_]",
         "css:a.s.xst::attr(href)", {"published": "2019-8-26", "author": "义乌老王"}, {"id_pattern": "thread-(\\d+)"}),
        ("leader_list_1.html", "http://liuyan.example.cn/board/list?page=1", "css:li.replyItem", "css:h2.tit a::attr(href)",
         {"published": "2019/2/28 11:25:05"}, {"id_params": ["tid"]}),
    ],
)  # fmt: skip
def test_suggest_finds_the_repeated_block_and_its_fields(page, url, item, link, fields, ids):
    html = decode_html((FIXTURES / page).read_bytes())
    suggestion = suggest_site(html, url)
    draft = suggestion.config
    assert draft["list_item"] == item and draft["detail_link"] == link and draft["body"] == "auto"
    assert {k: draft[k] for k in ids} == ids and draft["next_page"]
    config = SiteConfig.model_validate(draft)  # the draft is a valid site as it stands
    first = parse_list(html, url, config).entries[0]
    assert {name: first.fields.get(name) for name in fields} == fields
    assert any(note.startswith("list_item:") for note in suggestion.notes)


def test_suggest_on_the_command_line_prints_a_loadable_yaml(tmp_path, capsys):
    packed = tmp_path / "tieba.html.gz"
    packed.write_bytes(gzip.compress((FIXTURES / "tieba_list.html").read_bytes()))
    assert main(["ingest", "preview", "--kind", "forum", "--suggest", str(packed), "--url", TIEBA]) == 0
    out, err = capsys.readouterr()
    (tmp_path / "site.yaml").write_text(out, encoding="utf-8")
    config = load_site(tmp_path / "site.yaml")
    assert config.unwrap_comments and config.start_urls == [TIEBA]
    assert "unwrap_comments: true" in err
    # The saved .gz page itself previews too.
    assert main(["ingest", "preview", "--kind", "forum", "--options", json.dumps({"site": str(tmp_path / "site.yaml")}),
                 "--file", str(packed), "--url", TIEBA, "--now", "2024-07-04T16:30"]) == 0  # fmt: skip
    assert "4 lead(s), 0 problem(s)" in capsys.readouterr().err


def test_preview_says_plainly_what_is_wrong(tmp_path, capsys):
    (tmp_path / "bad.gz").write_bytes(b"\x1f\x8b not really")
    assert main(["ingest", "preview", "--kind", "board", "--file", str(tmp_path / "bad.gz")]) == 2
    assert "not a readable gzip file" in capsys.readouterr().err
    assert main(["ingest", "preview", "--kind", "board", "--file", str(ARTICLES / "sina_2023.html"), "--now", "soon"]) == 2
    assert "--now 'soon' is not an ISO time" in capsys.readouterr().err
    assert main(["ingest", "preview", "--kind", "feed", "--suggest", str(ARTICLES / "sina_2023.html")]) == 2
    assert "for the board and forum kinds" in capsys.readouterr().err
    assert main(["ingest", "preview", "--kind", "board", "--options", '{"overrides": {"titel": "h1"}}',
                 "--file", str(ARTICLES / "sina_2023.html")]) == 2  # fmt: skip
    assert "did you mean 'title'" in capsys.readouterr().err


def test_a_site_file_resolves_beside_sources_yaml(tmp_path, monkeypatch):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "my_board.yaml").write_text("name: my_board\nbody: auto\n", encoding="utf-8")
    (tmp_path / "conf" / "sources.yaml").write_text(yaml.safe_dump({"sources": [
        {"name": "my-board", "kind": "board", "channel": "complaint_platform",
         "options": {"site": "my_board.yaml", "start_urls": ["https://example.cn/a.html"]}}]}), encoding="utf-8")  # fmt: skip
    monkeypatch.chdir(tmp_path)  # started elsewhere: the path is still the one beside sources.yaml
    [source] = load_sources(tmp_path / "conf" / "sources.yaml")
    assert source.options["site"] == str(tmp_path / "conf" / "my_board.yaml")
    assert build_kind(source).options.site_config().name == "my_board"


def test_the_article_site_makes_a_saved_page_one_lead():
    kind = BoardKind(BoardOptions(site="article"))
    context = FetchContext("t", "forum", "Asia/Shanghai", {}, now=SAVED)
    out = list(kind.parse_document((ARTICLES / "xinhua_2024.html").read_bytes(), context))
    assert len(out) == 1 and not isinstance(out[0], Problem) and out[0].title == EXPECTED["xinhua_2024.html"]["title"]


def test_the_spider_on_list_only_and_thread_only_sites_and_on_an_http_error():
    from scrapy.http import HtmlResponse, Request, Response
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.python.failure import Failure

    from ingestors.spiders.generic import GenericBoardSpider

    body = (FIXTURES / "tieba_list.html").read_bytes()
    response = HtmlResponse(TIEBA, body=body, headers={"Content-Type": "text/html"}, request=Request(TIEBA))
    list_only = load_site("tieba").model_copy(update={"start_urls": [TIEBA], "detail_link": None, "max_pages": 1})
    items = list(GenericBoardSpider(config=list_only).parse_list_page(response, page=1))
    assert [i["external_id"] for i in items] == ["9012345678", "9012301234", "9011187654", "9009876543"]
    assert items[1]["published"] == "昨天 21:26" and items[1]["url"] == "https://tieba.baidu.com/p/9012301234"

    article = "https://zj.people.com.cn/n2/2024/0506/c186330-40835123.html"
    thread_only = load_site("article").model_copy(update={"start_urls": [article]})
    spider = GenericBoardSpider(config=thread_only)
    [request] = list(spider.start_requests())
    assert request.callback == spider.parse_detail_page and request.cb_kwargs["external_id"] == article
    # The header and the page both say GB2312; the bytes are UTF-8.
    page = HtmlResponse(article, body=(ARTICLES / "people_2024.html").read_bytes(),
                        headers={"Content-Type": "text/html; charset=gb2312"}, request=request)  # fmt: skip
    [item] = list(spider.parse_detail_page(page, **request.cb_kwargs))
    assert item["title"] == EXPECTED["people_2024.html"]["title"] and "加装电梯" in item["body"]

    # A thread answering 404: handed on as a failed item (with the list's fields), not skipped as robots.txt's refusal is.
    thread = Request("https://tieba.baidu.com/p/1", cb_kwargs={"external_id": "1", "list_fields": {"title": "噪音"}})
    failure = Failure(HttpError(Response(thread.url, status=404, request=thread), "Ignoring non-200 response"))
    failure.request = thread
    [failed] = spider.detail_failed(failure)
    assert failed["fetch_error"] == "HTTP 404" and failed["title"] == "噪音" and spider.detail_failed_count == 1
    assert spider.errors == ["https://tieba.baidu.com/p/1: HTTP 404"]
    from scrapy.exceptions import IgnoreRequest

    refused = Failure(IgnoreRequest("Forbidden by robots.txt"))
    refused.request = thread
    assert spider.detail_failed(refused) is None and spider.detail_failed_count == 1  # robots.txt: not a failure


def test_discuz_list_with_a_relative_date_against_the_saved_time(capsys):
    argv = ["ingest", "preview", "--kind", "forum", "--file", str(FIXTURES / "discuz_list_1.html"),
            "--url", "http://bbs.example.cn/forum/forum-2-1.html", "--now", "2019-08-26T10:00"]  # fmt: skip
    assert main(argv) == 0
    leads = {lead.external_id: lead for lead in map(RawLead.model_validate_json, capsys.readouterr().out.splitlines())}
    assert "100" not in leads  # the sticky rules thread
    # Discuz puts the day in a title attribute (<span title="2019-8-25">昨天&nbsp;21:40</span>): the site prefers it.
    assert leads["12339"].published_at == at(2019, 8, 25)
    # Read from the text instead, 昨天 21:40 is the day before the page was saved, at 21:40.
    text_only = json.dumps({"overrides": {"list_fields": {"title": "css:a.xst", "published": "css:td.by em"}}})
    assert main([*argv, "--options", text_only]) == 0
    leads = {lead.external_id: lead for lead in map(RawLead.model_validate_json, capsys.readouterr().out.splitlines())}
    assert leads["12339"].published_at == at(2019, 8, 25, 21, 40)
