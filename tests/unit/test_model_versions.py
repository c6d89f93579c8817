"""Model versions (issue 21): versions in routing.model_dir, list / promote / rollback, the pointer
file, embedded mode's hot reload of a promoted version, and leads recording the model that routed
them. Models are tiny, trained here on rows this file writes (no trained model may be committed)."""

from __future__ import annotations

import io
import json
import logging
import os
import time
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from enrichers.model_card import read_card
from enrichers.model_versions import (
    VersionError,
    current_model,
    model_file,
    next_version,
    pointer_path,
    promote,
    read_pointer,
    rollback,
    versions,
)
from leadhub.cli import main
from schemas.leads import Lead, RawLead
from schemas.serialization import decode
from streams.local_runner import LocalRunner
from streams.pipeline import build_categorizer, model_choice
from streams.settings import RoutingSettings
from tests.train_data import LABELS, two_class_csv

LIFT = ("小区电梯坏了", "幸福小区3号楼电梯停运一周，物业一直不修")
WAGES = ("公司拖欠工资", "老板拖欠我们三个月工资，一直不发")


def _csv(tmp: Path, *, swap_labels: bool = False) -> Path:
    """Two classes; ``swap_labels`` teaches the opposite names, so two versions disagree visibly."""
    if swap_labels:
        return two_class_csv(tmp / "swapped.csv", (LABELS[1], LABELS[0]))
    return two_class_csv(tmp / "train.csv")


def _train_version(tmp: Path, model_dir: Path, *, swap_labels: bool = False) -> str:
    out = io.StringIO()
    args = ["--set", f"routing.model_dir={model_dir}", "model", "train", "--data", str(_csv(tmp, swap_labels=swap_labels)),
            "--text-col", "title,text", "--label-col", "label"]  # fmt: skip
    with redirect_stdout(out):
        assert main(args) == 0
    return next(line.split()[1] for line in out.getvalue().splitlines() if line.startswith("version "))


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """v0001 (elevators are 城乡建设) and v0002 (trained on swapped labels), none promoted."""
    tmp = tmp_path_factory.mktemp("versions")
    model_dir = tmp / "models"
    assert _train_version(tmp, model_dir) == "v0001"
    assert _train_version(tmp, model_dir, swap_labels=True) == "v0002"
    return model_dir


@pytest.fixture
def fresh_dir(model_dir, tmp_path) -> Path:
    """A copy of the two versions with no pointer, for a test that promotes."""
    import shutil

    copy = tmp_path / "models"
    shutil.copytree(model_dir, copy)
    pointer_path(copy).unlink(missing_ok=True)
    return copy


# ---- versions on disk ----


def test_train_without_out_writes_numbered_versions_with_their_cards(model_dir):
    found = versions(model_dir)
    assert [v.name for v in found] == ["v0001", "v0002"]
    for v in found:
        card = read_card(v.path.with_name("classifier.card.json"))
        assert card["version"] == v.name and card["model"]["file"] == "classifier.pkl"
        assert v.macro_f1 == card["validation"]["macro_f1"] and v.created == card["model"]["trained_at"]
        # The card compares the new version with what routes now (nothing promoted: rules) on the same rows.
        comparison = card["comparison"]
        assert comparison["in_use"] in ("rules", "default")
        assert comparison["validation"]["rows"] == card["validation"]["validation_size"]
        assert comparison["validation"]["new"]["macro_f1"] == pytest.approx(card["validation"]["macro_f1"], abs=1e-4)
    assert next_version(model_dir) == "v0003"
    assert read_pointer(model_dir).version is None


def test_a_failed_trainings_folder_is_never_reused(tmp_path):
    (tmp_path / "v0007").mkdir()  # no model file in it
    assert versions(tmp_path) == [] and next_version(tmp_path) == "v0008"


def test_promote_and_rollback_walk_the_promotion_history(fresh_dir):
    assert promote(fresh_dir, "v0001").version == "v0001"
    assert promote(fresh_dir, "v0002").promoted == ("v0001", "v0002")
    assert promote(fresh_dir, "v0002").promoted == ("v0001", "v0002")  # promoting the current one again: no change
    assert current_model(fresh_dir) == ("v0002", model_file(fresh_dir, "v0002"))
    assert rollback(fresh_dir).version == "v0001"
    assert read_pointer(fresh_dir).promoted == ("v0001",)
    with pytest.raises(VersionError, match="nothing to roll back to"):
        rollback(fresh_dir)
    with pytest.raises(VersionError, match=r"no model version v0009 .*versions: v0001, v0002"):
        promote(fresh_dir, "v0009")
    # Only the pointer file is left behind: its temporary files were renamed over it.
    assert sorted(p.name for p in fresh_dir.iterdir()) == ["current", "v0001", "v0002"]


def test_rollback_skips_a_version_removed_since_and_refuses_when_nothing_was_promoted(fresh_dir):
    import shutil

    with pytest.raises(VersionError, match="nothing to roll back"):
        rollback(fresh_dir)
    promote(fresh_dir, "v0001")
    promote(fresh_dir, "v0002")
    shutil.rmtree(fresh_dir / "v0001")
    with pytest.raises(VersionError, match="nothing to roll back to"):
        rollback(fresh_dir)


def test_a_broken_pointer_is_a_clear_error(fresh_dir):
    pointer_path(fresh_dir).write_text("{not json", encoding="utf-8")
    with pytest.raises(VersionError, match="cannot be read"):
        read_pointer(fresh_dir)
    pointer_path(fresh_dir).write_text(json.dumps({"version": "../etc"}), encoding="utf-8")
    with pytest.raises(VersionError, match="does not name a version"):
        read_pointer(fresh_dir)


# ---- the commands ----


def _cli(model_dir: Path, *args: str) -> int:
    return main(["--set", f"routing.model_dir={model_dir}", "model", *args])


def test_model_list_promote_rollback_commands(fresh_dir, capsys):
    assert _cli(fresh_dir, "list") == 0
    out = capsys.readouterr().out
    assert "v0001" in out and "v0002" in out and "none promoted" in out
    assert _cli(fresh_dir, "promote", "v0002") == 0
    assert "current model version: v0002" in capsys.readouterr().out
    assert _cli(fresh_dir, "list", "--json") == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["version"], r["current"]) for r in rows] == [("v0001", False), ("v0002", True)]
    assert all(r["macro_f1"] is not None and r["created"] for r in rows)
    assert _cli(fresh_dir, "promote", "v0001") == 0 and _cli(fresh_dir, "rollback") == 0
    assert "current model version: v0002" in capsys.readouterr().out
    # Errors are one line with what to do, never a traceback.
    assert _cli(fresh_dir, "promote", "v0042") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no model version v0042") and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_promote_refuses_a_version_whose_file_does_not_load(fresh_dir, capsys):
    broken = model_file(fresh_dir, "v0003")
    broken.parent.mkdir()
    broken.write_bytes(b"not a pickle")
    assert _cli(fresh_dir, "promote", "v0003") == 2
    assert "v0003 cannot be loaded" in capsys.readouterr().err
    assert read_pointer(fresh_dir).version is None


# ---- which model routes, and what leads record ----


def test_default_routes_with_the_promoted_version_and_leads_record_it(fresh_dir):
    routing = RoutingSettings(model_dir=fresh_dir)
    assert model_choice(routing)[0] in ("rules", "default")  # nothing promoted: the package's default, else rules
    promote(fresh_dir, "v0001")
    assert model_choice(routing) == ("v0001", model_file(fresh_dir, "v0001"))
    assert build_categorizer(routing).categorize(*LIFT).model_version == "v0001"
    assert model_choice(RoutingSettings(model="none", model_dir=fresh_dir)) == ("rules", None)
    named = model_file(fresh_dir, "v0002")
    assert model_choice(RoutingSettings(model=named, model_dir=fresh_dir)) == ("classifier.pkl", named)


def _route(runner: LocalRunner, external_id: str, title: str, body: str) -> Lead:
    before = len(runner.topics["leads.routed"])
    runner.submit_raw([RawLead(source="forum-yiwu", channel="forum", external_id=external_id, title=title, body=body)])
    (out,) = runner.topics["leads.routed"][before:]
    return decode(out.value, out.headers, Lead)


def test_rules_only_leads_record_rules():
    runner = LocalRunner(RoutingSettings(model="none"))
    assert _route(runner, "r1", *LIFT).model_version == "rules"


def test_embedded_runner_picks_up_a_promoted_version_without_restart(fresh_dir, caplog):
    promote(fresh_dir, "v0001")
    runner = LocalRunner(RoutingSettings(model_dir=fresh_dir, model_check_seconds=0.2))
    first = _route(runner, "1", *LIFT)
    assert first.model_version == "v0001" and first.category is not None and first.category.level1 == "城乡建设"

    promote(fresh_dir, "v0002")
    assert _route(runner, "2", *WAGES).model_version == "v0001"  # checked at most every model_check_seconds
    time.sleep(0.3)
    second = _route(runner, "3", *LIFT)
    assert second.model_version == "v0002" and second.category is not None and second.category.level1 == "劳动和社会保障"

    # A promoted file that does not load: logged, the old model kept; the next good promotion is taken.
    broken = model_file(fresh_dir, "v0003")
    broken.parent.mkdir()
    broken.write_bytes(b"not a pickle")
    promote(fresh_dir, "v0003")  # the library call does not check the file; the command does
    time.sleep(0.3)
    with caplog.at_level(logging.ERROR, logger="streams.pipeline"):
        assert _route(runner, "4", *WAGES).model_version == "v0002"
    assert any("model version not switched" in r.getMessage() and "v0003" in r.getMessage() for r in caplog.records)
    rollback(fresh_dir)
    time.sleep(0.3)
    assert _route(runner, "5", *WAGES).model_version == "v0002"  # rollback went v0003 -> v0002: the same model
    promote(fresh_dir, "v0001")
    time.sleep(0.3)
    assert _route(runner, "6", *WAGES).model_version == "v0001"


def test_a_pointer_replaced_within_the_same_clock_tick_is_still_seen(fresh_dir):
    promote(fresh_dir, "v0001")
    runner = LocalRunner(RoutingSettings(model_dir=fresh_dir, model_check_seconds=0.01))
    stat = pointer_path(fresh_dir).stat()
    promote(fresh_dir, "v0002")
    os.utime(pointer_path(fresh_dir), ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same mtime: the inode differs
    time.sleep(0.02)
    assert _route(runner, "1", *LIFT).model_version == "v0002"


def test_a_first_promotion_is_picked_up_by_a_runner_started_before_any(fresh_dir, monkeypatch):
    import streams.pipeline as pipeline

    monkeypatch.setattr(pipeline, "DEFAULT_MODEL", fresh_dir / "not-built.pkl")  # the package's default: not built
    runner = LocalRunner(RoutingSettings(model_dir=fresh_dir, model_check_seconds=0.01))
    assert _route(runner, "1", *LIFT).model_version == "rules"
    promote(fresh_dir, "v0002")
    time.sleep(0.02)
    assert _route(runner, "2", *LIFT).model_version == "v0002"
