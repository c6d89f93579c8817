"""Sending notices with retries and the dedup record, and turning one case event into its notices."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from adapters.notify_senders import Message, SendError, SmtpSender, WebhookSender
from leadhub.notify.ledger import NotifyLedger
from leadhub.notify.messages import (
    INTAKE_SOURCE,
    backoff_delays,
    email_channel,
    notifies,
    reporters,
    status_change,
    status_message,
    webhook_channel,
)
from leadhub.notify.settings import NotifySettings
from leadhub.queries import Filters, SearchRequest, Sort
from schemas.errors import LeadhubError

if TYPE_CHECKING:
    from leadhub.readers.contract import ReadStore
    from leadhub.settings import Settings

log = logging.getLogger("leadhub.notify")
REPORTS_PER_CASE = 1000


class NotifyStopped(LeadhubError):
    """Stopped while waiting to retry: nothing recorded, the message is tried again after a restart."""


@dataclass(frozen=True)
class Notice:
    """One notice to send: ``message`` by e-mail to each of ``to``, and to the webhooks named in
    ``webhooks`` (None: every configured one; (): none).

    ``key``: a notice sent under a key is sent once per channel, ever (the key + the channel is
    recorded); None sends every time. ``about``: whom it concerns, when several notices of one key
    go to the same webhook (one per officer of a case)."""

    message: Message
    to: tuple[str, ...] = ()
    webhooks: tuple[str, ...] | None = None
    key: str | None = None
    about: str | None = None


@dataclass(frozen=True)
class Delivery:
    channel: str
    outcome: Literal["sent", "already_sent", "failed"]
    attempts: int = 0
    error: str | None = None


class Notifier:
    """Sends notices through the configured channels. A failed send is tried again after
    ``retry.backoff_s``, doubling, ``retry.attempts`` times in all; then it is recorded as a failure
    (``leadhub notify failures``) and the next channel goes on: a dead channel never stops the others."""

    def __init__(
        self, settings: NotifySettings, ledger: NotifyLedger, *, stopping: threading.Event | None = None,
        sleep: Callable[[float], bool] | None = None,
    ) -> None:  # fmt: skip
        self.settings = settings
        self.ledger = ledger
        self.smtp = SmtpSender(settings.smtp) if settings.smtp else None
        self.webhooks = {hook.name: WebhookSender(hook) for hook in settings.webhooks}
        self._stopping = stopping or threading.Event()
        # Waits end early when stopping; returns True then.
        self._sleep = sleep or self._stopping.wait

    def send(self, notice: Notice) -> list[Delivery]:
        if not self.settings.enabled:
            return []
        attempts: list[tuple[str, Callable[[], None]]] = []
        if self.smtp is not None:
            for address in dict.fromkeys(notice.to):
                attempts.append((email_channel(address), partial(self.smtp.send, address, notice.message)))
        names = self.webhooks if notice.webhooks is None else [n for n in notice.webhooks if n in self.webhooks]
        for name in names:
            attempts.append((webhook_channel(name, notice.about), partial(self.webhooks[name].send, notice.message)))
        return [self._deliver(notice, channel, send) for channel, send in attempts]

    def _deliver(self, notice: Notice, channel: str, send: Callable[[], None]) -> Delivery:
        key = f"{notice.key}|{channel}" if notice.key else None
        if key and self.ledger.was_sent(key):
            return Delivery(channel, "already_sent")
        delays = backoff_delays(self.settings.retry.attempts, self.settings.retry.backoff_s, self.settings.retry.max_backoff_s)
        tries = 0
        while True:
            tries += 1
            try:
                send()
            except SendError as exc:
                if exc.permanent or tries > len(delays):
                    log.warning("notice %r not sent on %s after %d tries: %s", notice.message.subject, channel, tries, exc.message)
                    self.ledger.record_failure(key or "-", channel, notice.message.subject, exc.message, tries)
                    return Delivery(channel, "failed", tries, exc.message)
                log.info("notice on %s failed (%s); trying again in %.1f s", channel, exc.message, delays[tries - 1])
                if self._sleep(delays[tries - 1]):
                    raise NotifyStopped(f"stopped while retrying {channel}") from None
                continue
            if key:
                self.ledger.mark_sent(key)
            log.info("notice %r sent on %s", notice.message.subject, channel)
            return Delivery(channel, "sent", tries)

    def close(self) -> None:
        for hook in self.webhooks.values():
            hook.close()


def ledger_path(settings: Settings):
    return settings.notify.state_db or settings.local_dir / "notify.sqlite"


def open_notifier(settings: Settings, stopping: threading.Event | None = None) -> Notifier:
    return Notifier(settings.notify, NotifyLedger(ledger_path(settings)), stopping=stopping)


def send_notice(settings: Settings, notice: Notice) -> list[Delivery]:
    """Send one notice now through the configured channels (see the package docstring)."""
    notifier = open_notifier(settings)
    try:
        return notifier.send(notice)
    finally:
        notifier.close()
        notifier.ledger.close()


def base_url(settings: Settings) -> str:
    return settings.api.public_url or f"http://{settings.api.host}:{settings.api.port}"


def case_reports(store: ReadStore, case: dict[str, Any]) -> list[dict[str, Any]]:
    """The officers' field reports in the case, the cases merged into it included."""
    own = [case["case_id"], *(m["case_id"] for m in case.get("merged") or [])]
    request = SearchRequest(
        kind="leads", filters=Filters(case_id=own, source=[INTAKE_SOURCE]), sort=Sort.oldest, size=REPORTS_PER_CASE, facets=False
    )
    return list(store.search(request).hits)


def notify_case_event(
    settings: Settings, store: ReadStore, notifier: Notifier, case_id: str, event_id: str, *,
    wait_s: float = 0.0, poll_s: float = 0.5, stopping: threading.Event | None = None,
) -> list[Delivery]:  # fmt: skip
    """Notify the officers who reported case ``case_id`` of the change event ``event_id`` made, if it
    is one they hear of. Waits up to ``wait_s`` for the event to show in the case's history (the
    sink may not have written it yet). Store errors propagate: the caller tries the event again."""
    deadline = time.monotonic() + wait_s
    while True:
        case = store.get("cases", case_id)
        change = status_change(case, event_id) if case else None
        if change is not None or time.monotonic() >= deadline or (stopping and stopping.is_set()):
            break
        time.sleep(poll_s)
    if change is None:
        log.info("event %s is not in case %s's history (refused, or not written yet): nothing to notify", event_id, case_id)
        return []
    if not notifies(change, settings.notify.statuses):
        return []
    assert case is not None
    deliveries: list[Delivery] = []
    for officer in reporters(case_reports(store, case), settings.api.keys):
        message = status_message(change, officer, base_url(settings))
        notice = Notice(message, to=(officer.email,) if officer.email else (), key=f"{case_id}|{event_id}", about=officer.name)
        deliveries.extend(notifier.send(notice))
    return deliveries


def summary(deliveries: Sequence[Delivery]) -> str:
    counts: dict[str, int] = {}
    for delivery in deliveries:
        counts[delivery.outcome] = counts.get(delivery.outcome, 0) + 1
    return ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "nothing to send"
