"""`leadhub ingest run --all` says which sources it left out because they are disabled (the demo's
folder has two), and a sources file with only disabled ones is one line saying so, not "no source named None"."""

from __future__ import annotations

import yaml

from leadhub.cli import main


def _settings(tmp_path, sources: list[dict]) -> list[str]:
    (tmp_path / "inbox").mkdir()
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": sources}, allow_unicode=True), encoding="utf-8")
    return ["--set", "mode=embedded", "--set", f"embedded.path={tmp_path / 'e.sqlite'}", "--set", f"ingest.sources={path}",
            "--set", f"ingest.state_db={tmp_path / 'state.sqlite'}"]  # fmt: skip


HOTLINE = {"name": "hotline-12345", "kind": "hotline_files", "channel": "hotline",
           "options": {"columns": {"external_id": "工单编号", "body": "诉求内容"}}}  # fmt: skip
FEED = {"name": "news", "kind": "feed", "channel": "news", "enabled": False, "options": {"url": "https://news.example.org/rss.xml"}}


def test_run_all_names_the_disabled_sources_it_left_out(tmp_path, capsys):
    args = _settings(tmp_path, [HOTLINE | {"options": HOTLINE["options"] | {"inbox": str(tmp_path / "inbox")}}, FEED])
    assert main([*args, "ingest", "run", "--all"]) == 0
    captured = capsys.readouterr()
    assert "hotline-12345" in captured.out
    assert any(line.startswith("not run, enabled: false in") and line.endswith(": news") for line in captured.err.splitlines())


def test_run_all_with_every_source_disabled_is_one_line(tmp_path, capsys):
    args = _settings(tmp_path, [FEED, FEED | {"name": "news-2"}])
    assert main([*args, "ingest", "run", "--all"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "every source in" in err[0] and "is disabled (enabled: false): news, news-2" in err[0]
    assert "None" not in err[0]
