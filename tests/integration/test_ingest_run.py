"""`leadhub ingest run` end to end: a local feed server and a hotline inbox into the real Kafka."""

import hashlib
import uuid
from http.server import BaseHTTPRequestHandler

import pytest
import yaml
from kafka import KafkaConsumer

from adapters.kafka_clients import kafka_python_options
from leadhub.cli import main
from schemas.leads import RawLead
from schemas.serialization import decode
from tests.ingest_fixtures import HOTLINE_COLUMNS, hotline_csv, rss
from tests.local_http import serve

pytestmark = pytest.mark.integration

FEED = rss("gb2312").encode("gbk")
ETAG = '"' + hashlib.md5(FEED).hexdigest() + '"'


class Handler(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        Handler.hits.append(self.path)
        if self.path == "/feed.xml":
            if self.headers.get("If-None-Match") == ETAG:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")  # no charset: the bytes say gb2312
            self.send_header("ETag", ETAG)
            self.end_headers()
            self.wfile.write(FEED)
        elif self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    with serve(Handler) as url:
        yield url


def test_feed_and_hotline_sources_into_kafka_incrementally(kafka_settings, server, tmp_path, capsys):
    run = uuid.uuid4().hex[:8]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "export-0501.csv").write_bytes(hotline_csv("gbk"))
    (inbox / "broken.csv").write_bytes(b"\xff\xfe\x00\x00garbage")
    sources = {
        "sources": [
            {"name": "yiwu-news", "kind": "feed", "channel": "news",
             "options": {"url": f"{server}/feed.xml", "allow_private_network": True}},
            {"name": "hotline-12345", "kind": "hotline_files", "channel": "hotline",
             "options": {"inbox": str(inbox), "columns": HOTLINE_COLUMNS}},
        ]
    }  # fmt: skip
    (tmp_path / "sources.yaml").write_text(yaml.safe_dump(sources, allow_unicode=True), encoding="utf-8")
    args = ["--set", f"kafka.topic_prefix=g{run}.", "--set", f"ingest.sources={tmp_path / 'sources.yaml'}",
            "--set", f"ingest.state_db={tmp_path / 'state.sqlite'}"]  # fmt: skip
    assert main([*args, "topics", "create"]) == 0
    capsys.readouterr()

    assert main([*args, "ingest", "run", "--all"]) == 0
    out = capsys.readouterr().out
    assert "yiwu-news" in out and "hotline-12345" in out
    consumer = KafkaConsumer(
        f"g{run}.leads.raw", f"g{run}.leads.dlq", **kafka_python_options(kafka_settings),
        group_id=f"r{run}", auto_offset_reset="earliest", consumer_timeout_ms=8000,
    )  # fmt: skip
    raw = [decode(r.value, r.headers, RawLead) for r in consumer if r.topic.endswith("leads.raw")]
    consumer.close()
    assert len(raw) == 3 + 3  # three feed entries, three good work orders (two bad rows dead-lettered)
    feed_titles = {lead.title for lead in raw if lead.source == "yiwu-news"}
    assert "江东街道路灯不亮 夜间出行存隐患" in feed_titles
    order = next(lead for lead in raw if lead.external_id == "WO20240501001")
    assert order.key == "hotline-12345:WO20240501001" and order.contact.name == "王女士"
    assert (inbox / "done" / "export-0501.csv").exists()
    assert (inbox / "failed" / "broken.csv").exists() and (inbox / "failed" / "broken.csv.reason.txt").exists()

    # A second run finds nothing new: the feed answers 304, the inbox is empty.
    assert main([*args, "ingest", "run", "--all"]) == 0
    second = capsys.readouterr().out
    assert second.count(" 0 ") >= 2
    consumer = KafkaConsumer(
        f"g{run}.leads.raw", **kafka_python_options(kafka_settings),
        group_id=f"r{run}", auto_offset_reset="earliest", consumer_timeout_ms=4000,
    )  # fmt: skip
    assert list(consumer) == []
    consumer.close()


def test_a_redirect_to_a_metadata_address_is_refused(server, tmp_path, capsys):
    sources = {"sources": [{"name": "sneaky", "kind": "feed", "channel": "news",
                            "options": {"url": f"{server}/moved", "allow_private_network": True}}]}  # fmt: skip
    (tmp_path / "sources.yaml").write_text(yaml.safe_dump(sources), encoding="utf-8")
    args = ["--set", f"ingest.sources={tmp_path / 'sources.yaml'}", "--set", f"ingest.state_db={tmp_path / 's.sqlite'}"]
    assert main([*args, "ingest", "run", "sneaky"]) == 1
    assert "169.254.169.254" in capsys.readouterr().out


class ApiHandler(BaseHTTPRequestHandler):
    """A hotline system's JSON API: cursor pagination and a since filter."""

    orders = [
        {"no": f"H{i:03d}", "content": f"第{i}号工单：后宅街道某小区水压不足。", "time": f"2024-05-0{1 + i // 3} 0{i % 9}:00:00"}
        for i in range(7)
    ]

    def do_GET(self):  # noqa: N802
        from urllib.parse import parse_qs, urlsplit

        query = parse_qs(urlsplit(self.path).query)
        since = query.get("since", [""])[0]
        pending = [o for o in self.orders if o["time"] > since]
        start = int(query.get("cursor", ["0"])[0])
        page = pending[start : start + 3]
        body = {"items": page, "next": str(start + 3) if start + 3 < len(pending) else None}
        data = __import__("json").dumps(body, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_json_api_with_cursor_pages_and_a_since_cursor(kafka_settings, tmp_path, capsys):
    run = uuid.uuid4().hex[:8]
    with serve(ApiHandler) as base:
        options = {
            "url": f"{base}/orders", "allow_private_network": True,
            "records_path": "items", "fields": {"external_id": "no", "body": "content", "published_at": "time"},
            "pagination": {"type": "cursor", "cursor_param": "cursor", "next_cursor_path": "next"},
            "since": {"param": "since", "field": "time"},
        }  # fmt: skip
        sources = {"sources": [{"name": "hotline-api", "kind": "json_api", "channel": "hotline", "options": options}]}
        (tmp_path / "sources.yaml").write_text(yaml.safe_dump(sources, allow_unicode=True), encoding="utf-8")
        args = ["--set", f"kafka.topic_prefix=j{run}.", "--set", f"ingest.sources={tmp_path / 'sources.yaml'}",
                "--set", f"ingest.state_db={tmp_path / 'state.sqlite'}"]  # fmt: skip
        assert main([*args, "topics", "create"]) == 0
        assert main([*args, "ingest", "run", "hotline-api"]) == 0
        ApiHandler.orders = ApiHandler.orders + [{"no": "H099", "content": "新工单：停水。", "time": "2024-05-09 10:00:00"}]
        assert main([*args, "ingest", "run", "hotline-api"]) == 0
    capsys.readouterr()
    consumer = KafkaConsumer(
        f"j{run}.leads.raw", **kafka_python_options(kafka_settings), group_id=f"r{run}",
        auto_offset_reset="earliest", consumer_timeout_ms=6000,
    )  # fmt: skip
    ids = [decode(r.value, r.headers, RawLead).external_id for r in consumer]
    consumer.close()
    assert sorted(ids) == [f"H{i:03d}" for i in range(7)] + ["H099"]  # every page once, then only the new one
