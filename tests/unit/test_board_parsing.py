"""Board and forum kinds offline: board times, site configs, list/detail parsing of saved pages,
the spider's paging decisions, preview, and what a run hands back and remembers."""

import datetime as dt
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from ingestors.base import FetchContext, Problem, SourceUnavailable, load_kinds
from ingestors.board import SEEN_LIMIT, BoardKind, BoardOptions, ForumOptions
from ingestors.spiders.parse import (
    decode_html,
    external_id_for,
    html_to_text,
    item_to_lead,
    parse_detail,
    parse_list,
)
from ingestors.spiders.site_config import DEFAULT_DATE_FORMATS, SiteConfig, load_site, parse_board_time
from leadhub.cli import main
from schemas.leads import RawLead

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "board"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
# 2019-08-26 10:00 in Shanghai; 02:00 UTC, so "today" differs between the two zones until 08:00.
NOW = dt.datetime(2019, 8, 26, 2, 0, tzinfo=dt.UTC)
LEADER = "http://liuyan.example.cn/board/list?page=1"
FORUM = "http://bbs.example.cn/forum/forum-2-1.html"


def page(name: str) -> str:
    return decode_html((FIXTURES / name).read_bytes())


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2019/2/28 11:25:05", at(2019, 2, 28, 11, 25, 5)),
        ("2019-08-26 01:50:38", at(2019, 8, 26, 1, 50, 38)),
        ("留言时间：2019/2/28 11:25:05", at(2019, 2, 28, 11, 25, 5)),
        ("发表于 2019-8-26 01:50", at(2019, 8, 26, 1, 50)),
        ("2019年2月28日 11:25", at(2019, 2, 28, 11, 25)),
        ("3小时前", at(2019, 8, 26, 7, 0)),
        ("3\xa0小时前", at(2019, 8, 26, 7, 0)),  # Discuz puts &nbsp; between number and unit
        ("15分钟前", at(2019, 8, 26, 9, 45)),
        ("半小时前", at(2019, 8, 26, 9, 30)),
        ("2 天前", at(2019, 8, 24, 10, 0)),
        ("昨天 14:05", at(2019, 8, 25, 14, 5)),
        ("发表于 昨天\xa014:05", at(2019, 8, 25, 14, 5)),
        ("前天 08:00", at(2019, 8, 24, 8, 0)),
        ("今天 09:30", at(2019, 8, 26, 9, 30)),
        ("刚刚", at(2019, 8, 26, 10, 0)),
        ("09:12", at(2019, 8, 26, 9, 12)),  # Tieba: today's posts show only the time
        ("23:50", at(2019, 8, 25, 23, 50)),  # later than now: last night's
        ("8-20", at(2019, 8, 20)),  # this year's posts show no year
        ("12-31", at(2018, 12, 31)),  # a day still to come this year is last year's
    ],
)
def test_board_times(text, expected):
    assert parse_board_time(text, NOW, DEFAULT_DATE_FORMATS, "Asia/Shanghai") == expected


def test_board_times_in_the_sources_zone_and_the_nots():
    assert parse_board_time("昨天 14:05", NOW, DEFAULT_DATE_FORMATS, "UTC") == dt.datetime(2019, 8, 25, 14, 5, tzinfo=dt.UTC)
    assert parse_board_time("28.02.2019", NOW, ["%d.%m.%Y"], "Asia/Shanghai") == at(2019, 2, 28)
    assert parse_board_time("  ", NOW, DEFAULT_DATE_FORMATS, "Asia/Shanghai") is None
    assert parse_board_time(None, NOW, DEFAULT_DATE_FORMATS, "Asia/Shanghai") is None
    with pytest.raises(ValueError, match="nor a relative form"):
        parse_board_time("很久以前", NOW, DEFAULT_DATE_FORMATS, "Asia/Shanghai")


def test_site_configs_are_checked_when_they_load(tmp_path):
    assert load_site("leader_board").name == "leader_board" and load_site("discuz_forum").reply_body is None
    with pytest.raises(ValidationError, match="not a valid css selector"):
        SiteConfig(list_item="css:li[[", detail_link="a::attr(href)", body="div")
    with pytest.raises(ValidationError, match="not a valid xpath selector"):
        SiteConfig(list_item="li", detail_link="a::attr(href)", body="xpath://div[")
    with pytest.raises(ValidationError, match="unknown field 'colour'; fields: name, "):
        SiteConfig(list_item="li", detail_link="a::attr(href)", body="div", colour="red")
    with pytest.raises(ValidationError, match="unknown field 'titel'; did you mean 'title'"):
        SiteConfig(list_item="li", detail_link="a::attr(href)", titel="h1")
    with pytest.raises(ValueError, match="neither a bundled site"):
        load_site("no_such_board")
    (tmp_path / "mine.yaml").write_text("list_item: li\ndetail_link: 'a::attr(href)'\nbody: div\nmax_pages: 0\n")
    with pytest.raises(ValueError, match="max_pages"):
        load_site(tmp_path / "mine.yaml")


def test_leader_board_list_page():
    listing = parse_list(page("leader_list_1.html"), LEADER, load_site("leader_board"))
    assert [(e.external_id, e.url) for e in listing.entries] == [
        ("5769435", "http://liuyan.example.cn/board/content?tid=5769435"),
        ("5769412", "http://liuyan.example.cn/board/content?tid=5769412"),
    ]
    assert listing.entries[0].fields == {"title": "稠城街道幸福小区电梯停运一周无人维修", "published": "2019/2/28 11:25:05"}
    assert listing.next_url == "http://liuyan.example.cn/board/list?page=2"
    assert parse_list(page("leader_list_2.html"), LEADER, load_site("leader_board")).next_url is None


def test_leader_board_message_with_its_official_reply():
    config = load_site("leader_board")
    record = parse_detail(page("leader_detail_5769435.html"), LEADER, config)
    item = record | {"url": "http://liuyan.example.cn/board/content?tid=5769435", "external_id": "5769435", "fetched_at": NOW.isoformat()}
    lead = item_to_lead(item, config, source="yiwu-leader-board", channel="complaint_platform", timezone="Asia/Shanghai")
    assert lead.title == "稠城街道幸福小区电梯停运一周无人维修" and lead.author == "网友3f8a21"
    assert lead.published_at == at(2019, 2, 28, 11, 25, 5)
    assert lead.body.splitlines()[0] == "尊敬的领导：您好！" and "八十多岁的老人" in lead.body and "\xa0" not in lead.body
    assert lead.extra == {
        "site": "leader_board",
        "reply": "网友您好！\n您反映的问题已收悉。经街道联系市场监管部门和物业公司，电梯已于3月4日更换主板并通过检验，恢复运行。\n感谢您对我们工作的关心和支持！",
        "reply_time": "2019-03-05T16:40:12+08:00",
        "reply_unit": "义乌市稠城街道办事处",
    }
    assert "恢复运行" not in lead.body  # the reply is not the complaint
    pending = parse_detail(page("leader_detail_5769412.html"), LEADER, config)
    assert pending["reply_body"] is None and "没发过工资" in pending["body"]


def test_discuz_list_page_in_gbk_skips_sticky_threads():
    listing = parse_list(page("discuz_list_1.html"), FORUM, load_site("discuz_forum"))
    assert [e.external_id for e in listing.entries] == ["12345", "12339"]  # not the 版规 sticky
    assert listing.entries[0].fields == {"title": "北苑街道某工地夜间施工扰民，凌晨两点还在打桩", "author": "义乌老王", "published": "2019-8-26"}
    assert listing.entries[1].fields["published"] == "2019-8-25"  # the title attribute, not "昨天 21:40"
    assert listing.next_url == "http://bbs.example.cn/forum/forum-2-2.html"


def test_discuz_first_post_only_without_edit_notes_and_quotes():
    config = load_site("discuz_forum")
    first = parse_detail(page("discuz_thread_12345.html"), FORUM, config)
    assert first["title"] == "北苑街道某工地夜间施工扰民，凌晨两点还在打桩" and first["author"] == "义乌老王"
    assert first["published"] == "发表于 2019-08-26 01:50:38"
    assert first["body"].startswith("北苑街道春晗路") and "本帖最后由" not in first["body"]
    assert "顶一下" not in first["body"]  # the second floor is a reply, not the complaint
    recent = parse_detail(page("discuz_thread_12339.html"), FORUM, config)
    assert recent["published"] == "2019-8-25 18:02:11" and "showAdvert" not in recent["body"]
    relative = parse_detail(page("discuz_thread_12320.html"), FORUM, config)
    item = relative | {"external_id": "12320", "fetched_at": NOW.isoformat(), "url": "http://bbs.example.cn/forum/thread-12320-1-1.html"}
    lead = item_to_lead(item, config, source="chouzhou-forum", channel="forum", timezone="Asia/Shanghai")
    assert lead.published_at == at(2019, 8, 25, 14, 5) and "reply" not in lead.extra


def test_external_ids_from_detail_urls():
    forum, board = load_site("discuz_forum"), load_site("leader_board")
    assert external_id_for("https://bbs.example.cn/thread-12345-1-1.html", forum) == "12345"
    assert external_id_for("https://bbs.example.cn/forum.php?mod=viewthread&tid=12345&extra=page%3D1", forum) == "12345"
    assert external_id_for("https://liuyan.example.cn/threads/content?tid=5769435#reply", board) == "5769435"
    assert external_id_for("https://liuyan.example.cn/a/2019/0228/c1.html#top", board) == "https://liuyan.example.cn/a/2019/0228/c1.html"


def test_html_to_text_keeps_paragraphs_and_drops_scripts():
    html = "<div>第一段&nbsp;文字<br/>第二段<script>alert(1)</script><p>第三段 &amp; 结尾</p></div>"
    assert html_to_text(html) == "第一段 文字\n第二段\n第三段 & 结尾"


def test_spider_stops_paging_at_seen_items():
    from scrapy.http import HtmlResponse, Request

    from ingestors.spiders.generic import GenericBoardSpider

    config = load_site("leader_board").model_copy(update={"start_urls": [LEADER]})
    body = (FIXTURES / "leader_list_1.html").read_bytes()
    response = HtmlResponse(LEADER, body=body, encoding="utf-8", request=Request(LEADER))

    fresh = list(GenericBoardSpider(config=config, seen=["5769412"]).parse_list_page(response, page=1))
    assert [r.url for r in fresh] == ["http://liuyan.example.cn/board/content?tid=5769435", "http://liuyan.example.cn/board/list?page=2"]
    assert fresh[0].cb_kwargs["external_id"] == "5769435" and fresh[0].cb_kwargs["list_fields"]["published"] == "2019/2/28 11:25:05"
    assert list(GenericBoardSpider(config=config, seen=["5769412", "5769435"]).parse_list_page(response, page=1)) == []
    last = list(GenericBoardSpider(config=config.model_copy(update={"max_pages": 1})).parse_list_page(response, page=1))
    assert all("content?tid=" in r.url for r in last) and len(last) == 2  # max_pages reached: no next page


def test_options_of_board_and_forum():
    kinds = load_kinds()
    assert kinds["board"].Options is BoardOptions and kinds["forum"].Options is ForumOptions
    assert ForumOptions().site_config().name == "discuz_forum" and BoardOptions().site_config().name == "leader_board"
    with pytest.raises(ValidationError, match="max_pages"):
        BoardOptions(overrides={"max_pages": 0})
    with pytest.raises(ValidationError, match="colour"):
        BoardOptions(overrides={"colour": "red"})
    with pytest.raises(ValidationError, match="neither a bundled site"):
        BoardOptions(site="nope")


def ctx(**state):
    return FetchContext("yiwu-leader-board", "complaint_platform", "Asia/Shanghai", dict(state), now=NOW)


def test_no_start_urls_is_a_source_problem():
    with pytest.raises(SourceUnavailable, match="no start_urls"):
        list(BoardKind(BoardOptions()).fetch(ctx()))


def _fake_crawl(items, summary):
    def crawl(self, folder, context):
        sent_seen = json.loads((folder / "seen.json").read_text())
        (folder / "items.jsonl").write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
        (folder / "summary.json").write_text(json.dumps(summary | {"seen_given": sent_seen}), encoding="utf-8")

    return crawl


def test_a_run_yields_leads_and_problems_and_remembers_ids_once_acknowledged(monkeypatch):
    items = [
        {"external_id": "5769435", "url": "http://liuyan.example.cn/board/content?tid=5769435", "title": "电梯停运",
         "body": "电梯停运一周", "published": "2019/2/28 11:25:05", "fetched_at": NOW.isoformat()},
        {"external_id": "5769499", "url": "http://liuyan.example.cn/board/content?tid=5769499", "title": "路灯",
         "body": "路灯不亮", "published": "很久以前", "fetched_at": NOW.isoformat()},
        {"external_id": "5769404", "url": "http://liuyan.example.cn/board/content?tid=5769404", "title": "噪音",
         "fetched_at": NOW.isoformat(), "fetch_error": "HTTP 404"},
        {"external_id": "5769503", "url": "http://liuyan.example.cn/board/content?tid=5769503", "title": "积水",
         "fetched_at": NOW.isoformat(), "fetch_error": "HTTP 503"},
    ]  # fmt: skip
    summary = {"list_pages": 1, "details_failed": 2, "errors": ["http://x/2: HTTP 500"]}
    monkeypatch.setattr(BoardKind, "_crawl", _fake_crawl(items, summary))
    kind = BoardKind(BoardOptions(start_urls=["http://127.0.0.1:9/board/list?page=1"], allow_private_network=True))
    context = ctx(seen=["old-1", "5769435"])
    out = list(kind.fetch(context))
    assert isinstance(out[0], RawLead) and out[0].external_id == "5769435"
    # An unreadable date keeps the lead, its text kept and published_at unset.
    assert isinstance(out[1], RawLead) and out[1].published_at is None and out[1].extra["published_text"] == "很久以前"
    # A thread that answered 404 or 503 is a failure with its list fields as the dead letter's payload.
    assert isinstance(out[2], Problem) and "thread not read: HTTP 404" in str(out[2])
    assert json.loads(out[2].payload)["title"] == "噪音"
    assert isinstance(out[3], Problem) and "HTTP 503" in str(out[3])
    assert context.warnings == ["2 thread(s) could not be read", "http://x/2: HTTP 500"]
    assert context.state["seen"] == ["old-1", "5769435"]  # not before Kafka has them
    kind.acknowledge(context)
    # The 404 is gone for good; the 503 is tried again next run.
    assert context.state["seen"] == ["old-1", "5769435", "5769499", "5769404"]

    many = ctx(seen=[str(i) for i in range(SEEN_LIMIT)])
    list(kind.fetch(many))
    kind.acknowledge(many)
    assert len(many.state["seen"]) == SEEN_LIMIT and many.state["seen"][-2:] == ["5769499", "5769404"]


def test_keep_list_on_error_makes_an_unread_thread_a_lead_from_its_list_fields(monkeypatch):
    items = [{"external_id": "7", "url": "http://bbs.example.cn/thread-7-1-1.html", "title": "工地夜间施工扰民",
              "author": "网友甲", "published": "昨天 21:26", "fetched_at": NOW.isoformat(), "fetch_error": "HTTP 404"}]  # fmt: skip
    monkeypatch.setattr(BoardKind, "_crawl", _fake_crawl(items, {"list_pages": 1, "details_failed": 1, "errors": []}))
    options = BoardOptions(site="discuz_forum", start_urls=["http://127.0.0.1:9/f.html"], allow_private_network=True,
                           overrides={"keep_list_on_error": True})  # fmt: skip
    [lead] = list(BoardKind(options).fetch(ctx()))
    assert isinstance(lead, RawLead) and lead.title == "工地夜间施工扰民" and lead.body == ""
    assert lead.extra["detail_error"] == "HTTP 404" and lead.published_at == at(2019, 8, 25, 21, 26)


def test_a_run_that_reads_no_list_page_is_unavailable(monkeypatch):
    monkeypatch.setattr(BoardKind, "_crawl", _fake_crawl([], {"list_pages": 0, "errors": ["Forbidden by robots.txt"]}))
    kind = BoardKind(BoardOptions(start_urls=["http://127.0.0.1:9/board/list?page=1"], allow_private_network=True))
    with pytest.raises(SourceUnavailable, match="robots.txt"):
        list(kind.fetch(ctx()))


def test_preview_of_saved_pages(capsys):
    options = json.dumps({"site": "leader_board"})
    assert main(["ingest", "preview", "--kind", "board", "--file", str(FIXTURES / "leader_detail_5769435.html"),
                 "--options", options, "--channel", "complaint_platform"]) == 0  # fmt: skip
    out = capsys.readouterr()
    (lead,) = [json.loads(line) for line in out.out.splitlines()]
    assert lead["title"] == "稠城街道幸福小区电梯停运一周无人维修" and lead["extra"]["reply_unit"] == "义乌市稠城街道办事处"
    assert lead["published_at"] == "2019-02-28T11:25:05+08:00" and "1 lead(s)" in out.err

    # A forum list page: a lead per thread from what the list shows; start_urls resolve the links.
    options = json.dumps({"start_urls": [FORUM]})
    assert main(["ingest", "preview", "--kind", "forum", "--file", str(FIXTURES / "discuz_list_1.html"), "--options", options]) == 0
    leads = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(x["external_id"], x["url"], x["author"]) for x in leads] == [
        ("12345", "http://bbs.example.cn/forum/thread-12345-1-1.html", "义乌老王"),
        ("12339", "http://bbs.example.cn/forum/thread-12339-1-1.html", "佛堂小陈"),
    ]

    assert main(["ingest", "preview", "--kind", "forum", "--file", str(FIXTURES / "robots.txt")]) == 2
    assert "neither a list page nor a detail page" in capsys.readouterr().err
