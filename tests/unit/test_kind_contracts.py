"""The contract every installed source kind meets, run through the real runner against a server on
127.0.0.1 (or a folder): fetch delivers valid leads, state and acknowledge make the next run fetch
nothing again, a run whose delivery fails leaves the state as it was, the address guard holds, and an
HTTP kind fetches with the clients the runner hands it. A new kind gets all of it by bringing a
``contract_sample()`` (ingestors/base.py ContractSample); parametrized over load_kinds()."""

import hashlib
from http.server import BaseHTTPRequestHandler

import httpx
import pytest

from ingestors.base import ContractSample, load_kinds
from ingestors.http import HttpClients
from ingestors.runner import run_source
from ingestors.sources import SourceConfig, build_kind
from ingestors.state import IngestState
from schemas.errors import RetryableError
from schemas.leads import RawLead
from schemas.serialization import decode
from tests.local_http import serve

SOURCE_KINDS = sorted(load_kinds())
SAMPLES = {kind: load_kinds()[kind].contract_sample() for kind in SOURCE_KINDS}
SERVED = [k for k in SOURCE_KINDS if SAMPLES[k].served]
GUARDED = [k for k in SERVED if "allow_private_network" in load_kinds()[k].Options.model_fields]
VIA_CLIENTS = [k for k in SERVED if SAMPLES[k].uses_http_clients]
PUBLIC = "http://93.184.215.14"  # a literal public address: allowed by the guard, answered by a MockTransport


class Outlet:
    def __init__(self, fail_flush=False):
        self.sent, self.fail_flush = [], fail_flush

    def send(self, topic, value, key=None, headers=()):
        self.sent.append((topic, value, list(headers)))

    def flush(self, timeout_s=30.0):
        if self.fail_flush:
            raise RetryableError("2 of 2 Kafka sends failed: KafkaTimeoutError")
        return len(self.sent)

    def leads(self):
        return [decode(value, headers, RawLead) for topic, value, headers in self.sent if topic == "leads.raw"]


def answer(served, path, if_none_match):
    """(status, headers, body) for one request: the sample's document with an ETag, 304, or 404."""
    if path not in served:
        return 404, {}, b""
    body = served[path]
    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
    if if_none_match == etag:
        return 304, {"ETag": etag}, b""
    return 200, {"ETag": etag, "Content-Length": str(len(body))}, body


def handler_for(served, hits):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            status, headers, body = answer(served, self.path, self.headers.get("If-None-Match"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


def fill(value, **where):
    if isinstance(value, str):
        return value.format(**where)
    if isinstance(value, dict):
        return {k: fill(v, **where) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, **where) for v in value]
    return value


class Source:
    """One sample source: its server (if it serves documents), folder, config and state store."""

    def __init__(self, kind: str, tmp_path, base_url: str = "", **option_changes):
        sample: ContractSample = SAMPLES[kind]
        folder = tmp_path / "folder"
        folder.mkdir(exist_ok=True)
        for name, data in sample.files.items():
            (folder / name).write_bytes(data)
        options = fill(sample.options, base_url=base_url, folder=str(folder)) | option_changes
        options = {k: v for k, v in options.items() if v is not None}
        self.sample = sample
        self.config = SourceConfig(name=f"contract-{kind.replace('_', '-')}", kind=kind, channel="news", options=options)
        self.store = IngestState(tmp_path / "state.sqlite")

    def run(self, outlet=None, http=None):
        outlet = outlet or Outlet()
        return run_source(self.config, build_kind(self.config), self.store, outlet, http=http), outlet


@pytest.fixture
def served():
    """Start the kind's server on 127.0.0.1; yields (base_url, hits)."""
    servers = []

    def start(kind):
        hits: list[str] = []
        context = serve(handler_for(SAMPLES[kind].served, hits))
        servers.append(context)
        return context.__enter__(), hits

    yield start
    for context in servers:
        context.__exit__(None, None, None)


def source_for(kind, tmp_path, served, **changes):
    base_url, hits = served(kind) if SAMPLES[kind].served else ("", [])
    return Source(kind, tmp_path, base_url, **changes), hits


@pytest.mark.parametrize("kind", SOURCE_KINDS)
def test_fetch_delivers_valid_leads_and_the_next_run_fetches_nothing_again(kind, tmp_path, served):
    source, hits = source_for(kind, tmp_path, served)
    report, outlet = source.run()
    assert report.ok, report.error
    assert (report.fetched, report.new, report.failed) == (source.sample.leads, source.sample.leads, 0)
    leads = outlet.leads()
    assert len(leads) == source.sample.leads
    assert {(lead.source, lead.channel) for lead in leads} == {(source.config.name, "news")}
    assert SAMPLES[kind].served == {} or hits, "a served sample was not fetched from its server"
    again, outlet = source.run()  # the state the first run left (ETag, cursor, ids seen, files moved), from SQLite
    assert again.ok, again.error
    assert again.fetched == 0 and outlet.leads() == [], "the kind's state and acknowledge did not stop a refetch"


@pytest.mark.parametrize("kind", SOURCE_KINDS)
def test_a_run_whose_delivery_fails_leaves_the_state_so_the_next_run_delivers_it_all(kind, tmp_path, served):
    source, _ = source_for(kind, tmp_path, served)
    with pytest.raises(RetryableError):
        source.run(Outlet(fail_flush=True))
    report, outlet = source.run()
    assert report.ok, report.error
    assert report.new == source.sample.leads and len(outlet.leads()) == source.sample.leads


@pytest.mark.parametrize("kind", GUARDED)
def test_the_loopback_server_is_refused_unless_the_source_allows_private_networks(kind, tmp_path, served):
    source, hits = source_for(kind, tmp_path, served, allow_private_network=None)
    report, outlet = source.run()
    assert not report.ok and "loopback" in report.error
    assert hits == [] and outlet.sent == []


@pytest.mark.parametrize("kind", VIA_CLIENTS)
def test_the_kind_fetches_with_the_http_clients_the_runner_hands_it(kind, tmp_path):
    seen = []

    def handle(request):
        seen.append(request.url)
        path = request.url.raw_path.decode()
        status, headers, body = answer(SAMPLES[kind].served, path, request.headers.get("if-none-match"))
        return httpx.Response(status, headers=headers, content=body)

    source = Source(kind, tmp_path, PUBLIC)
    report, outlet = source.run(http=HttpClients(transport=httpx.MockTransport(handle)))
    assert report.ok, report.error
    assert len(outlet.leads()) == source.sample.leads and seen


@pytest.mark.parametrize("kind", VIA_CLIENTS)
def test_an_injected_transport_does_not_lift_the_address_guard(kind, tmp_path):
    seen = []
    source = Source(kind, tmp_path, "http://127.0.0.1:9", allow_private_network=None)
    transport = httpx.MockTransport(lambda request: seen.append(request) or httpx.Response(200))
    report, _ = source.run(http=HttpClients(transport=transport))
    assert not report.ok and "loopback" in report.error and seen == []
