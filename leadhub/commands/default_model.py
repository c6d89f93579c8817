"""`leadhub model build-default`: the default category model, made by `leadhub model train` itself.

The build is reproducible: the same data files give the same model file, byte for byte (fixed seed,
the rows in file order, a fixed training time, pickle of arrays only built in a fixed order), and the
card records the file's SHA-256, so `--check` can rebuild elsewhere and compare.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import typer

from enrichers.model_card import card_path, file_sha256, read_card
from schemas.errors import ConfigError

# The board messages of the 2020 TipDM challenge (../shared/data/README.md): raw title + text with
# labels, and more labelled messages as jieba tokens that only join training.
LABELLED = "messages_labelled.csv"
TOKENS = "messages_tokens_labelled.csv"
# Fixed so that a rebuild is the same bytes: the date the default model's recipe was settled.
TRAINED_AT = "2026-12-07"
SEED = 0


def default_data_dir() -> Path:
    shared = os.environ.get("LEADHUB_SHARED_DATA")
    root = Path(shared) if shared else Path(__file__).resolve().parents[2].parent / "shared" / "data"
    return root / "teddy2020"


def train_into(data_dir: Path, model: Path) -> None:
    """Run `leadhub model train` with the default model's recipe, writing ``model`` and its card."""
    from leadhub.commands.offline_cmd import train_model

    for name in (LABELLED, TOKENS):
        if not (data_dir / name).is_file():
            raise ConfigError(f"{data_dir / name} not found", hint="pass --data-dir, or set LEADHUB_SHARED_DATA to the folder holding teddy2020/")
    train_model(
        data=data_dir / LABELLED, text_col="title,text", label_col="label", out=model,
        extra_data=data_dir / TOKENS, extra_text_col="tokens", validation_share=0.2, seed=SEED,
        target_precision=0.98, trained_at=TRAINED_AT,
    )  # fmt: skip


def build_default(data_dir: Path | None, out_dir: Path, *, check: bool = False) -> None:
    data_dir = data_dir or default_data_dir()
    target = out_dir / "classifier.pkl"
    if not check:
        out_dir.mkdir(parents=True, exist_ok=True)
        train_into(data_dir, target)
        return
    try:
        recorded = read_card(card_path(target))["model"]["sha256"]
    except ValueError as exc:
        raise ConfigError(str(exc), hint="build it first: leadhub model build-default") from None
    with tempfile.TemporaryDirectory(prefix="leadhub-model-") as tmp:
        rebuilt = Path(tmp) / "classifier.pkl"
        train_into(data_dir, rebuilt)
        fresh = file_sha256(rebuilt)
        same_card = card_path(rebuilt).read_bytes() == card_path(target).read_bytes()
    if fresh != recorded or not same_card:
        typer.echo(f"error: the rebuild differs from {card_path(target)}: model sha256 {fresh} against {recorded}"
                   f"{'' if same_card else ', and the cards differ'}", err=True)  # fmt: skip
        raise typer.Exit(1)
    typer.echo(f"rebuilt byte for byte: model sha256 {fresh}, card identical")
