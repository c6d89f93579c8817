"""Board and forum kinds end to end: a real crawl (child process, Scrapy) of a local copy of a
leaders' message board and a Discuz! forum, into the real Kafka, twice (the second finds nothing)."""

import json
import uuid
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from kafka import KafkaConsumer

from adapters.kafka_clients import kafka_python_options
from adapters.producer import CheckedProducer
from ingestors.runner import run_source
from ingestors.sources import SourceConfig, build_kind
from ingestors.state import IngestState
from leadhub.cli import main
from schemas.dead_letters import DeadLetter
from schemas.leads import RawLead
from schemas.serialization import decode
from tests.local_http import serve

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "board"
ROUTES = {
    "/robots.txt": ("robots.txt", "text/plain; charset=utf-8"),
    "/board/list?page=1": ("leader_list_1.html", "text/html; charset=utf-8"),
    "/board/list?page=2": ("leader_list_2.html", "text/html; charset=utf-8"),
    "/board/content?tid=5769435": ("leader_detail_5769435.html", "text/html; charset=utf-8"),
    "/board/content?tid=5769412": ("leader_detail_5769412.html", "text/html; charset=utf-8"),
    "/board/content?tid=5769350": ("leader_detail_5769350.html", "text/html; charset=utf-8"),
    # The forum is GBK and says so only in its <meta>, as Discuz! sites do.
    "/forum/forum-2-1.html": ("discuz_list_1.html", "text/html"),
    "/forum/forum-2-2.html": ("discuz_list_2.html", "text/html"),
    "/forum/thread-12345-1-1.html": ("discuz_thread_12345.html", "text/html"),
    "/forum/thread-12339-1-1.html": ("discuz_thread_12339.html", "text/html"),
    "/forum/thread-12320-1-1.html": ("discuz_thread_12320.html", "text/html"),
    "/forum/thread-12301-1-1.html": ("discuz_thread_12320.html", "text/html"),  # robots.txt forbids it
}


class Handler(BaseHTTPRequestHandler):
    hits: list[tuple[str, str]] = []

    def do_GET(self):  # noqa: N802
        Handler.hits.append((self.path, self.headers.get("User-Agent", "")))
        if self.path not in ROUTES:
            self.send_response(404)
            self.end_headers()
            return
        name, content_type = ROUTES[self.path]
        body = (FIXTURES / name).read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Handler.hits = []
    with serve(Handler) as url:
        yield url


def _sources(server: str) -> list[SourceConfig]:
    fast = {"download_delay_s": 0, "concurrency": 2}  # a local server: no need to be gentle
    return [
        SourceConfig(name="yiwu-leader-board", kind="board", channel="complaint_platform",
                     options={"site": "leader_board", "start_urls": [f"{server}/board/list?page=1"],
                              "allow_private_network": True, "overrides": fast, "timeout_s": 40}),
        SourceConfig(name="chouzhou-forum", kind="forum", channel="forum",
                     options={"start_urls": [f"{server}/forum/forum-2-1.html"],
                              "allow_private_network": True, "overrides": fast, "timeout_s": 40}),
    ]  # fmt: skip


def _run_all(server, store, kafka):
    producer = CheckedProducer(kafka)
    try:
        return [run_source(config, build_kind(config), store, producer) for config in _sources(server)]
    finally:
        producer.close()


def _raw_leads(kafka, group: str, timeout_ms: int, expect: int = 0) -> list[RawLead]:
    """What is on leads.raw for ``group``: stops at ``expect`` leads, or after ``timeout_ms`` of quiet."""
    consumer = KafkaConsumer(
        f"{kafka.topic_prefix}leads.raw", **kafka_python_options(kafka),
        group_id=group, auto_offset_reset="earliest", consumer_timeout_ms=timeout_ms,
    )  # fmt: skip
    leads: list[RawLead] = []
    try:
        for record in consumer:
            leads.append(decode(record.value, record.headers, RawLead))
            if len(leads) == expect:
                break
        consumer.commit()
        return leads
    finally:
        consumer.close()


def test_board_and_forum_are_crawled_into_kafka_incrementally(kafka_settings, server, tmp_path, capsys):
    run = uuid.uuid4().hex[:8]
    kafka = kafka_settings.model_copy(update={"topic_prefix": f"b{run}."})
    assert main(["--set", f"kafka.topic_prefix=b{run}.", "topics", "create"]) == 0
    capsys.readouterr()
    store = IngestState(tmp_path / "state.sqlite")

    board, forum = _run_all(server, store, kafka)
    assert board.ok and forum.ok, (board.error, forum.error)
    assert (board.new, board.failed, forum.new, forum.failed) == (3, 0, 3, 0)
    leads = {lead.external_id: lead for lead in _raw_leads(kafka, f"r{run}", 8000, expect=6)}
    assert set(leads) == {"5769435", "5769412", "5769350", "12345", "12339", "12320"}

    elevator = leads["5769435"]
    assert elevator.key == "yiwu-leader-board:5769435" and elevator.channel == "complaint_platform"
    assert elevator.title == "稠城街道幸福小区电梯停运一周无人维修" and "七楼" in elevator.body
    assert elevator.extra["reply_unit"] == "义乌市稠城街道办事处" and "恢复运行" in elevator.extra["reply"]
    assert "恢复运行" not in elevator.body
    assert elevator.extra["reply_time"] == "2019-03-05T16:40:12+08:00"
    assert elevator.url == f"{server}/board/content?tid=5769435"
    noise = leads["12345"]  # GBK decoded, the edit note and the second floor left out
    assert noise.source == "chouzhou-forum" and noise.author == "义乌老王" and "凌晨两点还在打桩" in noise.body
    assert "本帖最后由" not in noise.body and "顶一下" not in noise.body

    paths = [path for path, _ in Handler.hits]
    assert "/forum/thread-12301-1-1.html" not in paths  # robots.txt obeyed
    assert paths.count("/robots.txt") == 2  # once per crawl (one site each)
    assert all(agent.startswith("leadhub/") for _, agent in Handler.hits)
    assert sorted(store.load("yiwu-leader-board")["seen"]) == ["5769350", "5769412", "5769435"]

    # Second run: the first list page is all seen, so no detail and no older page is read.
    Handler.hits = []
    board, forum = _run_all(server, store, kafka)
    assert board.ok and forum.ok and (board.fetched, forum.fetched) == (0, 0)
    assert sorted(path for path, _ in Handler.hits) == sorted(
        ["/robots.txt", "/board/list?page=1", "/robots.txt", "/forum/forum-2-1.html"]
    )
    assert _raw_leads(kafka, f"r{run}", 3000) == []  # the same group: nothing new arrived
    store.close()


def test_a_board_on_a_private_address_is_refused_without_the_flag(tmp_path):
    config = SourceConfig(name="intranet-board", kind="board", channel="complaint_platform",
                          options={"start_urls": ["http://127.0.0.1:9/board/list?page=1"]})  # fmt: skip

    class NoProducer:
        def send(self, *args, **kwargs):
            raise AssertionError("nothing should be sent")

        def flush(self):
            return 0

    store = IngestState(tmp_path / "state.sqlite")
    report = run_source(config, build_kind(config), store, NoProducer())
    assert not report.ok and "loopback, private" in report.error
    store.close()


# --- real failures and real mislabels, served by a local HTTP server ---------------------------------

ARTICLES = FIXTURES / "articles"


def _listing(tids: list[int]) -> bytes:
    rows = "".join(
        f'<li class="replyItem"><h2 class="tit"><a href="/board/content?tid={tid}">第{tid}号留言：小区路灯不亮</a></h2>'
        f'<p class="state"><span class="time">2024/05/06 09:{tid % 60:02d}:00</span></p></li>'
        for tid in tids
    )
    return f'<html><body><ul class="replyList">{rows}</ul></body></html>'.encode()


class BrokenBoard(BaseHTTPRequestHandler):
    """A board whose list is fine but whose threads answer 404 (but one, a UTF-8 page under a GB2312
    label), and a thread-only news site whose article page says GB2312 while its bytes are UTF-8."""

    hits: list[str] = []
    status = 404

    def do_GET(self):  # noqa: N802
        BrokenBoard.hits.append(self.path)
        found: tuple[bytes, str] | None = None
        if self.path == "/robots.txt":
            found = (b"User-agent: *\nAllow: /\n", "text/plain")
        elif self.path == "/board/list":
            found = (_listing([101, 102, 103, 104]), "text/html; charset=utf-8")
        elif self.path == "/board/content?tid=104":
            page = (ARTICLES / "people_2024.html").read_bytes()  # UTF-8 bytes, <meta charset=GB2312>
            found = (page, "text/html; charset=gb2312")  # and the header repeats the lie
        elif self.path == "/news/2024/0506/c186330-40835123.html":
            found = ((ARTICLES / "people_2024.html").read_bytes(), "text/html")
        if found is None:
            self.send_response(BrokenBoard.status if self.path.startswith("/board/content") else 404)
            self.end_headers()
            return
        body, content_type = found
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def broken():
    BrokenBoard.hits, BrokenBoard.status = [], 404
    with serve(BrokenBoard) as url:
        yield url


def _dead_letters(kafka, group: str, expect: int) -> list[DeadLetter]:
    consumer = KafkaConsumer(
        f"{kafka.topic_prefix}leads.dlq", **kafka_python_options(kafka),
        group_id=group, auto_offset_reset="earliest", consumer_timeout_ms=8000,
    )  # fmt: skip
    letters = []
    try:
        for record in consumer:
            letters.append(decode(record.value, record.headers, DeadLetter))
            if len(letters) == expect:
                break
        return letters
    finally:
        consumer.close()


def _run(config: SourceConfig, store: IngestState, kafka):
    producer = CheckedProducer(kafka)
    try:
        return run_source(config, build_kind(config), store, producer)
    finally:
        producer.close()


def test_threads_answering_404_are_failures_counted_and_shown(kafka_settings, broken, tmp_path, capsys):
    run = uuid.uuid4().hex[:8]
    kafka = kafka_settings.model_copy(update={"topic_prefix": f"b{run}."})
    assert main(["--set", f"kafka.topic_prefix=b{run}.", "topics", "create"]) == 0
    capsys.readouterr()
    store = IngestState(tmp_path / "state.sqlite")
    fast = {"download_delay_s": 0, "concurrency": 2}
    # body: auto: the board's list selectors, the thread's body found by trafilatura.
    fast = fast | {"body": "auto"}
    config = SourceConfig(name="broken-board", kind="board", channel="complaint_platform",
                          options={"site": "leader_board", "start_urls": [f"{broken}/board/list"],
                                   "allow_private_network": True, "overrides": fast, "timeout_s": 40})  # fmt: skip
    report = _run(config, store, kafka)
    assert report.ok and (report.fetched, report.failed) == (1, 3)
    assert report.warnings[0] == "3 thread(s) could not be read"
    assert any(w.endswith("/board/content?tid=101: HTTP 404") for w in report.warnings)
    letters = _dead_letters(kafka, f"d{run}", expect=3)
    assert sorted(json.loads(letter.payload)["external_id"] for letter in letters) == ["101", "102", "103"]
    assert all("thread not read: HTTP 404" in letter.error for letter in letters)
    [lead] = _raw_leads(kafka, f"r{run}", 8000, expect=1)
    # The mislabelled page: UTF-8 read as UTF-8 under a GB2312 <meta> and header, no mojibake.
    assert lead.external_id == "104" and "加装电梯" in lead.body and lead.title == "第104号留言：小区路灯不亮"
    assert sorted(store.load("broken-board")["seen"]) == ["101", "102", "103", "104"]  # 404s are gone for good

    # The same board keeping list-level leads: the three unread threads become leads from the list.
    kept = config.model_copy(update={"name": "broken-board-kept", "options": config.options | {
        "overrides": fast | {"keep_list_on_error": True}}})  # fmt: skip
    report = _run(kept, store, kafka)
    assert report.ok and (report.fetched, report.failed) == (4, 0)
    leads = {lead.external_id: lead for lead in _raw_leads(kafka, f"k{run}", 8000, expect=5) if lead.source == "broken-board-kept"}
    assert leads["101"].extra["detail_error"] == "HTTP 404" and leads["101"].title == "第101号留言：小区路灯不亮"
    assert leads["101"].published_at is not None and "detail_error" not in leads["104"].extra

    # A thread-only site with no selectors: trafilatura reads the article the start URL names.
    article = SourceConfig(name="people-zj", kind="board", channel="news",
                           options={"site": "article", "start_urls": [f"{broken}/news/2024/0506/c186330-40835123.html"],
                                    "allow_private_network": True, "overrides": fast, "timeout_s": 40})  # fmt: skip
    report = _run(article, store, kafka)
    assert report.ok and (report.fetched, report.failed) == (1, 0), report
    store.close()


def test_the_run_table_shows_the_unread_threads(kafka_settings, broken, tmp_path, capsys):
    run = uuid.uuid4().hex[:8]
    BrokenBoard.status = 503  # a passing failure: retried by Scrapy, then shown, and tried again next run
    sources = {"sources": [
        {"name": "broken-board", "kind": "board", "channel": "complaint_platform",
         "options": {"site": "leader_board", "start_urls": [f"{broken}/board/list"], "allow_private_network": True,
                     "overrides": {"download_delay_s": 0, "concurrency": 2}, "timeout_s": 40}}]}  # fmt: skip
    (tmp_path / "sources.yaml").write_text(json.dumps(sources), encoding="utf-8")
    args = ["--set", f"kafka.topic_prefix=t{run}.", "--set", f"ingest.sources={tmp_path / 'sources.yaml'}",
            "--set", f"ingest.state_db={tmp_path / 'state.sqlite'}"]  # fmt: skip
    assert main([*args, "topics", "create"]) == 0
    capsys.readouterr()
    assert main([*args, "ingest", "run", "broken-board"]) == 0
    table = " ".join(capsys.readouterr().out.split())
    assert "broken-board │ 1 │ 1 │ 0 │ 0 │ 3 │" in table  # fetched 1, new 1, failed 3
    assert "3 thread(s) could not be read" in table and "HTTP 503" in table
    store = IngestState(tmp_path / "state.sqlite")
    assert store.load("broken-board")["seen"] == ["104"]  # the 503s are tried again next run
    store.close()
