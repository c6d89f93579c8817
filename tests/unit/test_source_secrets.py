"""Secrets of sources: json_api's headers are sent (to the API's host only), come from ${ENV:NAME} in
sources.yaml, and never show in a repr, a dump, an error, the ingest state or the CLI's output."""

import json

import httpx
import pytest

from ingestors.base import FetchContext
from ingestors.http import HttpClients
from ingestors.json_api import JsonApiKind
from ingestors.runner import run_source
from ingestors.sources import SourceConfig, build_kind, expand_env, load_sources
from ingestors.state import IngestState
from leadhub.cli import main
from schemas.errors import ConfigError

TOKEN = "tok-Zq81xWv3"
API = "http://93.184.215.14/api/orders"  # a literal public address: no resolver, no connection (MockTransport)
RECORDS = {"items": [{"no": "WO-1", "content": "稠城街道某小区电梯停运三天"}]}


def config(headers, url=API):
    return SourceConfig.model_validate({
        "name": "dept-api", "kind": "json_api", "channel": "department",
        "options": {"url": url, "records_path": "items", "fields": {"external_id": "no", "body": "content"},
                    "headers": headers},
    })  # fmt: skip


class Outlet:
    def __init__(self):
        self.sent = []

    def send(self, topic, value, key=None, headers=()):
        self.sent.append((topic, value))

    def flush(self, timeout_s=30.0):
        return 0


def test_headers_are_sent_with_values_from_the_environment():
    seen = []

    def handle(request):
        seen.append(request)
        return httpx.Response(200, json=RECORDS)

    kind = build_kind(config({"Authorization": "Bearer ${ENV:DEPT_TOKEN}", "X-Tenant": "yiwu"}), {"DEPT_TOKEN": TOKEN})
    assert isinstance(kind, JsonApiKind)
    http = HttpClients(transport=httpx.MockTransport(handle))
    (lead,) = kind.fetch(FetchContext("dept-api", "department", "Asia/Shanghai", {}, http=http))
    assert lead.external_id == "WO-1"
    assert seen[0].headers["authorization"] == f"Bearer {TOKEN}" and seen[0].headers["x-tenant"] == "yiwu"


def test_header_values_never_show_in_repr_or_dumps():
    kind = build_kind(config({"Authorization": "Bearer ${ENV:DEPT_TOKEN}"}), {"DEPT_TOKEN": TOKEN})
    for shown in (repr(kind.options), str(kind.options), kind.options.model_dump_json(), json.dumps(kind.options.model_dump(mode="json"))):
        assert TOKEN not in shown
    assert "Authorization" in kind.options.model_dump_json()  # the name stays readable


def test_a_missing_variable_is_a_start_up_error_naming_it(tmp_path):
    with pytest.raises(ConfigError, match=r"dept-api options\.headers\.Authorization: environment variable DEPT_TOKEN is not set"):
        build_kind(config({"Authorization": "Bearer ${ENV:DEPT_TOKEN}"}), {})
    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n  - {name: dept-api, kind: json_api, channel: department, options: "
        "{url: 'https://x.example/api', fields: {external_id: id}, headers: {X-Api-Key: '${ENV:LEADHUB_TEST_UNSET_KEY}'}}}\n"
    )
    with pytest.raises(ConfigError, match="LEADHUB_TEST_UNSET_KEY is not set"):
        load_sources(path)  # at start-up, not at the first run


def test_expand_env_everywhere_in_option_values():
    env = {"A": "1", "B": "two"}
    assert expand_env({"u": "https://h/x?k=${ENV:A}&b=${ENV:B}", "l": ["${ENV:B}", 3]}, env, "w") == {"u": "https://h/x?k=1&b=two", "l": ["two", 3]}
    assert expand_env("no $ENV:A or {ENV:A} here", env, "w") == "no $ENV:A or {ENV:A} here"


def test_a_token_in_the_url_is_kept_out_of_errors_and_the_ingest_state(tmp_path):
    kind = build_kind(config({}, url=API + "?access_token=${ENV:DEPT_TOKEN}&page_size=50"), {"DEPT_TOKEN": TOKEN})
    http = HttpClients(transport=httpx.MockTransport(lambda request: httpx.Response(503)))
    store = IngestState(tmp_path / "state.sqlite")
    report = run_source(config({}), kind, store, Outlet(), http=http)
    assert not report.ok and "HTTP 503" in report.error and TOKEN not in report.error
    assert "access_token=**********" in report.error and "page_size=50" in report.error
    last_error = store.load("dept-api")["last_error"]
    assert "HTTP 503" in last_error and TOKEN not in last_error
    row = store._db.execute("SELECT state FROM source_state").fetchone()[0]
    assert TOKEN not in row
    store.close()


def test_the_ingest_state_redacts_an_error_whoever_wrote_it(tmp_path):
    store = IngestState(tmp_path / "state.sqlite")
    store.save("s", {"last_error": f"2024-05-01 https://u:{TOKEN}@h.example/x?sig={TOKEN}: HTTP 500", "etag": "W/1"})
    assert TOKEN not in json.dumps(store.load("s")) and store.load("s")["etag"] == "W/1"
    store.close()


def test_cli_run_prints_no_header_value_and_no_url_token(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DEPT_TOKEN", TOKEN)
    (tmp_path / "sources.yaml").write_text(
        "sources:\n  - {name: dept-api, kind: json_api, channel: department, options: "
        "{url: 'http://[::ffff:a9fe:a9fe]/api?token=${ENV:DEPT_TOKEN}', fields: {external_id: id}, "
        "allow_private_network: true, headers: {Authorization: 'Bearer ${ENV:DEPT_TOKEN}'}}}\n"
    )
    monkeypatch.chdir(tmp_path)
    code = main(["--set", "mode=embedded", "--set", f"embedded.path={tmp_path / 'e.sqlite'}",
                 "--set", f"ingest.state_db={tmp_path / 'state.sqlite'}", "ingest", "run", "dept-api"])  # fmt: skip
    out = capsys.readouterr()
    assert code == 1 and "metadata" in out.out
    assert TOKEN not in out.out + out.err
