"""`leadhub demo`: embedded mode on the bundled samples, end to end, in about a minute.

The samples (a news feed, a leaders' message board, a 12345 hotline export) are rendered for today
(leadhub/demo/dates.py) into the working folder and served there by a local HTTP server of the
demo's own; the real source kinds fetch them, the real stages process them into the embedded index,
and the API and web pages serve the result. The folder is left set up: its ``leadhub.yaml`` makes
every leadhub command run there work on the demo's data.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import string
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

from ingestors.runner import RunReport, run_source
from ingestors.sources import build_kind, load_sources
from ingestors.state import IngestState
from leadhub.access import key_digest, new_key
from leadhub.demo.dates import render_samples
from leadhub.demo.officer_report import OFFICER_GROUP, file_officer_report
from leadhub.embedded import EmbeddedPipeline
from leadhub.queries import SearchRequest
from leadhub.settings import DEFAULT_CONFIG_FILE, ApiKeySpec, Settings
from schemas.errors import StartupError
from schemas.private_files import FILE_MODE, private_dir

SAMPLES = Path(__file__).parent / "samples"
ROLES = ("analyst", "officer", "intake", "admin")
SETTINGS_MARK = "# Written by `leadhub demo`"
# What the demo puts in its folder; a folder holding anything else is not recreated (--dir ~ must not empty a home).
DEMO_FILES = {"leadhub.yaml", "sources.yaml", "embedded.sqlite", "embedded.sqlite-wal", "embedded.sqlite-shm",
              "ingest-state.sqlite", "ingest-state.sqlite-wal", "ingest-state.sqlite-shm", "inbox", "samples"}  # fmt: skip


def demo_key_name(role: str) -> str:
    return f"demo-{role}"


def hold_port(host: str, port: int) -> socket.socket:
    """The listening socket the demo will serve on, taken before anything else happens, so that a busy
    port fails at once (and no other program can take it while the pipeline runs)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: a TIME_WAIT leftover is no owner
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise StartupError(
            f"port {port} on {host} is not free ({exc.strerror or exc}); choose another with --port, e.g. --port {port + 1}"
        ) from None
    return sock


@dataclass(frozen=True)
class DemoKeys:
    fresh: dict[str, str]  # role -> the key itself, printed once
    specs: list[ApiKeySpec]  # every key the demo's settings hold (hashes only)
    kept: list[ApiKeySpec]  # the configured keys kept as they were


def demo_keys(configured: list[ApiKeySpec]) -> DemoKeys:
    """A fresh key for every role, named demo-<role>, next to the configured keys, which stay as they
    are; a configured key with a demo-<role> name is an earlier demo's and gives way to the new one."""
    fresh = {role: new_key() for role in ROLES}
    ours = {demo_key_name(role) for role in ROLES}
    kept = [spec for spec in configured if spec.name not in ours]
    made = [ApiKeySpec(name=demo_key_name(role), sha256=key_digest(key), role=role,
                       departments=["*"] if role == "officer" else [],
                       group=OFFICER_GROUP if role == "intake" else None)
            for role, key in fresh.items()]  # fmt: skip
    return DemoKeys(fresh, kept + made, kept)


@contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """A static server of ``folder`` on a free loopback port; yields its base URL."""
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args) -> None:  # quiet: the demo prints its own summary
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@dataclass
class DeadLetterRow:
    id: str
    stage: str
    source: str | None
    where: str
    reason: str


@dataclass
class DemoResult:
    reports: list[RunReport]
    leads: int
    cases: int
    multi_channel_cases: int
    dead_letters: list[DeadLetterRow]
    categories: list[tuple[str, int]]
    biggest: list[dict]
    statuses: list[tuple[str, int]]  # the status funnel, in the status machine's order
    overdue: int
    actions: int  # the handling history's events

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.reports) and self.leads > 0


def demo_settings(base: Settings, workdir: Path, keys: list[ApiKeySpec]) -> Settings:
    """Embedded mode in ``workdir`` with ``keys``; the demo itself runs no scheduled sources."""
    workdir = workdir.resolve()
    return base.model_copy(
        update={
            "mode": "embedded",
            "embedded": base.embedded.model_copy(update={"path": workdir / "embedded.sqlite", "schedule_sources": False}),
            "ingest": base.ingest.model_copy(update={"sources": workdir / "sources.yaml", "state_db": workdir / "ingest-state.sqlite"}),
            "api": base.api.model_copy(update={"keys": keys}),
        }
    )


def clear_workdir(workdir: Path) -> None:
    """Empty the folder (kept itself: it may be where the user stands), refusing one the demo did not make."""
    import shutil

    if not workdir.exists():
        private_dir(workdir)  # it will hold reporters' contacts (the inbox's exports, the store): 0700
        return
    if not workdir.is_dir():
        raise StartupError(f"{workdir} is not a folder; choose another with --dir")
    foreign = sorted(p.name for p in workdir.iterdir() if p.name not in DEMO_FILES)
    if foreign:
        raise StartupError(f"{workdir} holds files the demo did not make ({', '.join(foreign[:3])}); choose another with --dir")
    for path in workdir.iterdir():
        shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()


def prepare(workdir: Path, base_url: str, today: dt.date) -> Path:
    """Samples rendered for ``today`` (served from workdir/samples), the export in the inbox, and the sources file."""
    import shutil

    samples = render_samples(SAMPLES, workdir / "samples", today, base_url)
    inbox = workdir / "inbox"
    private_dir(inbox)  # the exports hold reporters' contacts
    for export in (samples / "hotline").iterdir():
        shutil.copy(export, inbox / export.name)
    template = string.Template((SAMPLES / "sources.yaml.template").read_text(encoding="utf-8"))
    sources = workdir / "sources.yaml"
    sources.write_text(template.substitute(BASE_URL=base_url, INBOX=str(inbox.resolve())), encoding="utf-8")
    return sources


def settle_sources(sources: Path, base_url: str) -> list[str]:
    """After the run: the sources fetched from the demo's own server are disabled (it is gone), so
    `leadhub ingest run --all` and `leadhub api serve` in the folder run only what still exists (the
    hotline inbox). Returns the names disabled."""
    data = yaml.safe_load(sources.read_text(encoding="utf-8"))
    disabled = []
    for source in data["sources"]:
        if base_url in json.dumps(source.get("options", {})):
            source["enabled"] = False
            disabled.append(source["name"])
    header = ("# Written by `leadhub demo`. The sources marked enabled: false were served by the demo itself while it\n"
              "# ran; point them at a real site to use them. Drop 12345 exports (CSV/XLSX/JSON) into the inbox and run\n"
              "# `leadhub ingest run --all`.\n")  # fmt: skip
    sources.write_text(header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return disabled


def settings_document(settings: Settings) -> dict:
    """What the folder's leadhub.yaml holds: the demo's choices (and the routing it ran with), no secrets."""
    document: dict = {
        "mode": "embedded",
        "embedded": {"path": str(settings.embedded.path)},
        "ingest": {"sources": str(settings.ingest.sources), "state_db": str(settings.ingest.state_db)},
        "api": {"keys": [spec.model_dump(mode="json", exclude_defaults=True) for spec in settings.api.keys]},
        # Whoever ran the demo owns its data: their terminal is its administrator (contacts and dead letters'
        # original bytes show). Drop this to see what an analyst's terminal shows.
        "cli": {"role": "admin"},
    }
    routing = settings.routing.model_dump(mode="json", exclude_defaults=True)
    if routing:  # the data was routed with these: commands in the folder must route the same way
        document["routing"] = routing
    return document


def write_settings_file(workdir: Path, settings: Settings, today: dt.date) -> Path:
    path = workdir / DEFAULT_CONFIG_FILE
    header = (f"{SETTINGS_MARK} on {today.isoformat()}: every leadhub command run in this folder works on the\n"
              "# demo's data (settings: defaults < this file < LEADHUB_* environment < --set). API keys are kept as\n"
              "# their SHA-256 only; the keys themselves were printed once by the demo.\n")  # fmt: skip
    text = header + yaml.safe_dump(settings_document(settings), allow_unicode=True, sort_keys=False)
    # The keys' hashes and the data's paths: the owner's alone, like the data files (0600).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), FILE_MODE)
        out.write(text)
    return path


def handling_departments(settings: Settings) -> list[str]:
    """Where the demo's dispatchers may assign cases: what the API allows (taxonomy + extra ones)."""
    from enrichers.taxonomy import DEFAULT_TAXONOMY, load_taxonomy
    from leadhub.case_actions import allowed_departments

    return allowed_departments(load_taxonomy(settings.routing.taxonomy or DEFAULT_TAXONOMY), settings.api.extra_departments)


def process(settings: Settings, pipeline: EmbeddedPipeline, progress=None, now: dt.datetime | None = None) -> DemoResult:
    """Fetch the sources, then record the handling history (dated before ``now``), then summarize."""
    from leadhub.demo.handling import apply_plan
    from leadhub.dlq import EmbeddedDeadLetters, reason, source_of, where
    from leadhub.embedded import EmbeddedPublisher
    from leadhub.queries import StatsRequest
    from leadhub.runtime import ingest_state_path

    store = IngestState(ingest_state_path(settings))
    reports = []
    try:
        for source in load_sources(settings.ingest.sources):
            if progress:
                progress(f"fetching {source.name} ({source.kind}) …")
            outlet = pipeline.outlet()
            reports.append(run_source(source, build_kind(source), store, outlet))
    finally:
        store.close()
    now = now or dt.datetime.now(dt.UTC)
    actions = 0
    if progress:
        progress("the demo's experience officer files a report with a photo …")
    file_officer_report(settings, pipeline, now)
    if all(r.ok for r in reports):  # a failed source left the plan's cases out; the run fails anyway
        actions = apply_plan(pipeline.store, EmbeddedPublisher(pipeline), handling_departments(settings), now, progress=progress)
    stats = pipeline.store.stats(StatsRequest(now=now))
    counts = pipeline.index.counts()
    cases = pipeline.store.search(SearchRequest(kind="cases", size=5, sort="reports", facets=True))
    multi = pipeline.index.db.execute("SELECT count(*) FROM cases WHERE report_count > 1").fetchone()[0]
    letters = [DeadLetterRow(e.id, e.letter.stage, source_of(e.letter), where(e.letter), reason(e.letter))
               for e in EmbeddedDeadLetters(pipeline.index).list(limit=20)]  # fmt: skip
    return DemoResult(
        reports=reports, leads=counts["leads"], cases=counts["cases"], multi_channel_cases=multi,
        dead_letters=letters, categories=[(b.value, b.count) for b in cases.facets.get("category", [])],
        biggest=cases.hits, statuses=[(b.value, b.count) for b in stats.status_funnel],
        overdue=stats.overdue_cases, actions=actions,
    )  # fmt: skip


def build(settings: Settings, workdir: Path, today: dt.date, now: dt.datetime | None = None,
          progress=None) -> tuple[EmbeddedPipeline, DemoResult]:  # fmt: skip
    """The demo's data in ``workdir`` (emptied before): the samples rendered for ``today``, served and
    fetched, processed, handled up to ``now``; the sources then settled. Returns the open pipeline."""
    (workdir / "samples").mkdir()
    with serve_folder(workdir / "samples") as base_url:
        if progress:
            progress(f"samples dated up to {today - dt.timedelta(days=1)} served at {base_url}; working folder {workdir}")
        prepare(workdir, base_url, today)
        pipeline = EmbeddedPipeline(settings)
        try:
            result = process(settings, pipeline, progress=progress, now=now)
        except BaseException:
            pipeline.close()
            raise
        settle_sources(settings.ingest.sources, base_url)
    return pipeline, result
