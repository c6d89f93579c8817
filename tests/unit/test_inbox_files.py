"""The hotline inbox against bad files (tests/bad_input.py's inbox corpus), and dead-letter size limits.

One run of the source over an inbox holding every kind of bad file between good ones: each bad file
goes to failed/ with a reason that names its problem (or the option that would admit it), nothing is
ever read through a link, and every good file's leads come out. No services: the source kind's fetch
is what is tested; the runner's dead letters from its problems are tested with their size limits.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from ingestors.base import FetchContext, Problem
from ingestors.hotline_files import (
    HotlineFileOptions,
    HotlineFilesKind,
    leads_from_file,
)
from ingestors.safe_files import Refused
from leadhub.cli import main
from leadhub.settings import build_settings
from schemas import dead_letters
from schemas.dead_letters import DeadLetter
from schemas.leads import RawLead
from schemas.serialization import decode, encode
from schemas.topics import DLQ_MAX_BYTES
from tests.bad_input import (
    INBOX_COLUMNS,
    MiB,
    bomb_xlsx,
    csv_bytes,
    inbox_corpus,
    inbox_options,
    inbox_rows,
)


def _ctx() -> FetchContext:
    return FetchContext("hotline-test", "hotline", "Asia/Shanghai", {})


def _kind(inbox: Path, **extra) -> HotlineFilesKind:
    return HotlineFilesKind(HotlineFileOptions.model_validate({**inbox_options(inbox), **extra}))


def test_every_bad_inbox_file_goes_to_failed_with_its_reason_and_the_good_ones_are_read(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    corpus = inbox_corpus()
    assert len({f.name for f in corpus}) == len(corpus)
    for f in corpus:
        f.make(inbox / f.name)
    kind, ctx = _kind(inbox), _ctx()
    started = time.monotonic()
    items = list(kind.fetch(ctx))  # must not raise
    kind.acknowledge(ctx)
    elapsed = time.monotonic() - started

    leads = [i for i in items if isinstance(i, RawLead)]
    problems = [i for i in items if isinstance(i, Problem)]
    failures = []
    for f in corpus:
        where = f"{f.name} ({f.variant})"
        inside, done, failed = inbox / f.name, inbox / "done" / f.name, inbox / "failed" / f.name
        if f.outcome == "failed":
            note = inbox / "failed" / f"{f.name}.reason.txt"
            if os.path.lexists(inside) or not os.path.lexists(failed) or not note.is_file():
                failures.append(f"{where}: not in failed/ with a reason")
                continue
            reason = note.read_text("utf-8")
            if f.reason not in reason:
                failures.append(f"{where}: reason {reason.strip()!r} lacks {f.reason!r}")
        elif f.outcome == "done":
            if os.path.lexists(inside) or not done.is_file():
                failures.append(f"{where}: not moved to done/")
            mine = [p for p in problems if p.where["file"] == f.name]
            if len(mine) != f.problems or any(f.problem_reason not in str(p) for p in mine):
                failures.append(f"{where}: problems {[str(p)[:120] for p in mine]}, expected {f.problems} x {f.problem_reason!r}")
        else:
            if not os.path.lexists(inside):
                failures.append(f"{where}: should have been left in the inbox")
    assert not failures, "\n".join(failures)

    expected = {i for f in corpus for i in f.leads}
    assert sorted(lead.external_id for lead in leads) == sorted(expected)
    assert len(problems) == sum(f.problems for f in corpus)
    # Links moved as links; not one byte of what they point to was read.
    assert os.readlink(inbox / "failed" / "h-passwd.csv") == "/etc/passwd"
    seen = "".join(lead.model_dump_json() for lead in leads) + "".join(str(p) + p.payload.decode("utf-8", "replace") for p in problems)
    assert "root:" not in seen and "INSIDE" not in seen
    assert any("folders in the inbox are not read" in w and "n-folder.csv" in w for w in ctx.warnings)
    assert any("match no pattern" in w and "n-notes.docx" in w for w in ctx.warnings)
    assert not any(".n-partial" in w or "~$" in w for w in ctx.warnings)  # never reported, never read
    assert elapsed < 30, f"the run took {elapsed:.1f} s"  # the dimension bomb is read as the cells it holds

    # A second run finds nothing more to do and changes nothing.
    before = {d: sorted(os.listdir(inbox / d)) for d in ("done", "failed")}
    again = list(kind.fetch(ctx))
    kind.acknowledge(ctx)
    assert again == [] and {d: sorted(os.listdir(inbox / d)) for d in ("done", "failed")} == before


def test_a_bomb_xlsx_is_refused_from_its_zip_directory_before_anything_unpacks_it():
    bomb = bomb_xlsx(200 * 1000 * 1000)  # a 200 MB cell, as the one that took 935 MB in preview
    assert len(bomb) < 400_000
    options = HotlineFileOptions.model_validate({"inbox": "/nonexistent", "columns": INBOX_COLUMNS})  # the defaults
    with pytest.raises(Refused, match=r"unzipped is 200,\d{3},\d{3} bytes, over the limit of 134,217,728 \(option max_unzipped_bytes"):
        list(leads_from_file("bomb.xlsx", bomb, options, _ctx()))
    roomy = options.model_copy(update={"max_unzipped_bytes": 300 * MiB})
    with pytest.raises(Refused, match=r"compression ratio .* over the limit of 100 \(option max_compression_ratio"):
        list(leads_from_file("bomb.xlsx", bomb, roomy, _ctx()))


def test_preview_refuses_a_bomb_in_one_line(tmp_path, capsys):
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(bomb_xlsx(200 * 1000 * 1000))
    assert main(["ingest", "preview", "--kind", "hotline_files", "--file", str(path),
                 "--options", json.dumps({"columns": INBOX_COLUMNS})]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "max_unzipped_bytes" in err and "Traceback" not in err


def test_a_cell_over_the_limit_is_a_dead_letter_of_its_row_and_the_rest_of_the_file_is_read():
    rows = inbox_rows("CELL", 3)
    rows[1][3] = "长" * 5000
    options = HotlineFileOptions.model_validate({"inbox": "/nonexistent", "columns": INBOX_COLUMNS, "max_cell_chars": 4000})
    items = list(leads_from_file("x.csv", csv_bytes(rows), options, _ctx()))
    assert [i.external_id for i in items if isinstance(i, RawLead)] == ["CELL-000", "CELL-002"]
    (problem,) = [i for i in items if isinstance(i, Problem)]
    assert problem.where["row"] == 3 and "5,000 characters, over the limit of 4,000 (option max_cell_chars)" in str(problem)


def test_a_file_modified_within_settle_s_waits_for_the_next_run(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "new.csv").write_bytes(csv_bytes(inbox_rows("NEW", 2)))
    kind, ctx = _kind(inbox, settle_s=60), _ctx()
    assert list(kind.fetch(ctx)) == []
    assert (inbox / "new.csv").exists() and any("new.csv" in w and "settle_s" in w for w in ctx.warnings)
    old = time.time() - 120
    os.utime(inbox / "new.csv", (old, old))
    assert [lead.external_id for lead in kind.fetch(_ctx())] == ["NEW-000", "NEW-001"]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to read as another user")  # CI and this VM run as root
def test_an_unreadable_file_goes_to_failed_saying_so():
    # Root reads any file, so the source runs as 'nobody' in a child process, as leadhub would run,
    # over an inbox 'nobody' can reach (pytest's tmp_path sits in a folder only root may enter).
    top = Path(tempfile.mkdtemp(prefix="leadhub-inbox-"))
    try:
        _unreadable_file_case(top)
    finally:
        shutil.rmtree(top)


def _unreadable_file_case(top: Path) -> None:
    inbox = top / "inbox"
    inbox.mkdir()
    (inbox / "a-secret.csv").write_bytes(csv_bytes(inbox_rows("SECRET", 1)))
    (inbox / "a-secret.csv").chmod(0o000)
    (inbox / "b-good.csv").write_bytes(csv_bytes(inbox_rows("OPEN", 1)))
    for path in (top, inbox):
        path.chmod(0o777)
    script = (
        "import json, os, sys\n"
        "from ingestors.base import FetchContext\n"
        "from ingestors.hotline_files import HotlineFileOptions, HotlineFilesKind, leads_from_file\n"
        "from tests.bad_input import csv_bytes, inbox_rows\n"
        "options = HotlineFileOptions.model_validate(json.loads(sys.argv[1]))\n"
        "ctx = FetchContext('t', 'hotline', 'Asia/Shanghai', {})\n"
        "list(leads_from_file('warm.csv', csv_bytes(inbox_rows('W', 1)), options, ctx))  # loads what it imports lazily\n"
        "os.setgid(65534); os.setuid(65534)  # then: this Python's own files need not be nobody's\n"
        "print(json.dumps([getattr(i, 'external_id', str(i)) for i in HotlineFilesKind(options).fetch(ctx)]))\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", script, json.dumps(inbox_options(inbox))], cwd=root,
                          capture_output=True, text=True, timeout=60, check=False, env={**os.environ, "PYTHONPATH": str(root)})  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == ["OPEN-000"]
    assert "permission denied" in (inbox / "failed" / "a-secret.csv.reason.txt").read_text()


def test_a_dead_letter_keeps_a_prefix_and_the_hash_of_a_record_over_the_limit():
    big = b"x" * (9 * MiB)
    letter = DeadLetter.of("ingest:hotline", ValueError("row 2: too long"), big)
    assert letter.payload == big[: 8 * MiB] and letter.truncated
    assert letter.payload_length == 9 * MiB and len(letter.payload_sha256) == 64
    assert "dead_letters.max_payload_bytes" in letter.error
    value, headers = encode(letter)
    assert len(value) < DLQ_MAX_BYTES  # it fits leads.dlq
    again = decode(value, headers, DeadLetter)
    assert again.payload_length == 9 * MiB and again.payload_sha256 == letter.payload_sha256
    small = DeadLetter.of("normalize", ValueError("bad"), b"abc")
    assert small.payload == b"abc" and not small.truncated and small.payload_sha256 is None
    huge_reason = DeadLetter.of("normalize", ValueError("y" * 50_000), b"abc")
    assert len(huge_reason.error) < 11_000 and "50,000 characters in all" in huge_reason.error


def test_the_dead_letter_limit_is_a_setting():
    try:
        build_settings(overrides={"dead_letters": {"max_payload_bytes": "4096"}})
        letter = DeadLetter.of("sink", ValueError("x"), b"y" * 5000)
        assert len(letter.payload) == 4096 and letter.payload_length == 5000
    finally:
        dead_letters.set_payload_limit(dead_letters.PAYLOAD_KEEP_MAX)
    from schemas.errors import ConfigError

    with pytest.raises(ConfigError, match="max_payload_bytes"):
        build_settings(overrides={"dead_letters": {"max_payload_bytes": str(64 * MiB)}})
