"""Source kinds come from the `leadhub.source_kinds` entry points; a broken plug-in is named at start-up."""

from importlib.metadata import EntryPoint, entry_points

import pytest

from ingestors import base
from ingestors.base import ENTRY_POINT_GROUP, SourceKind, load_kinds
from ingestors.board import BoardKind
from schemas.errors import ConfigError


@pytest.fixture
def no_kinds(monkeypatch):
    monkeypatch.setattr(base, "SOURCE_KINDS", {})


def entry(name, value):
    return EntryPoint(name, value, ENTRY_POINT_GROUP)


def test_every_bundled_kind_is_an_installed_entry_point():
    declared = {e.name: e.value for e in entry_points(group=ENTRY_POINT_GROUP)}
    assert {"feed", "json_api", "hotline_files", "board", "forum"} <= set(declared)
    kinds = load_kinds()
    assert set(declared) == set(kinds)
    for name, cls in kinds.items():
        assert issubclass(cls, SourceKind) and cls.kind == name and declared[name] == f"{cls.__module__}:{cls.__qualname__}"


def test_a_new_kind_is_one_module_plus_one_entry(no_kinds):
    kinds = load_kinds([entry("feed", "ingestors.feed:FeedKind")])
    assert list(kinds) == ["feed"]


@pytest.mark.parametrize("value, message", [
    ("ingestors.no_such_module:Kind", r"source kind 'broken' \(ingestors.no_such_module:Kind, .*\) cannot be loaded: ModuleNotFoundError"),
    ("ingestors.feed:NoSuchClass", r"source kind 'broken' .* cannot be loaded: AttributeError"),
    ("ingestors.feed:FeedOptions", r"source kind 'broken' .* is not a SourceKind class"),
])  # fmt: skip
def test_a_kind_that_fails_to_load_is_a_start_up_error_naming_it(no_kinds, value, message):
    with pytest.raises(ConfigError, match=message):
        load_kinds([entry("feed", "ingestors.feed:FeedKind"), entry("broken", value)])


def test_the_entry_name_and_the_kind_must_agree(no_kinds):
    with pytest.raises(ConfigError, match=r"source kind 'rss' .* the class says kind = 'feed'"):
        load_kinds([entry("rss", "ingestors.feed:FeedKind")])


class AnotherBoard(BoardKind):
    kind = "board"


def test_two_plug_ins_declaring_one_kind_is_an_error(no_kinds):
    with pytest.raises(ConfigError, match=r"source kind 'board' \(tests.unit.test_kind_plugins:AnotherBoard.*registered twice"):
        load_kinds([entry("board", "ingestors.board:BoardKind"), entry("board", "tests.unit.test_kind_plugins:AnotherBoard")])


def test_no_entry_points_at_all_says_to_install_leadhub(no_kinds):
    with pytest.raises(ConfigError, match="no source kinds are installed") as caught:
        load_kinds([])
    assert "pip install" in str(caught.value)


def test_the_cli_reports_a_broken_plug_in_in_one_line(no_kinds, monkeypatch, tmp_path, capsys):
    from leadhub.cli import main

    broken = [entry("feed", "ingestors.feed:FeedKind"), entry("broken", "ingestors.no_such_module:Kind")]
    monkeypatch.setattr(base.metadata, "entry_points", lambda group: broken if group == ENTRY_POINT_GROUP else [])
    doc = tmp_path / "feed.xml"
    doc.write_text("<rss/>")
    assert main(["ingest", "preview", "--kind", "feed", "--file", str(doc)]) != 0
    err = capsys.readouterr().err
    assert "source kind 'broken'" in err and "cannot be loaded" in err and "Traceback" not in err
