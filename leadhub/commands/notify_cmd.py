"""`leadhub notify run|test|failures`: the notifier of experience officers (and of whoever else sends notices)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import signal
import threading

import typer

from schemas.errors import ConfigError

app = typer.Typer(help="Notifications: e-mail (SMTP) and webhooks (JSON, DingTalk, WeCom).", no_args_is_help=True)


def _check_enabled(settings) -> None:
    if not settings.notify.enabled:
        raise ConfigError("notifications are off (notify.enabled is false)", hint="set notify.enabled: true and a notify.smtp or notify.webhooks")
    if settings.notify.smtp is None and not settings.notify.webhooks:
        raise ConfigError("no notification channel configured", hint="set notify.smtp and/or notify.webhooks in leadhub.yaml")


@app.command("run")
def run(ctx: typer.Context) -> None:
    """Cluster mode: read cases.events and notify the officers of their reports' status changes, until stopped."""
    from leadhub.notify.consumer import run_forever
    from leadhub.notify.service import open_notifier
    from leadhub.runtime import open_runtime

    settings = ctx.obj.settings
    _check_enabled(settings)
    if settings.mode != "cluster":
        raise ConfigError("`notify run` is the cluster mode's notifier", hint="in embedded mode `leadhub api serve` notifies by itself")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    runtime = open_runtime(settings)
    notifier = open_notifier(settings, stopping=stopping)
    typer.echo(f"notify: {settings.kafka.topic_prefix}cases.events -> officers; record in {notifier.ledger.path}; stop with Ctrl-C", err=True)
    try:
        run_forever(settings, runtime.store, notifier, stopping)
    finally:
        notifier.close()
        notifier.ledger.close()
        runtime.close()


@app.command("test")
def test(
    ctx: typer.Context,
    to: list[str] = typer.Option([], "--to", help="An e-mail address to send the test to (repeatable)."),
    webhook: list[str] = typer.Option([], "--webhook", help="A configured webhook by name (repeatable); default: all."),
    no_webhooks: bool = typer.Option(False, "--no-webhooks", help="E-mail only."),
    lang: str = typer.Option("zh", "--lang", help="zh or en."),
) -> None:
    """Send a test notice now, once, without retries, and say what each channel answered."""
    from leadhub.notify.messages import test_message
    from leadhub.notify.service import Notice, base_url, open_notifier

    settings = ctx.obj.settings
    _check_enabled(settings)
    unknown = [name for name in webhook if name not in {hook.name for hook in settings.notify.webhooks}]
    if unknown:
        raise ConfigError(f"no webhook named {', '.join(unknown)}", hint="see notify.webhooks for the names")
    if to and settings.notify.smtp is None:
        raise ConfigError("--to needs notify.smtp", hint="configure notify.smtp, or leave out --to")
    once = settings.notify.model_copy(update={"retry": settings.notify.retry.model_copy(update={"attempts": 1})})
    notifier = open_notifier(settings.model_copy(update={"notify": once}))
    try:
        hooks = () if no_webhooks else (tuple(webhook) or None)
        deliveries = notifier.send(Notice(test_message(lang, base_url(settings)), to=tuple(to), webhooks=hooks))
    finally:
        notifier.close()
        notifier.ledger.close()
    if not deliveries:
        raise ConfigError("nothing to send to", hint="pass --to ADDRESS, or configure notify.webhooks")
    for delivery in deliveries:
        typer.echo(f"{delivery.channel}: {delivery.outcome}" + (f" ({delivery.error})" if delivery.error else ""))
    if any(d.outcome == "failed" for d in deliveries):
        raise typer.Exit(1)


@app.command("failures")
def failures(
    ctx: typer.Context,
    limit: int = typer.Option(50, "--limit", min=1, max=100_000, help="The newest N."),
    as_json: bool = typer.Option(False, "--json", help="One JSON array."),
) -> None:
    """Notices that could not be sent after every retry, newest first: when, channel, subject, why."""
    from leadhub.notify.ledger import NotifyLedger
    from leadhub.notify.service import ledger_path

    path = ledger_path(ctx.obj.settings)
    if not path.is_file():
        typer.echo(f"no notification record at {path}: nothing was sent from here yet", err=True)
        rows = []
    else:
        ledger = NotifyLedger(path)
        try:
            rows = [
                {"at": dt.datetime.fromtimestamp(f.at, dt.UTC).isoformat(timespec="seconds"), "channel": f.channel,
                 "subject": f.subject, "error": f.error, "attempts": f.attempts, "key": f.key}
                for f in ledger.failures(limit)
            ]  # fmt: skip
        finally:
            ledger.close()
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        typer.echo(f"{row['at']}  {row['channel']}  {row['subject']}  -- {row['error']} ({row['attempts']} tries)")
    typer.echo(f"{len(rows)} failed notice(s)", err=True)
