"""A new hotspot notifies the configured channels (leadhub/notify: e-mail to ``hotspots.notify_to``,
every configured webhook).

The detector hands each new hotspot to ``HotspotAlerts.new_hotspot`` inside the stream; sending (with
the notifier's retries and backoff) happens in a background thread, so a slow mail server never holds
up routing. Each notice is keyed ``hotspot:<id>``: the notifier's ledger sends it once per channel,
ever, so a hotspot rebuilt after a restart, or announced again by a replay, is not sent twice.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import TYPE_CHECKING

from schemas.hotspots import Hotspot, HotspotKind

if TYPE_CHECKING:
    from leadhub.settings import Settings

log = logging.getLogger("leadhub.hotspots")


def notice_text(hotspot: Hotspot, link: str | None = None) -> tuple[str, str]:
    """(subject, body) of a hotspot's notice, in Chinese and English."""
    where = " / ".join(part for part in (hotspot.category, hotspot.place) if part) or "-"
    if hotspot.kind is HotspotKind.surge:
        subject = f"热点预警 / Surge: {where}"
        body = (
            f"{hotspot.window.hours:g} 小时内 {hotspot.count} 条线索，基线 {hotspot.baseline:.2f} 条 (p={hotspot.p_value:.2g})\n"
            f"{hotspot.count} leads in {hotspot.window.hours:g} h against a baseline of {hotspot.baseline:.2f} (p={hotspot.p_value:.2g})"
        )
    else:
        subject = f"案件快速增长 / Growing case: {where}"
        body = (
            f"{hotspot.window.hours:g} 小时内 {hotspot.count} 次反映，来自 {len(hotspot.channels)} 个渠道 ({', '.join(hotspot.channels)})\n"
            f"{hotspot.count} reports in {hotspot.window.hours:g} h from {len(hotspot.channels)} channels"
        )
    cases = ", ".join(hotspot.case_ids[:10])
    text = f"{body}\n案件 / cases: {cases}\n{hotspot.first_seen.isoformat()} – {hotspot.last_seen.isoformat()}"
    if link:
        text += f"\n{link}"
    return subject, text


class HotspotAlerts:
    """Sends the notice of each new hotspot in a background thread (``close`` waits for the queue)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._queue: queue.Queue[Hotspot | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="hotspot-alerts", daemon=True)
        self._thread.start()

    def new_hotspot(self, hotspot: Hotspot) -> None:
        self._queue.put(hotspot)

    def close(self, timeout_s: float = 30.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout=timeout_s)

    def _run(self) -> None:
        while (hotspot := self._queue.get()) is not None:
            try:
                self._send(hotspot)
            except Exception:  # noqa: BLE001 - a notice that cannot be sent is logged; the stream goes on
                log.exception("hotspot %s: the notice could not be sent", hotspot.hotspot_id)

    def _send(self, hotspot: Hotspot) -> None:
        from leadhub.notify import Message, Notice, send_notice

        base = self.settings.api.public_url or f"http://{self.settings.api.host}:{self.settings.api.port}"
        link = f"{base.rstrip('/')}/dashboard#hotspots"
        subject, text = notice_text(hotspot, link)
        notice = Notice(
            Message(subject=subject, text=text, markdown=f"**{subject}**\n\n{text}", link=link,
                    data={"hotspot": hotspot.model_dump(mode="json")}),
            to=tuple(self.settings.hotspots.notify_to), key=f"hotspot:{hotspot.hotspot_id}",
        )  # fmt: skip
        for delivery in send_notice(self.settings, notice):
            log.info("hotspot %s: %s", hotspot.hotspot_id, delivery)


def hotspot_alerts(settings: Settings) -> HotspotAlerts | None:
    """The alerts of this installation, or None when notifications are off."""
    notify = getattr(settings, "notify", None)  # the notifications' section
    if not settings.hotspots.enabled or notify is None or not notify.enabled:
        return None
    return HotspotAlerts(settings)
