"""`leadhub dlq list|show|replay`: the dead letters of either mode, read back and sent again."""

from __future__ import annotations

import json
import sys
from contextlib import closing
from pathlib import Path

import typer

from schemas.errors import LeadhubError

app = typer.Typer(
    help="Dead letters: records a stage could not handle, with the reason and the original bytes "
    "(embedded: the index file; cluster: the leads.dlq topic).",
    no_args_is_help=True,
)


HIDDEN_BYTES = (
    "a dead letter's original bytes come from before masking and may hold a reporter's contact, so only "
    "cli.role admin sees them (set `cli: {role: admin}` in leadhub.yaml, or --set cli.role=admin)"
)


def _unknown(entry_id: str, store) -> LeadhubError:
    return LeadhubError(f"no dead letter {entry_id!r} in {store.where}; see `leadhub dlq list`")


@app.command("list")
def list_(
    ctx: typer.Context,
    limit: int = typer.Option(50, "--limit", min=1, max=100_000, help="The newest N."),
    as_json: bool = typer.Option(False, "--json", help="One JSON array (stage, reason, source, where, …)."),
) -> None:
    """The newest dead letters: id, stage, source, row or offset, reason."""
    from leadhub.dlq import open_dead_letters, summary

    with closing(open_dead_letters(ctx.obj.settings)) as store:
        entries = store.list(limit)
    rows = [summary(entry) for entry in entries]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(rows)} dead letter(s), newest first ({store.where})")
    for column in ("id", "at", "stage", "source", "where", "reason"):
        table.add_column(column, overflow="fold")
    for row in rows:
        # A source's bad row is a "Problem" (its reason says it all); a stage's failure keeps its exception type.
        kind = "" if row["error_type"] == "Problem" else f"{row['error_type']}: "
        table.add_row(row["id"], row["at"][:19], row["stage"], row["source"] or "", row["where"], f"{kind}{row['reason']}")
    Console(width=None if sys.stdout.isatty() else 200).print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    entry_id: str = typer.Argument(..., metavar="ID", help="As `leadhub dlq list` shows it (embedded: 12; cluster: PARTITION:OFFSET)."),
    as_json: bool = typer.Option(False, "--json", help="Everything as JSON (the original bytes as base64 and, if UTF-8, as text)."),
    raw: bool = typer.Option(False, "--raw", help="Only the original bytes, exactly (e.g. > record.json, fix, then replay --file)."),
) -> None:
    """One dead letter: stage, reason, source, row or offset, details, and the original bytes."""
    from leadhub.dlq import open_dead_letters, payload_text, summary

    with closing(open_dead_letters(ctx.obj.settings)) as store:
        entry = store.get(entry_id)
    if entry is None:
        raise _unknown(entry_id, store)
    # The original bytes are the record as it failed, before masking: a reporter's phone and name can be
    # in them. Like contacts, they are shown to the terminal's administrator only (cli.role).
    may_see_bytes = ctx.obj.settings.cli.role == "admin"
    if raw:
        if not may_see_bytes:
            raise LeadhubError(HIDDEN_BYTES)
        sys.stdout.buffer.write(entry.letter.payload)
        sys.stdout.buffer.flush()
        return
    data = summary(entry, with_payload=may_see_bytes)
    if as_json:
        typer.echo(json.dumps(data if may_see_bytes else {**data, "payload_hidden": HIDDEN_BYTES}, ensure_ascii=False, indent=2))
        return
    for name in ("id", "at", "stage", "source", "where", "error_type", "reason", "topic", "key"):
        if data[name] is not None:
            typer.echo(f"{name + ':':<12}{data[name]}")
    if data["details"]:
        typer.echo(f"{'details:':<12}{json.dumps(data['details'], ensure_ascii=False)}")
    if not may_see_bytes:
        typer.echo(f"original bytes ({len(entry.letter.payload)}): hidden. {HIDDEN_BYTES}")
        return
    text = payload_text(entry.letter.payload)
    label = "UTF-8" if text is not None else "not UTF-8, base64"
    typer.echo(f"original bytes ({data['payload_bytes']}, {label}):")
    typer.echo(text if text is not None else data["payload_base64"])


@app.command("replay")
def replay(
    ctx: typer.Context,
    entry_ids: list[str] = typer.Argument(..., metavar="ID...", help="The dead letters to send again."),
    file: Path | None = typer.Option(
        None, "--file", help="A fixed record to send instead of the original bytes (one ID only): JSON of the "
        "record the topic carries, e.g. a RawLead for leads.raw (`leadhub ingest preview` prints RawLeads); "
        "for a source's dead letter also its own record fixed, as `dlq show ID --raw` prints it."),  # fmt: skip
) -> None:
    """Send records (or a fix) back where they failed: embedded, through the stages; cluster, to their topic with the original key.

    A source's record (an export's row, an API's record) goes through that source's mapping to leads.raw. Original bytes go as they were: they fail again unless the cause was fixed (embedded: exit 1)."""
    from leadhub.dlq import build_replay, open_dead_letters

    settings = ctx.obj.settings
    if file is not None and len(entry_ids) != 1:
        raise LeadhubError("--file replaces one record: give exactly one ID with it")
    fixed = None
    if file is not None:
        try:
            fixed = file.read_bytes()
        except OSError as exc:
            raise LeadhubError(f"cannot read {file}: {exc.strerror or exc}; pass an existing file with --file") from None
    # Closed before sending (embedded: the replay opens the pipeline over the same file).
    with closing(open_dead_letters(settings)) as store:
        entries = []
        for entry_id in dict.fromkeys(entry_ids):  # every id is checked before anything is sent
            entry = store.get(entry_id)
            if entry is None:
                raise _unknown(entry_id, store)
            entries.append(entry)
    sources = _sources(settings) if any(e.letter.stage.startswith("ingest:") for e in entries) else None
    replays = []
    for entry in entries:
        try:
            replays.append((entry, build_replay(entry.letter, fixed, settings.kafka.topic_prefix, sources)))
        except ValueError as exc:
            where = file if fixed is not None else f"dead letter {entry.id}"
            raise LeadhubError(f"{where}: {exc}; fix the record and replay again") from None
    if settings.mode == "embedded":
        _replay_embedded(settings, replays)
    else:
        _replay_cluster(settings, replays)


def _sources(settings):
    """The configured sources, whose mappings turn a source's record back into a lead; None when the
    sources file cannot be read (then only a RawLead given with --file can be replayed)."""
    from ingestors.sources import load_sources

    try:
        return load_sources(settings.ingest.sources)
    except LeadhubError:
        return None


def _replay_embedded(settings, replays) -> None:
    from leadhub.embedded import EmbeddedPipeline

    pipeline = EmbeddedPipeline(settings)
    try:
        from leadhub.dlq import EmbeddedDeadLetters

        letters = EmbeddedDeadLetters(pipeline.index)
        failed = 0
        for entry, rec in replays:
            before = letters.last_id()
            pipeline.resend(rec.topic, rec.key, rec.value, rec.headers)
            again = [e for e in letters.list(limit=100) if int(e.id) > before]
            if again:
                failed += 1
                typer.echo(f"{entry.id}: replayed into {rec.topic}; it failed again as dead letter {again[-1].id}: {again[-1].letter.error}")
            else:
                typer.echo(f"{entry.id}: replayed into {rec.topic}; processed into {pipeline.path}")
    finally:
        pipeline.close()
    if failed:
        raise typer.Exit(1)


def _replay_cluster(settings, replays) -> None:
    from adapters.producer import CheckedProducer

    producer = CheckedProducer(settings.kafka)
    try:
        for _, rec in replays:
            producer.send(rec.topic, rec.value, rec.key, rec.headers)
        producer.flush()
    finally:
        producer.close()
    for entry, rec in replays:
        key = rec.key.decode("utf-8", "replace") if rec.key is not None else "none"
        typer.echo(f"{entry.id}: sent to {settings.kafka.topic_prefix}{rec.topic} (key {key})")
