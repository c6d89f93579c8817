"""The briefing on a schedule: write the last complete period's files into ``briefing.out_dir`` and
e-mail the list ``briefing.recipients`` through the notification code (leadhub.notify).

Cluster: a Kubernetes CronJob runs ``leadhub report --scheduled`` (deploy/k8s/briefing-cronjob.yaml).
Embedded: ``leadhub api serve`` runs ``start_briefing_schedule`` beside the sources' loop.

The e-mail says the period's totals in Chinese and English, links to the download page and carries
the files (named in Chinese, as the page's downloads are). A period is written and sent once:
the files are named by the period, and the notice's key is the period's (the notify ledger drops a
second send), so a rerun or a restart repeats nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from leadhub.api import i18n
from leadhub.briefing.run import file_name, make_briefing, render
from leadhub.briefing.sections import Briefing

log = logging.getLogger("leadhub.briefing")


@dataclass
class ScheduledRun:
    briefing: Briefing
    written: list[Path] = field(default_factory=list)
    deliveries: list[Any] = field(default_factory=list)


def out_dir(settings: Any) -> Path:
    return settings.briefing.out_dir or settings.local_dir / "briefings"


def summary_text(briefing: Briefing, link: str | None) -> str:
    """The e-mail's body: the totals, each line in Chinese then English, and where the files are."""
    totals = briefing.section("totals")
    p = briefing.period
    lines = [f"{i18n.translate('zh', 'briefing.title')} {i18n.translate('zh', f'briefing.period.{p.kind}')} {p.label} ({p.span_text()})",
             f"{i18n.translate('en', 'briefing.title')}: {i18n.translate('en', f'briefing.period.{p.kind}')} {p.label}", ""]  # fmt: skip
    for measure, current, previous, delta, _ in totals.rows:
        lines.append(f"{i18n.translate('zh', measure)} / {i18n.translate('en', measure)}: {current} ({delta:+d} vs {previous})")
    if link:
        lines += ["", f"下载 / Download: {link}"]
    return "\n".join(lines)


def download_link(settings: Any, briefing: Briefing) -> str:
    from leadhub.notify.service import base_url

    query = urlencode({"period": briefing.period.kind, "date": briefing.period.first_day.isoformat(), "format": "xlsx"})
    return f"{base_url(settings).rstrip('/')}/briefing/download?{query}"


def send_briefing(settings: Any, briefing: Briefing, files: dict[str, bytes] | None = None) -> list[Any]:
    """E-mail the briefing's summary, with ``files`` (format -> bytes) attached, to briefing.recipients,
    once per period."""
    recipients = tuple(settings.briefing.recipients)
    if not recipients:
        return []
    from leadhub.briefing.run import CONTENT_TYPES
    from leadhub.notify import FileAttachment, Message, Notice, send_notice

    p = briefing.period
    subject = f"{i18n.translate('zh', 'briefing.title')} {p.label} / {i18n.translate('en', 'briefing.title')} {p.label}"
    text = summary_text(briefing, download_link(settings, briefing))
    attached = tuple(
        FileAttachment(file_name(briefing, fmt, settings.briefing.lang), data, CONTENT_TYPES[fmt].split(";")[0])
        for fmt, data in (files or {}).items()
    )
    message = Message(subject=subject, text=text, markdown=text, attachments=attached)
    notice = Notice(message, to=recipients, webhooks=(), key=f"briefing:{p.kind}:{p.label}")
    return send_notice(settings, notice)


def run_scheduled(settings: Any, store: Any, now: dt.datetime | None = None) -> ScheduledRun:
    """The last complete period's briefing, written in each configured format and sent."""
    cfg = settings.briefing
    briefing = make_briefing(store, cfg, cfg.period, None, now, performance=getattr(settings, "performance", None),
                             min_repeats=getattr(getattr(settings, "hot_issues", None), "min_repeats", 1))  # fmt: skip
    folder = out_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    done = ScheduledRun(briefing)
    files = {fmt: render(briefing, fmt, cfg.lang) for fmt in cfg.formats}
    for fmt, data in files.items():
        target = folder / file_name(briefing, fmt, "en")
        target.write_bytes(data)
        done.written.append(target)
    done.deliveries = send_briefing(settings, briefing, files)
    return done


def next_due(schedule: str, after: dt.datetime, zone_name: str) -> dt.datetime:
    """The schedule's next time after ``after``; the cron line is read in the briefing's zone."""
    from croniter import croniter

    from schemas.timezones import zone

    return croniter(schedule, after.astimezone(zone(zone_name))).get_next(dt.datetime)


def missed(settings: Any, now: dt.datetime) -> bool:
    """Whether the last scheduled run was due after the last complete period ended and its files are
    not there: the process was down at that time, so it runs at start (once: then the files exist)."""
    from croniter import croniter

    from leadhub.briefing.periods import last_complete
    from schemas.timezones import zone

    cfg = settings.briefing
    tz = zone(cfg.timezone)
    before = croniter(cfg.schedule, now.astimezone(tz)).get_prev(dt.datetime)
    period = last_complete(cfg.period, now, tz)
    if before < period.end:
        return False
    label = f"briefing-{period.kind}-{period.label}"
    return not all((out_dir(settings) / f"{label}.{fmt}").exists() for fmt in cfg.formats)


def start_briefing_schedule(settings: Any, store: Any, *, now: Callable[[], dt.datetime] | None = None,
                            poll_s: float = 30.0) -> Callable[[], None]:  # fmt: skip
    """Embedded mode: run the scheduled briefing in a background thread (and at once if a run was
    missed while the process was down); returns ``stop``."""
    clock = now or (lambda: dt.datetime.now(dt.UTC))
    stopping = threading.Event()
    cfg = settings.briefing

    def loop() -> None:
        start = clock()
        due = start if missed(settings, start) else next_due(cfg.schedule, start, cfg.timezone)
        while not stopping.wait(min(poll_s, max(0.0, (due - clock()).total_seconds()))):
            if clock() < due:
                continue
            try:
                done = run_scheduled(settings, store, clock())
                log.info("briefing %s written: %s", done.briefing.period.label, ", ".join(map(str, done.written)))
            except Exception:  # a failed briefing must not stop the server; the next one is tried
                log.exception("the scheduled briefing failed")
            due = next_due(cfg.schedule, clock(), cfg.timezone)

    thread = threading.Thread(target=loop, name="briefing-schedule", daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join(timeout=10)

    return stop
