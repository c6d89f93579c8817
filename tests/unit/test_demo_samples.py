"""The bundled samples of `leadhub demo` (leadhub/demo/samples): each parses with the real
parsers, the sources template loads, the board crawls from a plain static server, and the stories
told in several channels group into the cases the README promises. No Kafka, no search engine."""

import itertools
import json
import shutil
import tempfile
from collections import Counter
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from string import Template

import pytest
import yaml

import leadhub.demo
from enrichers.dedup import Deduplicator, MemoryDedupState
from enrichers.normalize import normalize_lead
from ingestors.base import FetchContext, Problem, load_kinds
from ingestors.sources import SourceConfig, SourcesFile, build_kind, load_sources
from ingestors.spiders.parse import decode_html, parse_list
from ingestors.spiders.site_config import load_site
from leadhub.cli import main
from leadhub.demo.dates import WRITTEN_FOR, render_samples
from schemas.leads import RawLead
from tests.local_http import serve

SOURCE = Path(leadhub.demo.__file__).resolve().parent / "samples"
# The files hold day offsets, not dates (leadhub/demo/dates.py): rendered for WRITTEN_FOR they are the
# November 2026 documents these tests describe. ${BASE_URL} is left for the tests to fill in.
_RENDERED = tempfile.TemporaryDirectory(prefix="leadhub-samples-")
SAMPLES = render_samples(SOURCE, Path(_RENDERED.name), WRITTEN_FOR)
RSS = SAMPLES / "news" / "rss.xml"
EXPORT = SAMPLES / "hotline" / "12345-export.csv"
BOARD = SAMPLES / "board"
TEMPLATE = SAMPLES / "sources.yaml.template"
BASE = "http://127.0.0.1:8765"

TIDS = [str(t) for t in range(6203101, 6203117)]
REPLIED = {"6203101", "6203102", "6203103", "6203105", "6203106", "6203108", "6203109", "6203110", "6203113"}
NEWS_IDS = {
    f"yiwu-minsheng-{slug}"
    for slug in (
        "20261102-lizhai-garbage", "20261104-jiangbin-road-lights", "20261106-hongfeng-river",
        "20261110-ganyao-canteen", "20261112-jimingshan-night-works", "20261115-shentan-road",
        "20261117-foreign-traders-permits", "20261119-suxi-wage-arrears", "20261121-hesilu-signal",
        "20261124-tangxi-yellow-water", "20261126-choujiang-gym", "20261128-lizu-parking",
    )
}  # fmt: skip
# The stories told in more than one channel, as (source, external id); every other lead is alone.
CASES = {
    "教辅资料": {("board", "6203101"), ("hotline", "YW202611040009")},
    "倍磊村公交": {("board", "6203103"), ("hotline", "YW202611060025")},
    "鸡鸣山夜间施工": {("news", "yiwu-minsheng-20261112-jimingshan-night-works"), ("board", "6203106"),
                ("hotline", "YW202611100004")},
    "针织厂欠薪": {("news", "yiwu-minsheng-20261119-suxi-wage-arrears"), ("board", "6203110"),
              ("hotline", "YW202611170008"), ("hotline", "YW202611180047")},
    "塘西村自来水": {("news", "yiwu-minsheng-20261124-tangxi-yellow-water"), ("board", "6203113"),
               ("hotline", "YW202611200011"), ("hotline", "YW202611220019")},
    "健身房关门": {("news", "yiwu-minsheng-20261126-choujiang-gym"), ("board", "6203115"),
              ("hotline", "YW202611240006")},
}  # fmt: skip


def sources_text(base: str = BASE, inbox: Path | str = "/tmp/leadhub-demo-inbox") -> str:
    return Template(TEMPLATE.read_text(encoding="utf-8")).substitute(BASE_URL=base, INBOX=str(inbox))


def write_sources(tmp_path: Path, base: str = BASE, inbox: Path | None = None) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(sources_text(base, inbox or tmp_path / "inbox"), encoding="utf-8")
    return path


def template_sources() -> list[SourceConfig]:
    """The template's sources, filled in with a made-up base URL and inbox (nothing is read)."""
    return SourcesFile.model_validate(yaml.safe_load(sources_text())).sources


def options_of(kind: str) -> dict:
    (source,) = [s for s in template_sources() if s.kind == kind]
    return source.options


def preview(capsys, kind: str, file: Path, options: dict, channel: str) -> tuple[int, list[dict], str]:
    code = main(["ingest", "preview", "--kind", kind, "--file", str(file), "--options", json.dumps(options, default=str),
                 "--channel", channel])  # fmt: skip
    out = capsys.readouterr()
    return code, [json.loads(line) for line in out.out.splitlines()], out.err


# --- the sources template ---------------------------------------------------------------------


def test_the_template_substitutes_into_a_sources_file_that_loads(tmp_path):
    assert "${BASE_URL}" in TEMPLATE.read_text(encoding="utf-8") and "${INBOX}" in TEMPLATE.read_text(encoding="utf-8")
    sources = load_sources(write_sources(tmp_path, inbox=tmp_path / "in box"))  # a space in the path is fine
    assert [(s.name, s.kind, s.channel) for s in sources] == [
        ("yiwu-minsheng-news", "feed", "news"),
        ("yiwu-leader-board", "board", "complaint_platform"),
        ("hotline-12345", "hotline_files", "hotline"),
    ]
    feed, board, hotline = (build_kind(s).options for s in sources)
    assert feed.url == f"{BASE}/news/rss.xml" and feed.allow_private_network
    site = board.site_config()
    assert site.name == "leader_board" and site.start_urls == [f"{BASE}/board/list.html"]
    assert (site.download_delay_s, site.max_pages, site.allow_private_network) == (0, 5, True)
    assert hotline.inbox == tmp_path / "in box"
    assert hotline.columns["external_id"] == "工单编号" and hotline.columns["body"] == "诉求内容"
    with pytest.raises(KeyError):  # both placeholders are needed
        Template(TEMPLATE.read_text(encoding="utf-8")).substitute(BASE_URL=BASE)


# --- the news feed ----------------------------------------------------------------------------


def test_the_feed_gives_twelve_news_leads(capsys):
    code, leads, err = preview(capsys, "feed", RSS, {}, "news")
    assert code == 0 and "12 lead(s), 0 problem(s)" in err and "warning" not in err
    assert {lead["external_id"] for lead in leads} == NEWS_IDS and len(leads) == 12
    for lead in leads:
        assert lead["published_at"].startswith("2026-11-"), lead["external_id"]
        assert 80 <= len(lead["body"]) <= 300, (lead["external_id"], len(lead["body"]))
        assert lead["url"] is None  # links are ${BASE_URL}/news/…: absolute only once substituted
    english = [lead for lead in leads if lead["title"].isascii()]
    assert len(english) == 2


def test_the_feed_once_the_base_url_is_filled_in(tmp_path, capsys):
    served = tmp_path / "rss.xml"
    served.write_text(Template(RSS.read_text(encoding="utf-8")).substitute(BASE_URL=BASE), encoding="utf-8")
    code, leads, _ = preview(capsys, "feed", served, {}, "news")
    assert code == 0 and len(leads) == 12
    assert all(lead["url"].startswith(f"{BASE}/news/minsheng/2026") for lead in leads)


# --- the 12345 export -------------------------------------------------------------------------


def test_the_hotline_export_gives_29_leads_and_one_bad_row(capsys):
    assert EXPORT.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, as exports come
    code, leads, err = preview(capsys, "hotline_files", EXPORT, {"columns": options_of("hotline_files")["columns"]}, "hotline")
    assert code == 0 and "29 lead(s), 1 problem(s)" in err
    assert "12345-export.csv row 18: external_id" in err  # the row without 工单编号
    ids = [lead["external_id"] for lead in leads]
    assert len(set(ids)) == 29 and all(i.startswith("YW202611") for i in ids)
    assert all(lead["contact"]["phone"] and lead["contact"]["name"] for lead in leads)
    assert all(lead["published_at"].startswith("2026-11-") and lead["published_at"].endswith("+08:00") for lead in leads)


def test_the_masking_step_finds_the_personal_data_in_the_export():
    kind = load_kinds()["hotline_files"]
    options = kind.Options.model_validate({"inbox": "/nonexistent", "columns": options_of("hotline_files")["columns"]})
    ctx = FetchContext("hotline-12345", "hotline", "Asia/Shanghai", {"file_name": EXPORT.name})
    leads = {x.external_id: normalize_lead(x) for x in kind(options).parse_document(EXPORT.read_bytes(), ctx) if isinstance(x, RawLead)}
    found = {i: lead.pii_types for i, lead in leads.items() if lead.pii_types}
    assert found == {
        "YW202611120079": ["mobile"],  # a call-back number in the text
        "YW202611170008": ["mobile"],
        "YW202611220070": ["bank_card"],  # Luhn-valid, written in groups of four
        "YW202611240051": ["id_number", "mobile"],  # 18 digits, valid check digit, born 1991
    }
    assert "330782199105232618" not in leads["YW202611240051"].text and "[ID]" in leads["YW202611240051"].text
    assert "[BANKCARD]" in leads["YW202611220070"].text and "3745" not in leads["YW202611220070"].text
    assert "15967923318" not in leads["YW202611170008"].text and "[PHONE]" in leads["YW202611170008"].text


# --- the leaders' message board ---------------------------------------------------------------


def test_the_board_list_pages_link_sixteen_threads_a_static_server_can_serve(capsys):
    options = {"start_urls": [f"{BASE}/board/list.html"]}
    code, first, _ = preview(capsys, "board", BOARD / "list.html", options, "complaint_platform")
    assert code == 0 and len(first) == 8
    code, second, _ = preview(capsys, "board", BOARD / "list2.html", {"start_urls": [f"{BASE}/board/list2.html"]}, "complaint_platform")
    assert code == 0 and len(second) == 8
    listed = first + second
    assert sorted(lead["external_id"] for lead in listed) == TIDS  # the id is the tid query parameter
    for lead in listed:
        tid = lead["external_id"]
        assert lead["url"] == f"{BASE}/board/thread-{tid}.html?tid={tid}"
        assert (BOARD / f"thread-{tid}.html").is_file()  # what a server that ignores the query serves
        assert lead["title"] and lead["published_at"].startswith("2026-11-")
    assert [lead["published_at"] for lead in listed] == sorted((lead["published_at"] for lead in listed), reverse=True)

    site = load_site("leader_board")
    page1 = parse_list(decode_html((BOARD / "list.html").read_bytes()), f"{BASE}/board/list.html", site)
    page2 = parse_list(decode_html((BOARD / "list2.html").read_bytes()), f"{BASE}/board/list2.html", site)
    assert page1.next_url == f"{BASE}/board/list2.html" and page2.next_url is None


def test_each_board_thread_page_parses_with_its_id_and_reply(capsys):
    kind = load_kinds()["board"]
    board = kind(kind.Options.model_validate({"site": "leader_board"}))
    for tid in TIDS:
        page = BOARD / f"thread-{tid}.html"
        url = f"{BASE}/board/thread-{tid}.html?tid={tid}"
        ctx = FetchContext("yiwu-leader-board", "complaint_platform", "Asia/Shanghai", {"url": url})
        (lead,) = list(board.parse_document(page.read_bytes(), ctx))
        assert isinstance(lead, RawLead), lead
        assert lead.external_id == tid and lead.url == url
        assert lead.title and lead.author and lead.author.startswith("网友") and 100 <= len(lead.body) <= 300
        assert lead.published_at is not None and lead.published_at.strftime("%Y-%m") == "2026-11"
        if tid in REPLIED:
            assert lead.extra["reply_unit"].startswith("义乌市") and lead.extra["reply"] not in lead.body
            assert lead.extra["reply_time"] > lead.published_at.isoformat()
        else:
            assert "reply" not in lead.extra

    # The CLI preview of a saved thread page: the same lead, but it cannot know the page's URL.
    code, (lead,), err = preview(capsys, "board", BOARD / "thread-6203106.html", {}, "complaint_platform")
    assert code == 0 and lead["title"] == "鸡鸣山社区旁工地天天半夜施工，吵得没法睡觉"
    assert lead["extra"]["reply_unit"] == "义乌市综合行政执法局" and lead["author"] == "网友失眠的江东人"
    assert lead["url"] is None and lead["external_id"] != "6203106"  # no URL, no tid: a hash of the content


# --- the whole demo, minus Kafka: serve the samples, run the three sources --------------------


@pytest.fixture
def served(tmp_path):
    """The samples folder on a plain static server (it ignores query strings), the feed's
    ${BASE_URL} filled in as the demo does; yields (base URL, served folder, request paths)."""
    root = tmp_path / "www"
    shutil.copytree(SAMPLES, root)
    paths: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self):  # noqa: N802
            paths.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    with serve(Handler) as base:
        rss = root / "news" / "rss.xml"
        rss.write_text(Template(rss.read_text(encoding="utf-8")).substitute(BASE_URL=base), encoding="utf-8")
        yield base, root, paths


def test_the_three_sources_run_against_the_served_samples(served, tmp_path):
    base, _, paths = served
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(EXPORT, inbox)
    results = {}
    for source in load_sources(write_sources(tmp_path, base, inbox)):
        ctx = FetchContext(source.name, source.channel, source.timezone, {})
        results[source.kind] = (list(build_kind(source).fetch(ctx)), ctx)

    news, _ = results["feed"]
    assert {x.external_id for x in news} == NEWS_IDS and all(x.url.startswith(f"{base}/news/") for x in news)

    board, ctx = results["board"]
    assert ctx.warnings == [] and all(isinstance(x, RawLead) for x in board)
    assert sorted(x.external_id for x in board) == TIDS
    assert all(x.url == f"{base}/board/thread-{x.external_id}.html?tid={x.external_id}" for x in board)
    assert {x.external_id for x in board if "reply" in x.extra} == REPLIED
    assert all(x.source == "yiwu-leader-board" and x.channel == "complaint_platform" for x in board)
    read = Counter(path.split("?")[0] for path in paths)
    assert read["/board/list.html"] == read["/board/list2.html"] == 1
    assert all(read[f"/board/thread-{tid}.html"] == 1 for tid in TIDS)

    hotline, _ = results["hotline_files"]
    problems = [x for x in hotline if isinstance(x, Problem)]
    assert len(hotline) == 30 and len(problems) == 1 and problems[0].where == {"file": "12345-export.csv", "row": 18}


# --- what the stages make of them -------------------------------------------------------------


def _all_leads() -> list:
    leads = []
    for source in template_sources():
        kind = build_kind(source)
        if source.kind == "board":
            for tid in TIDS:
                url = f"{BASE}/board/thread-{tid}.html?tid={tid}"
                ctx = FetchContext(source.name, source.channel, source.timezone, {"url": url})
                leads += kind.parse_document((BOARD / f"thread-{tid}.html").read_bytes(), ctx)
        else:
            file = RSS if source.kind == "feed" else EXPORT
            ctx = FetchContext(source.name, source.channel, source.timezone, {"file_name": file.name})
            leads += kind.parse_document(file.read_bytes(), ctx)
    return [normalize_lead(x) for x in leads if isinstance(x, RawLead)]


def test_stories_told_in_several_channels_group_into_six_cases_in_any_order():
    leads = _all_leads()
    assert Counter(lead.channel for lead in leads) == {"news": 12, "complaint_platform": 16, "hotline": 29}
    short = {"yiwu-minsheng-news": "news", "yiwu-leader-board": "board", "hotline-12345": "hotline"}
    expected = sorted(sorted(case) for case in CASES.values())
    by_channel = {c: [lead for lead in leads if lead.channel == c] for c in ("news", "complaint_platform", "hotline")}
    orders = [list(itertools.chain.from_iterable(by_channel[c] for c in perm)) for perm in itertools.permutations(by_channel)]
    orders.append(sorted(leads, key=lambda lead: lead.published_at))
    for order in orders:
        dedup = Deduplicator(MemoryDedupState())
        cases: dict[str, list[tuple[str, str]]] = {}
        for lead in order:
            result = dedup.assign(lead.lead_id, lead.title, lead.text, lead.published_at)
            cases.setdefault(result.case_id, []).append((short[lead.source], lead.external_id))
        grouped = sorted(sorted(members) for members in cases.values() if len(members) > 1)
        assert grouped == expected
        assert len(cases) == 57 - sum(len(c) - 1 for c in CASES.values())  # 45 cases in all
