import json

from leadhub.cli import main


def test_help_lists_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "services" in out and "config" in out


def test_config_show_redacts_secrets(clean_env, monkeypatch, capsys):
    monkeypatch.setenv("LEADHUB_SEARCH__API_KEY", "top-secret-key")
    assert main(["--set", "kafka.client_id=cli-test", "config", "show", "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert data["kafka"]["client_id"] == "cli-test"
    assert data["search"]["api_key"] == "**********"
    assert "top-secret-key" not in out


def test_bad_settings_give_one_clear_error_not_a_traceback(clean_env, capsys):
    code = main(["--set", "search.backend=solr", "config", "show"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: invalid settings")
    assert "search.backend" in err
    assert "what to do:" in err
    assert "Traceback" not in err


def test_unknown_command_is_a_usage_error(capsys):
    assert main(["no-such-command"]) == 2
    assert "No such command" in capsys.readouterr().err


# --- files a command reads: one line naming the file, exit 2 ------------------------------------

import os  # noqa: E402
import socket  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

# Kernel-refused even for root (its mode is 0200 and procfs checks the mode itself for root too).
ROOT_UNREADABLE = Path("/proc/sys/vm/compact_memory")


def _missing(tmp: Path) -> Path:
    return tmp / "no-such-file"


def _directory(tmp: Path) -> Path:
    (tmp / "a-folder").mkdir()
    return tmp / "a-folder"


def _unreadable(tmp: Path) -> Path:
    path = tmp / "locked.txt"
    path.write_text("{}\n", encoding="utf-8")
    path.chmod(0)
    try:
        path.open("rb").close()
    except PermissionError:
        return path  # an ordinary user: mode 000 is enough
    # root reads a mode-000 file anyway; a file the kernel refuses to root is the same case for the CLI
    try:
        ROOT_UNREADABLE.open("rb").close()
    except PermissionError:
        return ROOT_UNREADABLE
    except OSError:
        pass
    pytest.skip("running as root and no file here refuses root: cannot make an unreadable file")


def _socket(tmp: Path) -> Path:
    # A socket's path must be short (108 bytes), so not under pytest's long tmp_path.
    folder = Path(tempfile.mkdtemp(prefix="lh-"))
    path = folder / "sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.close()  # the file stays
    return path


CASES = {
    "missing": (_missing, "does not exist"),
    "directory": (_directory, "is a directory, not a file"),
    "unreadable": (_unreadable, "cannot be read: permission denied"),
    "not a file": (_socket, "is not a regular file"),
}


def _good_files(tmp: Path) -> dict[str, Path]:
    good = tmp / "good"
    good.mkdir()
    csv_file = good / "train.csv"
    csv_file.write_text("text,label\n电梯坏了,城建\n拖欠工资,劳动\n", encoding="utf-8")
    jsonl = good / "in.jsonl"
    jsonl.write_text('{"id": "1", "text": "电梯坏了"}\n', encoding="utf-8")
    return {"csv": csv_file, "jsonl": jsonl, "out": good / "model.pkl"}


# command -> (how the file is named in the message, argv for path p and good files g, environment)
FILE_COMMANDS = {
    "categorize FILE": ("input", lambda p, g: ["categorize", str(p)], {}),
    "dedup FILE": ("input", lambda p, g: ["dedup", str(p)], {}),
    "categorize --model": ("--model", lambda p, g: ["categorize", "--model", str(p), str(g["jsonl"])], {}),
    "model train --data": ("--data", lambda p, g: ["model", "train", "--data", str(p), "--text-col", "text",
                                                   "--label-col", "label", "--out", str(g["out"])], {}),
    "model train --extra-data": ("--extra-data", lambda p, g: ["model", "train", "--data", str(g["csv"]), "--extra-data", str(p),
                                                               "--text-col", "text", "--label-col", "label", "--out", str(g["out"])], {}),
    "ingest preview --file": ("--file", lambda p, g: ["ingest", "preview", "--kind", "feed", "--file", str(p)], {}),
    "--config": ("--config", lambda p, g: ["--config", str(p), "config", "show"], {}),
    "$LEADHUB_CONFIG": ("$LEADHUB_CONFIG", lambda p, g: ["config", "show"], {"LEADHUB_CONFIG": "{p}"}),
    "ingest run (sources file)": ("sources file", lambda p, g: ["--set", f"ingest.sources={p}", "ingest", "run", "--all"], {}),
    "ingest schedule (sources file)": ("sources file", lambda p, g: ["--set", f"ingest.sources={p}", "ingest", "schedule"], {}),
    "api key create (config)": ("--config", lambda p, g: ["--config", str(p), "api", "key", "create", "--name", "a", "--role", "admin"], {}),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("command", FILE_COMMANDS)
def test_a_bad_file_is_one_line_naming_it(command, case, clean_env, monkeypatch, capsys):
    label, argv, env = FILE_COMMANDS[command]
    make, says = CASES[case]
    path = make(clean_env)
    for key, value in env.items():
        monkeypatch.setenv(key, value.format(p=path))
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(""))
    code = main(argv(path, _good_files(clean_env)))
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert captured.err.count("\n") == 1, captured.err  # one line
    assert captured.err.startswith(f"error: {label} {path} ") and says in captured.err, captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_categorize_reads_a_named_pipe(tmp_path, clean_env, capsys):
    import threading

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    writer = threading.Thread(target=lambda: pipe.write_text('{"id": "1", "text": "小区电梯停运一周"}\n', encoding="utf-8"))
    writer.start()
    try:
        assert main(["categorize", str(pipe)]) == 0
    finally:
        writer.join(5)
    assert json.loads(capsys.readouterr().out)["category"] == "城乡建设"


def test_an_error_with_a_hint_is_still_one_line(clean_env, capsys):
    assert main(["--set", "search.backend=solr", "config", "show"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "(what to do: " in err


# --- ingest preview ------------------------------------------------------------------------------

RSS = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>
<item><title>路灯坏了</title><link>https://news.example/1</link><guid>n1</guid>
<description>江东街道某路段路灯坏了一个月，晚上走路很不安全。</description><pubDate>Sat, 28 Nov 2026 10:00:00 +0800</pubDate></item>
</channel></rss>"""


def _preview(capsys, *args: str) -> tuple[int, list[dict], str]:
    code = main(["ingest", "preview", *args])
    out = capsys.readouterr()
    return code, [json.loads(line) for line in out.out.splitlines()], out.err


def test_preview_help_lists_the_installed_kinds(capsys):
    from ingestors.base import load_kinds

    assert main(["ingest", "preview", "--help"]) == 0
    out = capsys.readouterr().out
    assert f"The source kind: {', '.join(sorted(load_kinds()))}." in " ".join(out.replace("│", " ").split())


def test_preview_unknown_kind_lists_the_kinds(tmp_path, capsys):
    doc = tmp_path / "x.xml"
    doc.write_text(RSS, encoding="utf-8")
    code, _, err = _preview(capsys, "--kind", "rss", "--file", str(doc))
    assert code == 2 and err.count("\n") == 1
    assert err == "error: unknown kind 'rss'; kinds: board, feed, forum, hotline_files, json_api\n"


def test_preview_checks_options_with_the_kinds_own_model(tmp_path, capsys):
    doc = tmp_path / "export.csv"
    doc.write_text("工单编号,诉求内容\nA1,路灯坏了\n", encoding="utf-8")
    code, _, err = _preview(capsys, "--kind", "hotline_files", "--file", str(doc))  # a traceback before
    assert (code, err) == (2, "error: --options for hotline_files: columns: required\n")
    code, _, err = _preview(capsys, "--kind", "hotline_files", "--file", str(doc), "--options", '{"columns": {"body": "诉求内容"}}')
    assert (code, err) == (2, "error: --options for hotline_files: columns must map external_id\n")
    code, _, err = _preview(capsys, "--kind", "feed", "--file", str(doc), "--options", '{"max_bytes": 0}')
    assert code == 2 and err.startswith("error: --options for feed: max_bytes: ") and err.count("\n") == 1
    code, _, err = _preview(capsys, "--kind", "feed", "--file", str(doc), "--options", "{bad")
    assert code == 2 and err.startswith("error: --options is not JSON") and err.count("\n") == 1


def test_preview_channel_defaults_by_kind(tmp_path, capsys):
    feed = tmp_path / "feed.xml"
    feed.write_text(RSS, encoding="utf-8")
    export = tmp_path / "export.csv"
    export.write_text("工单编号,诉求内容\nA1,路灯坏了一个月\n", encoding="utf-8")
    api = tmp_path / "page.json"
    api.write_text('[{"id": "r1", "text": "路灯坏了一个月"}]', encoding="utf-8")
    runs = {
        "news": ["--kind", "feed", "--file", str(feed)],
        "hotline": ["--kind", "hotline_files", "--file", str(export), "--options",
                    json.dumps({"columns": {"external_id": "工单编号", "body": "诉求内容"}}, ensure_ascii=False)],
        "department": ["--kind", "json_api", "--file", str(api), "--options", '{"fields": {"external_id": "id", "body": "text"}}'],
    }  # fmt: skip
    for channel, args in runs.items():
        code, leads, err = _preview(capsys, *args)
        assert code == 0, err
        assert [lead["channel"] for lead in leads] == [channel]
    code, leads, _ = _preview(capsys, *runs["news"], "--channel", "forum")
    assert [lead["channel"] for lead in leads] == ["forum"]
    code, _, err = _preview(capsys, *runs["news"], "--channel", "tv")
    assert code == 2 and err.startswith("error: --channel 'tv' is not a channel; channels: hotline,")


def test_preview_unknown_timezone_is_one_line(tmp_path, capsys):
    feed = tmp_path / "feed.xml"
    feed.write_text(RSS, encoding="utf-8")
    for zone in ("Mars/Olympus", ""):
        code, out, err = _preview(capsys, "--kind", "feed", "--file", str(feed), "--timezone", zone)
        assert (code, out) == (2, [])
        assert err == f"error: --timezone {zone!r} is not a known IANA time zone (e.g. Asia/Shanghai, UTC)\n"


# --- leadhub search in a terminal -----------------------------------------------------------------

CASE_ID = "3f2a9c0d1e4b5a6978c0d1e2f3a4b5c6"
LEAD_ID = "9b8a7c6d5e4f30211203f4e5d6c7b8a9"
LONG_TITLE = "小区电梯停运一周物业一直说在等配件，楼里很多老人上下楼非常困难，希望有关部门尽快督促处理" * 2


def _page(kind: str):
    from leadhub.queries import SearchPage

    if kind == "cases":
        hits = [{"case_id": CASE_ID, "status": "in_progress", "report_count": 128, "category": {"level1": "劳动和社会保障"},
                 "department": "义乌市人力资源和社会保障局", "place": {"town": "稠城街道"},
                 "first_seen": "2026-11-28T10:05:00+08:00", "title": LONG_TITLE}] * 3  # fmt: skip
    else:
        hits = [{"lead_id": LEAD_ID, "channel": "complaint_platform", "source": "yiwu-leader-board-and-more",
                 "category": {"level1": "城乡建设"}, "place": {"town": "后宅街道"}, "published_at": "2026-11-28T10:05:00+08:00",
                 "case_id": CASE_ID, "title": "", "text": LONG_TITLE + "\n第二段"}] * 3  # fmt: skip
    return SearchPage(kind=kind, total=3, page=1, size=20, hits=hits)


def _render(kind: str, width: int, wide: bool = False) -> list[str]:
    import io

    from rich.console import Console

    from leadhub.commands.search_table import print_table

    buffer = io.StringIO()
    print_table(_page(kind), wide=wide, console=Console(width=width, file=buffer, force_terminal=False))
    return buffer.getvalue().splitlines()


@pytest.mark.parametrize("kind", ["cases", "leads"])
def test_search_table_fits_a_100_column_terminal(kind):
    from rich.cells import cell_len

    lines = _render(kind, 100)
    assert max(cell_len(line) for line in lines) <= 100  # Chinese characters count as two columns
    rows = [line for line in lines if line.startswith(CASE_ID[:10] if kind == "cases" else LEAD_ID[:10])]
    assert len(rows) == 3  # one line a hit: nothing folded onto the next line
    assert CASE_ID not in "\n".join(lines) and "…" in rows[0]
    for header in (["case", "status", "n", "category", "department", "place", "first seen", "title"] if kind == "cases"
                   else ["lead", "channel", "source", "category", "place", "published", "case", "title"]):  # fmt: skip
        assert header in lines[1]  # every column kept, none squeezed away


@pytest.mark.parametrize("kind", ["cases", "leads"])
def test_search_table_wide_shows_whole_ids(kind):
    text = "\n".join(_render(kind, 100, wide=True))
    assert CASE_ID in text and (kind == "cases" or LEAD_ID in text)


def test_search_table_keeps_cells_whole_when_there_is_room():
    text = "\n".join(_render("leads", 220))
    assert "yiwu-leader-board-and-more" in text and "complaint_platform" in text and "劳动" not in text
