"""`leadhub demo`: embedded mode on the bundled samples, end to end, in about a minute.

The samples (a news feed, a leaders' message board, a 12345 hotline export) are served by a local
HTTP server of the demo's own; the real source kinds fetch them, the real stages process them into
the embedded index, and the API and web pages serve the result.
"""

from __future__ import annotations

import shutil
import string
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from ingestors.runner import RunReport, run_source
from ingestors.sources import build_kind, load_sources
from ingestors.state import IngestState
from leadhub.access import key_digest, new_key
from leadhub.embedded import EmbeddedPipeline
from leadhub.queries import SearchRequest
from leadhub.settings import ApiKeySpec, Settings

SAMPLES = Path(__file__).parent / "samples"
SUBSTITUTED = (".xml", ".html")


class _SamplesHandler(SimpleHTTPRequestHandler):
    """Serves the samples folder; ${BASE_URL} in feeds and pages becomes the server's address."""

    base_url = ""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = Path(self.translate_path(urlsplit(self.path).path))
        if path.suffix not in SUBSTITUTED or not path.is_file():
            return super().do_GET()
        body = path.read_bytes().replace(b"${BASE_URL}", self.base_url.encode())
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml" if path.suffix == ".xml" else "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet: the demo prints its own summary
        pass


@contextmanager
def serve_samples(folder: Path = SAMPLES) -> Iterator[str]:
    handler = type("Handler", (_SamplesHandler,), {})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(folder)))
    handler.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield handler.base_url
    finally:
        httpd.shutdown()
        httpd.server_close()


@dataclass
class DemoResult:
    reports: list[RunReport]
    leads: int
    cases: int
    multi_channel_cases: int
    dead_letters: int
    categories: list[tuple[str, int]]
    biggest: list[dict]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.reports) and self.leads > 0


def demo_settings(base: Settings, workdir: Path, keys: dict[str, str]) -> Settings:
    """Embedded mode in ``workdir``, with a fresh key per role for this run."""
    specs = [ApiKeySpec(name=f"demo-{role}", sha256=key_digest(key), role=role, departments=["*"] if role == "officer" else [])
             for role, key in keys.items()]  # fmt: skip
    return base.model_copy(
        update={
            "mode": "embedded",
            "embedded": base.embedded.model_copy(update={"path": workdir / "embedded.sqlite", "schedule_sources": False}),
            "ingest": base.ingest.model_copy(update={"sources": workdir / "sources.yaml", "state_db": workdir / "ingest-state.sqlite"}),
            "api": base.api.model_copy(update={"keys": specs}),
        }
    )


def prepare(workdir: Path, base_url: str) -> Path:
    """A fresh working folder: the hotline export in its inbox and the sources file."""
    if workdir.exists():
        shutil.rmtree(workdir)
    inbox = workdir / "inbox"
    inbox.mkdir(parents=True)
    for export in (SAMPLES / "hotline").iterdir():
        shutil.copy(export, inbox / export.name)
    template = string.Template((SAMPLES / "sources.yaml.template").read_text(encoding="utf-8"))
    sources = workdir / "sources.yaml"
    sources.write_text(template.substitute(BASE_URL=base_url, INBOX=str(inbox)), encoding="utf-8")
    return sources


def process(settings: Settings, pipeline: EmbeddedPipeline, progress=None) -> DemoResult:
    store = IngestState(settings.ingest.state_db)
    reports = []
    try:
        for source in load_sources(settings.ingest.sources):
            if progress:
                progress(f"fetching {source.name} ({source.kind}) …")
            outlet = pipeline.outlet()
            reports.append(run_source(source, build_kind(source), store, outlet))
    finally:
        store.close()
    counts = pipeline.index.counts()
    cases = pipeline.store.search(SearchRequest(kind="cases", size=5, sort="reports", facets=True))
    multi = pipeline.index.db.execute("SELECT count(*) FROM cases WHERE report_count > 1").fetchone()[0]
    return DemoResult(
        reports=reports, leads=counts["leads"], cases=counts["cases"], multi_channel_cases=multi,
        dead_letters=counts["dead_letters"], categories=[(b.value, b.count) for b in cases.facets.get("category", [])],
        biggest=cases.hits,
    )  # fmt: skip
