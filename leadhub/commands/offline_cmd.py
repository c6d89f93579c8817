"""Offline commands (no services): `leadhub categorize`, `leadhub dedup`, `leadhub model train`."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import typer

from enrichers.calibration import TARGET_PRECISION
from enrichers.classifier import train as train_classifier
from enrichers.dedup import DedupConfig, Deduplicator, MemoryDedupState
from enrichers.model_card import build_card, card_path, file_sha256, read_card, render, write_card
from enrichers.models import DEFAULT_CARD, DEFAULT_DIR
from leadhub.commands import model_versions_cmd
from leadhub.commands.file_args import check_readable
from leadhub.commands.jsonl import ENCODINGS, read_jsonl, write_jsonl
from leadhub.commands.model_versions_cmd import DEFAULT_CORRECTIONS_WEIGHT, TrainingSession
from leadhub.corrections import DEFAULT_MIN_SUPPORT
from schemas.errors import ConfigError
from schemas.timezones import DEFAULT_DATE_FORMATS, parse_local_time
from streams.pipeline import build_categorizer

INPUT_HELP = "JSONL file to read ('-' or nothing: standard input)."
ENCODING_HELP = "Input encoding: auto (UTF-8, else GB18030, line by line), utf-8 or gb18030. A BOM is ignored."


def _input(input: Path | None, encoding: str) -> Path | None:
    """Check the command's input before any work: the file, and the encoding's name."""
    if encoding not in ENCODINGS:
        raise ConfigError(f"unknown --encoding {encoding!r}; use one of {', '.join(ENCODINGS)}")
    if input is not None and str(input) != "-":
        check_readable(input, "input")
    return input


def _text(value: object) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _report(errors: int, total: int) -> None:
    """Say how many lines were skipped; nothing usable at all is a failure (exit 1), not an empty success."""
    if errors and errors == total:
        typer.echo(f"error: all {total} input lines were skipped (see above); nothing was written", err=True)
        raise typer.Exit(1)
    if errors:
        typer.echo(f"{errors} of {total} input lines were skipped (see above)", err=True)


def categorize(
    ctx: typer.Context,
    input: Path | None = typer.Argument(None, help=INPUT_HELP, readable=False),
    model: Path | None = typer.Option(
        None, "--model", readable=False,
        help="A model file from `leadhub model train`, `default` (the package's) or `none` (rules only); default: routing.model.",
    ),  # fmt: skip
    encoding: str = typer.Option("auto", "--encoding", help=ENCODING_HELP),
) -> None:
    """Categorize JSONL leads offline: each {"id","title","text"} line gets category, subcategory,
    department, confidence and needs_triage."""
    input = _input(input, encoding)
    routing = ctx.obj.settings.routing
    if model is not None:
        named = str(model) if str(model) in ("default", "none") else None
        if named is None:
            check_readable(model, "--model", streams=False)
        routing = routing.model_copy(update={"model": named or model})
    categorizer = build_categorizer(routing)
    batch: list[dict] = []
    errors = total = 0

    def flush() -> None:
        results = categorizer.categorize_many([(_text(o.get("title")), _text(o.get("text"))) for o in batch])
        for obj, result in zip(batch, results, strict=True):
            write_jsonl(obj | result.as_fields())
        batch.clear()

    for _, item in read_jsonl(input, ("id", "text"), encoding):
        total += 1
        if isinstance(item, Exception):
            errors += 1
            typer.echo(f"skipped: {item}", err=True)
            continue
        batch.append(item)
        if len(batch) >= 256:
            flush()
    flush()
    _report(errors, total)


def dedup(
    ctx: typer.Context,
    input: Path | None = typer.Argument(None, help=INPUT_HELP, readable=False),
    encoding: str = typer.Option("auto", "--encoding", help=ENCODING_HELP),
) -> None:
    """Group JSONL leads into cases offline: each {"id","title","text","source","published_at"} line
    gets case_id (the id of the first lead of its case), in input order."""
    input = _input(input, encoding)
    routing = ctx.obj.settings.routing
    deduplicator = Deduplicator(MemoryDedupState(), DedupConfig(window_days=routing.dedup_window_days))
    errors = total = 0
    for number, read in read_jsonl(input, ("id", "text"), encoding):
        total += 1
        item: dict[str, Any] | Exception = read
        if not isinstance(item, Exception):
            try:
                when = parse_local_time(item.get("published_at"), DEFAULT_DATE_FORMATS, routing.source_timezone)
            except ValueError as exc:
                item = ValueError(f"line {number}: {exc}")
        if isinstance(item, Exception):
            errors += 1
            typer.echo(f"skipped: {item}", err=True)
            continue
        result = deduplicator.assign(str(item["id"]), _text(item.get("title")), _text(item.get("text")), when)
        write_jsonl(item | {"case_id": result.case_id})
    _report(errors, total)


model_app = typer.Typer(help="Train the category classifier, build the default one, show a model's card, manage versions (list, promote, rollback).", no_args_is_help=True)


@model_app.command("train")
def model_train(
    ctx: typer.Context,
    data: Path = typer.Option(..., "--data", readable=False, help="CSV with a header row (UTF-8)."),
    text_col: str = typer.Option(..., "--text-col", help="Text column; several joined with commas, e.g. title,text."),
    label_col: str = typer.Option(..., "--label-col", help="Label column."),
    out: Path | None = typer.Option(
        None, "--out", help="Where to write the model file; default: a new version (v0001, v0002, …) in routing.model_dir."
    ),
    extra_data: Path | None = typer.Option(None, "--extra-data", readable=False, help="A second CSV that only joins training."),
    extra_text_col: str | None = typer.Option(None, "--extra-text-col", help="Text column(s) of --extra-data."),
    validation_share: float = typer.Option(0.2, "--validation-share", min=0.0, max=0.5),
    seed: int = typer.Option(0, "--seed"),
    target_precision: float = typer.Option(
        TARGET_PRECISION, "--target-precision", min=0.5, max=1.0,
        help="The triage threshold is the lowest validation confidence whose surer leads are this often right.",
    ),  # fmt: skip
    trained_at: str | None = typer.Option(None, "--trained-at", help="Recorded training time (a reproducible build fixes it); default: now."),
    corrections: bool = typer.Option(
        False, "--corrections",
        help="Add every recategorized case in the configured store (engine or embedded) to the training data: its leads, labelled with the officer's level-1 class.",
    ),  # fmt: skip
    corrections_weight: float = typer.Option(
        DEFAULT_CORRECTIONS_WEIGHT, "--corrections-weight", min=0.0, max=1000.0, help="How much one correction row weighs against one row of --data."
    ),
    corrections_holdout: float = typer.Option(
        0.2, "--corrections-holdout", min=0.0, max=0.9,
        help="Share of the corrected cases never trained on: the card compares the new model and the one in use on them.",
    ),  # fmt: skip
    corrections_min_support: int = typer.Option(
        DEFAULT_MIN_SUPPORT, "--corrections-min-support", min=1,
        help="Corrected cases that must agree before a department or a level-2 class is learned from them.",
    ),  # fmt: skip
) -> None:
    """Train a character n-gram classifier; the file records labels, data hash, validation scores and the
    triage threshold chosen on validation, and a model card (NAME.card.json) is written next to it.
    Without --out it is a new version in routing.model_dir (promote it with `leadhub model promote`),
    and its card compares it with the model in use."""
    train_model(
        data=data, text_col=text_col, label_col=label_col, out=out, extra_data=extra_data, extra_text_col=extra_text_col,
        validation_share=validation_share, seed=seed, target_precision=target_precision, trained_at=trained_at,
        corrections=corrections, corrections_weight=corrections_weight, corrections_holdout=corrections_holdout,
        corrections_min_support=corrections_min_support, settings=ctx.obj.settings if out is None or corrections else None,
    )  # fmt: skip


def train_model(
    *, data: Path, text_col: str, label_col: str, out: Path | None, extra_data: Path | None = None,
    extra_text_col: str | None = None, validation_share: float = 0.2, seed: int = 0,
    target_precision: float = TARGET_PRECISION, trained_at: str | None = None, corrections: bool = False,
    corrections_weight: float = DEFAULT_CORRECTIONS_WEIGHT, corrections_holdout: float = 0.2,
    corrections_min_support: int = DEFAULT_MIN_SUPPORT, settings: Any = None,
) -> Path:
    """`leadhub model train` as a function (the default model's build calls it); returns the model file."""
    check_readable(data, "--data")
    if extra_data is not None:
        check_readable(extra_data, "--extra-data")
    texts, labels = _read_training(data, text_col, label_col)
    extra_texts, extra_labels = _read_training(extra_data, extra_text_col or text_col, label_col) if extra_data else ([], [])
    extra_rows = len(extra_texts)
    if (out is None or corrections) and settings is None:
        raise ConfigError("training into routing.model_dir or with --corrections needs the settings", hint="pass --out")
    session = TrainingSession(settings) if out is None or corrections else None
    version = None
    if out is None:
        assert session is not None
        version, out = session.new_version()
    extra_weights = None
    if corrections:
        assert session is not None
        trained_on, _ = session.read_corrections(corrections_holdout, labels, validation_share)
        extra_weights = [1.0] * len(extra_texts) + [corrections_weight] * len(trained_on)
        extra_texts, extra_labels = extra_texts + [c.text for c in trained_on], extra_labels + [c.label for c in trained_on]
    typer.echo(f"training on {len(texts)} rows (+{len(extra_texts)} extra) from {data} …", err=True)
    try:
        model = train_classifier(
            texts, labels, validation_share=validation_share, extra_texts=extra_texts, extra_labels=extra_labels,
            extra_weights=extra_weights, seed=seed, target_precision=target_precision, trained_at=trained_at,
        )  # fmt: skip
    except ValueError as exc:  # scikit-learn's word on data it cannot split (a class with too few rows, …)
        if version is not None:
            out.parent.rmdir()  # nothing was written under the version's name: no empty folder left
        raise ConfigError(f"cannot train on this data: {exc}", hint="give every label at least 3 rows (5 with a validation share)") from None
    if corrections:
        assert session is not None
        model.learned = session.learn_routing(texts, labels, corrections_min_support, seed)
    model.save(out)
    files = [{"name": data.name, "sha256": file_sha256(data), "rows": len(texts), "role": "train + validation"}]
    if extra_data is not None:
        files.append({"name": extra_data.name, "sha256": file_sha256(extra_data), "rows": extra_rows, "role": "train only"})
    command = ["leadhub", "model", "train", "--data", data.name, "--text-col", text_col, "--label-col", label_col]
    if extra_data is not None:
        command += ["--extra-data", extra_data.name, "--extra-text-col", extra_text_col or text_col]
    command += ["--validation-share", str(validation_share), "--seed", str(seed), "--target-precision", str(target_precision)]
    command += [*(["--trained-at", trained_at] if trained_at is not None else [])]
    if corrections:
        command += ["--corrections", "--corrections-weight", str(corrections_weight), "--corrections-holdout", str(corrections_holdout),
                    "--corrections-min-support", str(corrections_min_support)]  # fmt: skip
    command += ["--out", out.name] if version is None else []
    card = build_card(model, out, files, command)
    if session is not None:
        card |= session.card_sections(model, version)
    write_card(card, card_path(out))
    scores = model.scores
    typer.echo(f"wrote {out}: {len(model.labels)} labels, data sha256 {model.data_sha256[:12]}…, card {card_path(out)}")
    if "macro_f1" in scores:
        typer.echo(f"validation macro-F1 {scores['macro_f1']:.4f} on {scores['validation_size']} held-out rows")
        triage, ece = scores["triage"], scores["calibration"]["ece"]
        typer.echo(
            f"triage threshold {triage['threshold']:.4f}: {triage['coverage']:.1%} of validation rows routed without triage,"
            f" {triage['precision']:.1%} of them right; calibration error {ece:.4f}"
        )
    if session is not None:
        for line in session.summary(card):
            typer.echo(line)
    if version is not None:
        typer.echo(f"version {version} written; route with it: leadhub model promote {version}")
    return out


model_app.command("list")(model_versions_cmd.model_list)
model_app.command("promote")(model_versions_cmd.model_promote)
model_app.command("rollback")(model_versions_cmd.model_rollback)


@model_app.command("card")
def model_card(
    model: Path | None = typer.Argument(None, help="A model file or its card (default: the default model's card)."),
    as_json: bool = typer.Option(False, "--json", help="The card's JSON as stored."),
) -> None:
    """Show a model's card: data hashes, row counts, validation scores per class, triage threshold, calibration."""
    path = DEFAULT_CARD if model is None else model if model.name.endswith(".card.json") else card_path(model)
    try:
        card = read_card(path)
    except ValueError as exc:
        raise ConfigError(str(exc), hint="a card is written next to each model by `leadhub model train`") from None
    typer.echo(json.dumps(card, ensure_ascii=False, indent=2) if as_json else render(card))


@model_app.command("build-default")
def model_build_default(
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="The labelled board messages (default: $LEADHUB_SHARED_DATA/teddy2020, else ../shared/data/teddy2020)."
    ),
    out_dir: Path = typer.Option(DEFAULT_DIR, "--out-dir", help="Where to write classifier.pkl and its card."),
    check: bool = typer.Option(False, "--check", help="Build in a temporary folder and compare its SHA-256 with the card in --out-dir."),
) -> None:
    """Build the default category model from the labelled board messages, byte for byte the same each time."""
    from leadhub.commands.default_model import build_default

    build_default(data_dir, out_dir, check=check)


def _read_training(path: Path, text_cols: str, label_col: str) -> tuple[list[str], list[str]]:
    columns = [c.strip() for c in text_cols.split(",") if c.strip()]
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            missing = [c for c in [*columns, label_col] if c not in header]
            if missing:
                raise ConfigError(f"{path} has no column {', '.join(missing)}", hint=f"its columns are: {', '.join(header)}")
            texts, labels = [], []
            for row in reader:
                label = (row.get(label_col) or "").strip()
                text = "\n".join((row.get(c) or "").strip() for c in columns).strip()
                if label and text:
                    texts.append(text)
                    labels.append(label)
    except OSError as exc:  # checked before, but a disk can still fail mid-read
        raise ConfigError(f"{path} cannot be read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"{path} is not a readable UTF-8 CSV: {exc}") from None
    if len(set(labels)) < 2:
        raise ConfigError(f"{path} has fewer than two distinct labels in {label_col}")
    return texts, labels


