"""Source kinds parsing saved documents offline, the contract every kind meets, and the SSRF guard."""

import datetime as dt
import json

import pytest
from pydantic import ValidationError

from ingestors.base import (
    SOURCE_KINDS,
    FetchContext,
    KindOptions,
    Problem,
    SourceKind,
    load_kinds,
)
from ingestors.feed import decode_feed
from ingestors.http import BlockedAddress, check_url
from ingestors.sources import load_sources
from leadhub.cli import main
from schemas.errors import ConfigError
from schemas.leads import RawLead
from tests.ingest_fixtures import (
    BROKEN_RSS,
    HOTLINE_COLUMNS,
    hotline_csv,
    hotline_xlsx,
    rss,
)


def ctx(channel="news", **state):
    return FetchContext("test-source", channel, "Asia/Shanghai", dict(state))


def items_of(kind, options, data, **state):
    cls = load_kinds()[kind]
    context = ctx(**state)
    try:
        parsed = cls.Options.model_validate(options)
    except ValidationError:  # options only a live fetch needs (a URL, an inbox) may be missing here
        parsed = cls.Options.model_construct(**options)
    return list(cls(parsed).parse_document(data, context)), context


@pytest.mark.parametrize("encoding, declared", [("utf-8", "utf-8"), ("gb18030", "gb2312"), ("gbk", "utf-8"), ("gbk", None), ("big5", "big5")])
def test_feeds_in_chinese_encodings_even_when_the_declaration_lies(encoding, declared):
    text = rss(declared or "utf-8")
    if declared is None:
        text = text.replace('<?xml version="1.0" encoding="utf-8"?>', '<?xml version="1.0"?>')
    if encoding == "big5":
        text = text.replace("义乌新闻网", "義烏新聞網").replace("稠城街道一小区电梯频繁故障", "稠城街道一小區電梯頻繁故障")
    leads, _ = items_of("feed", {}, text.encode(encoding, errors="replace"))
    assert len(leads) == 3
    if encoding == "big5":  # traditional characters only
        assert leads[0].title == "稠城街道一小區電梯頻繁故障 居民盼维修".replace("维修", "維修") or "電梯" in leads[0].title
    else:
        assert leads[0].title == "稠城街道一小区电梯频繁故障 居民盼维修"
        assert leads[1].title == "江东街道路灯不亮 夜间出行存隐患"


def test_feed_entries_map_to_rawleads():
    leads, _ = items_of("feed", {}, rss().encode())
    first, second, third = leads
    assert first.external_id == "news-1001" and first.url == "https://news.example.cn/a/1001.html"
    assert first.published_at == dt.datetime(2024, 5, 6, 1, 30, tzinfo=dt.UTC)
    assert second.external_id == "https://news.example.cn/a/1002.html"  # no guid: the link
    assert len(third.external_id) == 32 and third.url is None  # neither: a content hash
    assert "<p>" in first.body  # HTML is normalize's job


def test_a_bozo_feed_yields_what_parsed_and_reports_the_problem():
    leads, context = items_of("feed", {}, BROKEN_RSS.encode())
    assert [lead.title for lead in leads] == ["佛堂镇垃圾清运不及时", "苏溪镇工地夜间施工扰民"]
    assert context.warnings


def test_decode_feed_prefers_a_declaration_that_works():
    assert "义乌新闻网·民生" in decode_feed(rss("gb2312").encode("gb18030"))  # "·" is not in GB2312: falls back


def test_hotline_csv_in_gbk_with_bad_rows_as_problems():
    items, _ = items_of("hotline_files", {"columns": HOTLINE_COLUMNS, "encoding": "auto", "date_formats": ["%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S"]}, hotline_csv("gbk"), file_name="export.csv")
    leads = [i for i in items if isinstance(i, RawLead)]
    problems = [i for i in items if isinstance(i, Problem)]
    assert [lead.external_id for lead in leads] == ["WO20240501001", "WO20240501002", "WO20240501005"]
    assert leads[0].contact.phone == "13812345678" and "13812345678" not in leads[0].body
    assert leads[0].published_at == dt.datetime(2024, 5, 1, 9, 12, 33, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert [(p.where["row"], "不是日期" in str(p) or "external_id" in str(p)) for p in problems] == [(4, True), (5, True)]
    assert json.loads(problems[0].payload)["工单编号"] == "WO20240501003"


def test_hotline_xlsx_and_json():
    opts = {"columns": HOTLINE_COLUMNS, "encoding": "auto", "date_formats": ["%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S"]}
    items, _ = items_of("hotline_files", opts, hotline_xlsx(), file_name="export.xlsx")
    assert sum(isinstance(i, RawLead) for i in items) == 3
    records = [{"工单编号": "J1", "诉求内容": "后宅街道某路口红绿灯坏了", "受理时间": "2024-05-02 08:00:00"}]
    items, _ = items_of("hotline_files", opts, json.dumps({"records": records}, ensure_ascii=False).encode("gb18030"), file_name="api.json")
    assert [i.external_id for i in items] == ["J1"]


# The contract every registered kind meets: new kinds get these tests for free.
@pytest.mark.parametrize("kind", sorted(load_kinds()))
def test_kind_contract(kind):
    cls = SOURCE_KINDS[kind]
    assert issubclass(cls, SourceKind) and issubclass(cls.Options, KindOptions) and cls.kind == kind
    with pytest.raises(ValidationError, match="Extra inputs"):
        cls.Options.model_validate({"no_such_option": 1})


def test_kinds_are_unique():
    assert len(set(SOURCE_KINDS)) == len(SOURCE_KINDS) == len({id(c) for c in SOURCE_KINDS.values()})


def test_sources_yaml_is_validated_at_start(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  - {name: yiwu-news, kind: feed, channel: news, options: {url: 'https://x.cn/rss', colour: red}}\n")
    with pytest.raises(ConfigError, match="yiwu-news.*colour"):
        load_sources(path)
    path.write_text("sources:\n  - {name: a, kind: nope, channel: news}\n")
    with pytest.raises(ConfigError, match="unknown kind"):
        load_sources(path)
    path.write_text("sources:\n  - {name: a, kind: feed, channel: news, options: {url: 'https://x.cn'}}\n  - {name: a, kind: feed, channel: news, options: {url: 'https://y.cn'}}\n")
    with pytest.raises(ConfigError, match="used twice"):
        load_sources(path)


def test_ssrf_guard():
    with pytest.raises(BlockedAddress, match="loopback, private"):
        check_url("http://127.0.0.1:8080/feed", allow_private=False)
    with pytest.raises(BlockedAddress, match="loopback, private"):
        check_url("http://10.1.2.3/feed", allow_private=False)
    check_url("http://127.0.0.1:8080/feed", allow_private=True)
    with pytest.raises(BlockedAddress, match="metadata"):
        check_url("http://169.254.169.254/latest/meta-data/", allow_private=True)
    with pytest.raises(BlockedAddress, match="only http"):
        check_url("file:///etc/passwd", allow_private=True)


def test_preview_command(tmp_path, capsys):
    doc = tmp_path / "feed.xml"
    doc.write_bytes(rss("utf-8").encode("gbk"))
    assert main(["ingest", "preview", "--kind", "feed", "--file", str(doc)]) == 0
    out = capsys.readouterr()
    assert len(out.out.splitlines()) == 3 and "3 lead(s)" in out.err
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01 not a feed at all")
    assert main(["ingest", "preview", "--kind", "feed", "--file", str(junk)]) == 2
    err = capsys.readouterr().err
    assert "cannot be parsed as feed" in err and "Traceback" not in err


# Every kind brings a saved document that parses to valid RawLeads: a kind added without one fails here.
def _kind_examples():
    from pathlib import Path

    board = Path(__file__).resolve().parents[1] / "fixtures" / "board"
    return {
        "feed": ({}, rss().encode(), "feed.xml"),
        "hotline_files": ({"columns": HOTLINE_COLUMNS}, hotline_csv("gb18030"), "export.csv"),
        "json_api": ({"url": "https://city.example/requests.json", "preset": "open311"},
                     json.dumps([{"service_request_id": "1", "description": "路灯不亮"}]).encode(), "requests.json"),
        "board": ({"site": "leader_board"}, (board / "leader_detail_5769350.html").read_bytes(), "detail.html"),
        "forum": ({"site": "discuz_forum"}, (board / "discuz_thread_12345.html").read_bytes(), "thread.html"),
    }  # fmt: skip


@pytest.mark.parametrize("kind", sorted(load_kinds()))
def test_every_kind_parses_its_example_to_valid_rawleads(kind):
    examples = _kind_examples()
    assert kind in examples, f"kind {kind} has no example document in this contract suite"
    options, data, name = examples[kind]
    items, _ = items_of(kind, options, data, file_name=name)
    leads = [i for i in items if isinstance(i, RawLead)]
    assert leads, f"{kind}: no lead from its example"
    for lead in leads:
        assert RawLead.model_validate_json(lead.model_dump_json()) == lead
