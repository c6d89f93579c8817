"""`leadhub demo` and the folder it leaves, in embedded mode (no Kafka, no search engine): a key for
every role next to the configured ones, a busy port refused before anything runs, samples dated from
today, and a leadhub.yaml that makes `search`, `ingest run --all`, `api serve` and `dlq` work there with
no flags. Also `leadhub dlq list/show/replay` on the embedded index."""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
import yaml

import leadhub.demo
from ingestors.base import FetchContext
from ingestors.sources import SourcesFile, build_kind
from leadhub.access import key_digest, new_key
from leadhub.cli import main
from leadhub.demo.dates import CITY, WRITTEN_FOR, TokenError, city_today, render_dates, render_samples
from leadhub.demo.demo import build, clear_workdir, demo_settings, handling_departments
from leadhub.settings import Settings
from schemas.cases import Action, Status
from schemas.errors import StartupError
from schemas.leads import RawLead
from schemas.status_machine import TRANSITIONS

SOURCE = Path(leadhub.demo.__file__).resolve().parent / "samples"
ROLES = ("analyst", "officer", "intake", "admin")
ALICE_KEY = new_key()
STALE_DEMO_KEY = new_key()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One `leadhub demo --no-serve` for the module, started with a settings file that configures a key
    of its own (alice) and one named like a demo key from an earlier run."""
    root = tmp_path_factory.mktemp("demo-run")
    config = root / "team.yaml"
    config.write_text(yaml.safe_dump({"api": {"keys": [
        {"name": "alice", "sha256": key_digest(ALICE_KEY), "role": "officer", "departments": ["市教育局"]},
        {"name": "demo-admin", "sha256": key_digest(STALE_DEMO_KEY), "role": "admin"},
    ]}}), encoding="utf-8")  # fmt: skip
    folder = root / "demo"
    result = subprocess.run([sys.executable, "-m", "leadhub", "--config", str(config), "demo", "--no-serve", "--dir", str(folder)],
                            capture_output=True, text=True, timeout=300, cwd=root)  # fmt: skip
    assert result.returncode == 0, result.stderr
    keys = dict(re.findall(r"^\s+(analyst|officer|intake|admin)\s+(lh_\S+)$", result.stdout, re.M))
    return folder, result.stdout, keys


@pytest.fixture
def in_folder(demo_run, monkeypatch):
    folder, _, _ = demo_run
    monkeypatch.chdir(folder)
    monkeypatch.delenv("LEADHUB_CONFIG", raising=False)
    return folder


# --- keys -------------------------------------------------------------------------------------


def test_a_key_is_printed_for_every_role_and_configured_keys_are_kept(demo_run):
    folder, out, keys = demo_run
    assert set(keys) == set(ROLES) and len(set(keys.values())) == 4
    assert "configured keys, kept as they are: alice (officer)" in out
    written = yaml.safe_load((folder / "leadhub.yaml").read_text(encoding="utf-8"))
    specs = {spec["name"]: spec for spec in written["api"]["keys"]}
    assert set(specs) == {"alice", *(f"demo-{role}" for role in ROLES)}
    assert specs["alice"] == {"name": "alice", "sha256": key_digest(ALICE_KEY), "role": "officer", "departments": ["市教育局"]}
    for role, key in keys.items():
        assert specs[f"demo-{role}"]["sha256"] == key_digest(key) and specs[f"demo-{role}"]["role"] == role
    # The earlier demo's admin key gives way to this run's; no key itself is ever written.
    assert key_digest(STALE_DEMO_KEY) not in {spec["sha256"] for spec in specs.values()}
    text = (folder / "leadhub.yaml").read_text(encoding="utf-8")
    assert not any(key in text for key in [*keys.values(), ALICE_KEY])


# --- the port ---------------------------------------------------------------------------------


def test_a_busy_port_fails_in_one_line_before_any_key_is_printed_or_anything_runs(tmp_path, capsys):
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        code = main(["demo", "--dir", str(tmp_path / "demo"), "--port", str(port)])
    out, err = capsys.readouterr()
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and str(port) in lines[0] and "--port" in lines[0]
    assert "lh_" not in out + err and out == ""
    assert not (tmp_path / "demo").exists()  # the pipeline never started


# --- the folder it leaves ---------------------------------------------------------------------


def test_the_folder_settings_file_is_embedded_mode_on_the_demo_store(demo_run):
    folder, _, _ = demo_run
    written = yaml.safe_load((folder / "leadhub.yaml").read_text(encoding="utf-8"))
    assert written["mode"] == "embedded"
    assert Path(written["embedded"]["path"]) == folder / "embedded.sqlite" and (folder / "embedded.sqlite").is_file()
    assert Path(written["ingest"]["sources"]) == folder / "sources.yaml"
    assert Path(written["ingest"]["state_db"]) == folder / "ingest-state.sqlite"


def test_search_in_the_folder_needs_no_flags(in_folder, capsys):
    assert main(["search", "道路"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"\b[1-9]\d* cases", out)
    assert main(["search", "自来水", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["hits"][0]["report_count"] == 4  # the yellow-water story, told in three channels


def test_ingest_run_all_in_the_folder_runs_what_is_left_and_succeeds(in_folder, capsys):
    assert main(["ingest", "run", "--all"]) == 0
    out = capsys.readouterr().out
    # The feed and the board were served by the demo itself and are gone: disabled, not failing.
    assert "hotline-12345" in out and "yiwu-minsheng-news" not in out and "yiwu-leader-board" not in out
    sources = yaml.safe_load((in_folder / "sources.yaml").read_text(encoding="utf-8"))["sources"]
    assert {s["name"]: s.get("enabled", True) for s in sources} == {
        "yiwu-minsheng-news": False, "yiwu-leader-board": False, "hotline-12345": True}


def test_api_serve_in_the_folder_answers_with_the_printed_keys(demo_run):
    folder, _, keys = demo_run
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "leadhub", "api", "serve", "--port", str(port)], cwd=folder,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                httpx.get(f"{url}/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        answer = httpx.get(f"{url}/api/v1/cases", params={"q": "自来水"}, headers={"Authorization": f"Bearer {keys['analyst']}"})
        assert answer.status_code == 200 and answer.json()["hits"][0]["report_count"] == 4
        assert httpx.get(f"{url}/api/v1/cases", headers={"Authorization": "Bearer lh_not-a-key"}).status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_search_on_a_missing_embedded_store_says_so_and_creates_nothing(tmp_path, capsys):
    missing = tmp_path / "nowhere" / "embedded.sqlite"
    code = main(["--set", "mode=embedded", "--set", f"embedded.path={missing}", "search", "道路"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert f"no store at {missing}" in err[0] and "leadhub demo" in err[0] and "embedded.path" in err[0]
    assert not missing.exists() and not missing.parent.exists()


def test_the_demo_only_empties_a_folder_it_made(tmp_path):
    (tmp_path / "thesis.docx").write_text("years of work")
    with pytest.raises(StartupError, match="--dir"):
        clear_workdir(tmp_path)
    assert (tmp_path / "thesis.docx").exists()


# --- dates relative to the day --------------------------------------------------------------


def _hotline_dates(samples: Path) -> list[dt.datetime]:
    text = (SOURCE / "sources.yaml.template").read_text(encoding="utf-8").replace("${BASE_URL}", "http://x").replace("${INBOX}", "/x")
    (source,) = [s for s in SourcesFile.model_validate(yaml.safe_load(text)).sources if s.kind == "hotline_files"]
    ctx = FetchContext(source.name, source.channel, source.timezone, {"file_name": "12345-export.csv"})
    leads = build_kind(source).parse_document((samples / "hotline" / "12345-export.csv").read_bytes(), ctx)
    return [lead.published_at for lead in leads if isinstance(lead, RawLead)]


@pytest.mark.parametrize("today", [dt.date(2025, 3, 1), dt.date(2024, 2, 29), dt.date(2031, 1, 2)])
def test_the_samples_are_dated_back_from_the_day_they_are_rendered_for(tmp_path, today):
    samples = render_samples(SOURCE, tmp_path / "s", today, "http://127.0.0.1:1")
    moments = [moment.date() for moment in _hotline_dates(samples)]
    dates = set(moments)
    assert max(dates) <= today - dt.timedelta(days=1) and min(dates) >= today - dt.timedelta(days=20)
    assert len(dates) >= 10  # spread over the days, not piled on one day
    # Mostly the last ten days, a few older: a week of a city office, not a month's backlog.
    assert sum(day >= today - dt.timedelta(days=10) for day in moments) >= 0.75 * len(moments)
    rss = (samples / "news" / "rss.xml").read_text(encoding="utf-8")
    yesterday = today - dt.timedelta(days=1)
    assert f"{yesterday.day:02d} {yesterday:%b} {yesterday.year} 10:00:00 +0800" in rss and "{{" not in rss
    assert "http://127.0.0.1:1/news/" in rss and "${BASE_URL}" not in rss


def test_no_sample_holds_a_fixed_date_and_every_token_reads():
    for path in SOURCE.rglob("*"):
        if path.suffix in (".csv", ".xml", ".html"):
            data = path.read_bytes()
            render_dates(data, WRITTEN_FOR)  # raises on a token it cannot read
            # Only ids and links keep the month the samples were written in (YW2026…, …-20261128-…).
            assert not re.search(rb"2026[-/]11[-/]\d\d|Nov 2026", data), path


def test_a_token_it_cannot_read_is_an_error_not_a_date():
    with pytest.raises(TokenError):
        render_dates(b"<p>{{day-3 25:00}}</p>", WRITTEN_FOR)
    assert render_dates(b"{{day-1 08:00:00 slash}}|{{day-40 md}}", dt.date(2025, 3, 1)) == "2025/02/28 08:00:00|1月20日".encode()


def test_the_demo_data_ends_yesterday(in_folder, capsys):
    assert main(["search", "--kind", "leads", "--sort", "newest", "--size", "1", "--json"]) == 0
    newest = dt.datetime.fromisoformat(json.loads(capsys.readouterr().out)["hits"][0]["published_at"])
    assert newest.astimezone(dt.timezone(dt.timedelta(hours=8))).date() == city_today() - dt.timedelta(days=1)


# --- the dead letter, reported and read back ------------------------------------------------


def test_the_demo_shows_the_dead_letter_with_its_reason(demo_run):
    _, out, _ = demo_run
    assert "1 dead letter(s)" in out
    reason = "external_id: String should have at least 1 character"
    source_row = next(line for line in out.splitlines() if line.startswith("hotline-12345"))
    assert source_row.split()[1:4] == ["29", "29", "1"] and "row 18" in source_row and reason in source_row
    letter_row = next(line for line in out.splitlines() if "ingest:hotline-12345" in line)
    assert "12345-export.csv row 18" in letter_row and reason in letter_row


def test_dlq_list_and_show_read_the_embedded_dead_letters(in_folder, capsys):
    assert main(["dlq", "list", "--json"]) == 0
    (letter,) = [e for e in json.loads(capsys.readouterr().out) if e["stage"] == "ingest:hotline-12345"]
    assert letter["source"] == "hotline-12345" and letter["where"] == "12345-export.csv row 18"
    assert letter["reason"] == "external_id: String should have at least 1 character"
    assert main(["dlq", "list"]) == 0
    assert "12345-export.csv row 18" in capsys.readouterr().out

    assert main(["dlq", "show", letter["id"]]) == 0
    shown = capsys.readouterr().out
    assert "stage:      ingest:hotline-12345" in shown and "西楼村路灯不亮" in shown  # the original row, as text
    assert main(["dlq", "show", letter["id"], "--raw"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["工单编号"] == "" and row["标题"] == "西楼村路灯不亮"


def test_dlq_an_unknown_id_is_one_line_and_exit_2(in_folder, capsys):
    for args in (["dlq", "show", "9999"], ["dlq", "show", "0:12"], ["dlq", "replay", "9999"]):
        assert main(args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "no dead letter" in err[0] and "leadhub dlq list" in err[0]


def test_dlq_replay_sends_a_fixed_record_through_the_stages_into_the_store(tmp_path, capsys):
    # A demo of its own: replaying changes the store.
    folder = tmp_path / "demo"
    assert main(["demo", "--no-serve", "--dir", str(folder)]) == 0
    capsys.readouterr()
    settings = ["--config", str(folder / "leadhub.yaml")]
    assert main([*settings, "dlq", "list", "--json"]) == 0
    (letter,) = json.loads(capsys.readouterr().out)
    original = json.loads(subprocess.run([sys.executable, "-m", "leadhub", *settings, "dlq", "show", letter["id"], "--raw"],
                                         capture_output=True, check=True).stdout)  # fmt: skip

    # The original row again: the source's own mapping refuses it as the run did, before anything is sent.
    assert main([*settings, "dlq", "replay", letter["id"]]) == 2
    err = capsys.readouterr().err
    assert "still not a lead for source hotline-12345" in err and "external_id" in err

    # A fix that is neither the source's row nor a RawLead is refused before anything is sent.
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"title": "x"}), encoding="utf-8")
    assert main([*settings, "dlq", "replay", letter["id"], "--file", str(bad)]) == 2
    assert "missing column(s) 工单编号, 诉求内容" in capsys.readouterr().err
    assert main([*settings, "dlq", "list", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1  # no new dead letter from the refusals

    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps({
        "source": "hotline-12345", "channel": "hotline", "external_id": "YW-FIXED-0018", "title": original["标题"],
        "body": original["诉求内容"], "location_text": original["事发地址"],
    }, ensure_ascii=False), encoding="utf-8")  # fmt: skip
    assert main([*settings, "search", "西楼村", "--kind", "leads", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == 0
    assert main([*settings, "dlq", "replay", letter["id"], "--file", str(fixed)]) == 0
    assert "processed into" in capsys.readouterr().out
    assert main([*settings, "search", "西楼村", "--kind", "leads", "--json"]) == 0
    (lead,) = json.loads(capsys.readouterr().out)["hits"]
    assert lead["external_id"] == "YW-FIXED-0018" and lead["place"]["town"] == "义亭镇" and lead["case_id"]

    # What the demo's hint says: the row `dlq show --raw` printed, fixed, goes through the source's mapping.
    row_fix = tmp_path / "row.json"
    row_fix.write_text(json.dumps(original | {"工单编号": "YW-ROW-0018"}, ensure_ascii=False), encoding="utf-8")
    assert main([*settings, "dlq", "replay", letter["id"], "--file", str(row_fix)]) == 0
    assert "processed into" in capsys.readouterr().out
    assert main([*settings, "search", "西楼村", "--kind", "leads", "--json"]) == 0
    by_id = {h["external_id"]: h for h in json.loads(capsys.readouterr().out)["hits"]}
    assert by_id["YW-ROW-0018"]["source"] == "hotline-12345" and by_id["YW-ROW-0018"]["channel"] == "hotline"
    assert by_id["YW-ROW-0018"]["place"]["town"] == "义亭镇"


# --- the handling history: a week of a city office, not a backlog ---------------------------

# What leadhub/demo/handling.yaml does to the 46 cases: the samples' 45 and the demo officer's own report (the rest stay new).
PLANNED_STATUSES = {"new": 17, "accepted": 8, "assigned": 6, "in_progress": 4, "resolved": 7, "closed": 3, "rejected": 1}
DONE = {"resolved", "closed", "rejected"}


def _at(day: dt.date, clock: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(clock), tzinfo=CITY)


@pytest.mark.parametrize("today, clock", [
    (city_today(), "00:30"),  # just after midnight: the newest samples are hours old, cases due today not yet late
    (dt.date(2025, 3, 1), "12:00"),
    (dt.date(2031, 1, 2), "23:50"),  # late at night: every case due today is late
])  # fmt: skip
def test_the_demo_cases_have_several_statuses_legal_histories_and_a_minority_overdue(tmp_path, today, clock):
    now = _at(today, clock)
    workdir = tmp_path / "demo"
    clear_workdir(workdir)
    settings = demo_settings(Settings(), workdir, [])
    pipeline, result = build(settings, workdir, today, now=now)
    try:
        cases = [json.loads(row[0]) for row in pipeline.index.db.execute("SELECT doc_json(doc) FROM cases")]
        allowed = handling_departments(settings)
    finally:
        pipeline.close()

    assert result.ok and len(cases) == 46
    assert dict(result.statuses) == PLANNED_STATUSES and result.actions == 76
    assert dict(Counter(case["status"] for case in cases)) == {k: v for k, v in PLANNED_STATUSES.items() if v}

    # Overdue: open cases past due, a realistic minority; handled cases past due do not count.
    late = [case for case in cases if dt.datetime.fromisoformat(case["due_at"]) < now]
    assert result.overdue == sum(case["status"] not in DONE for case in late)
    assert 3 <= result.overdue <= 15, result.overdue
    assert any(case["status"] in DONE for case in late)  # the exclusion matters

    for case in cases:
        history = case.get("history") or []
        status = "new"
        first_seen = dt.datetime.fromisoformat(case["first_seen"])
        moments = [dt.datetime.fromisoformat(entry["at"]) for entry in history]
        assert moments == sorted(moments) and all(first_seen <= m < now for m in moments), case["case_id"]
        for entry in history:  # each step one the status machine allows from the status before it
            action, before = Action(entry["action"]), Status(entry["from_status"])
            assert before.value == status and before in TRANSITIONS[action], (case["case_id"], entry)
            assert entry["to_status"] == (TRANSITIONS[action][before] or before).value
            status = entry["to_status"]
            if action is Action.assign:
                assert entry["department"] in allowed
            if action in (Action.start, Action.resolve):  # the assigned department's officer
                assert case["department"] in entry["actor"]
        assert status == case["status"]
        if case["status"] in ("resolved", "closed"):
            assert re.search(r"[\u4e00-\u9fff]{10}", case["resolution"])  # a result note, in Chinese
        if case["status"] == "closed":
            assert history[-1]["action"] == "feedback" and history[-1]["note"]
        if case["status"] == "rejected":
            assert history[-1]["note"]


def test_the_demo_summary_prints_the_status_counts(demo_run):
    _, out, _ = demo_run
    line = next(line for line in out.splitlines() if line.startswith("statuses: "))
    counts = dict(re.findall(r"(\w+) (\d+)[,;]", line))
    assert {k: int(v) for k, v in counts.items()} == PLANNED_STATUSES
    overdue = int(re.search(r"; (\d+) overdue", line).group(1))
    assert 3 <= overdue <= 15
