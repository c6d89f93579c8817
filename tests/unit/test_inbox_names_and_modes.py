"""The hotline inbox with odd file names, planted entries where done/ and failed/ go, and the modes
of what it creates: done/ and failed/ hold exports with reporters' contacts (0700), a reason note is
0600. Each odd name's file is read or failed by its content, never by its name."""

import os
import stat
from pathlib import Path

import pytest

from ingestors.base import FetchContext, Problem, SourceUnavailable
from ingestors.hotline_files import HotlineFileOptions, HotlineFilesKind
from tests.bad_input import csv_bytes, inbox_options, inbox_rows

ODD_NAMES = [
    "-rf.csv", "--help.csv", "new\nline.csv", "tab\tname.csv", "工单 导出（十二月）.csv", "e\u0301.csv", "rtl\u202egpj.csv",
    "semi;colon$(id).csv", "back\\slash.csv", " leading space.csv", "trailing space .csv", "x" * 200 + ".csv",
    "bad\udcff\udcfe.csv",  # bytes that are no UTF-8 (os.fsdecode's surrogates)
    "中" * 82 + ".csv",  # 250 bytes of UTF-8: the .reason.txt beside it would pass 255
    "\udcff" * 250 + ".csv",  # the same with a name that is no UTF-8
]  # fmt: skip


def _ctx() -> FetchContext:
    return FetchContext("hotline-test", "hotline", "Asia/Shanghai", {})


def _kind(inbox: Path) -> HotlineFilesKind:
    return HotlineFilesKind(HotlineFileOptions.model_validate(inbox_options(inbox)))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.mark.parametrize("name", ODD_NAMES)
def test_an_odd_name_is_read_by_content_and_moves_to_done(tmp_path, name):
    os.umask(0o022)
    (tmp_path / name).write_bytes(csv_bytes(inbox_rows("odd", 2)))
    kind, ctx = _kind(tmp_path), _ctx()
    leads = [item for item in kind.fetch(ctx) if not isinstance(item, Problem)]
    kind.acknowledge(ctx)
    assert len(leads) == 2 and (tmp_path / "done" / name).is_file() and not (tmp_path / name).exists()
    assert _mode(tmp_path / "done") == 0o700


@pytest.mark.parametrize("name", ODD_NAMES)
def test_an_odd_name_that_cannot_be_read_goes_to_failed_with_its_reason(tmp_path, name):
    os.umask(0o022)
    (tmp_path / name).write_bytes(b"\xff\xfe\x00garbage")
    kind, ctx = _kind(tmp_path), _ctx()
    assert list(kind.fetch(ctx)) == []
    failed = tmp_path / "failed"
    assert (failed / name).is_file() and not (tmp_path / name).exists()
    assert _mode(failed) == 0o700
    notes = [p for p in failed.iterdir() if p.name.endswith(".reason.txt")]
    assert len(notes) == 1 and notes[0].read_text(encoding="utf-8").strip(), ctx.warnings
    assert _mode(notes[0]) == 0o600


@pytest.mark.parametrize("planted", ["file", "link"])
def test_a_plain_file_or_link_named_done_stops_nothing_silently(tmp_path, planted):
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    elsewhere.mkdir()
    if planted == "file":
        (tmp_path / "done").write_text("not a folder")
    else:
        (tmp_path / "done").symlink_to(elsewhere, target_is_directory=True)
    (tmp_path / "a.csv").write_bytes(csv_bytes(inbox_rows("one", 1)))
    kind, ctx = _kind(tmp_path), _ctx()
    assert len([i for i in kind.fetch(ctx) if not isinstance(i, Problem)]) == 1
    with pytest.raises(SourceUnavailable, match="not a plain folder"):
        kind.acknowledge(ctx)
    assert (tmp_path / "a.csv").exists() and list(elsewhere.iterdir()) == []  # kept, nothing written through the link
