"""Notifications: e-mail over SMTP and webhooks (generic JSON, DingTalk and WeCom group robots).

Sending a notice from anywhere (hotspots, the weekly briefing, …) is one call::

    from leadhub.notify import FileAttachment, Message, Notice, send_notice

    deliveries = send_notice(settings, Notice(
        Message(subject="热点预警 / Hotspot", text="plain text for e-mail", markdown="**robots** get this",
                attachments=(FileAttachment("week.xlsx", data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),)),
        to=("someone@example.org",),      # e-mail addresses (needs notify.smtp); () = no e-mail
        webhooks=None,                    # None = every configured webhook, () = none, ("name",) = those
        key="hotspot:abc",                # optional: sent once per channel, ever (a rerun sends nothing again)
    ))

Attachments go with the e-mail only (webhooks cannot carry files). It returns one ``Delivery`` per
channel (outcome ``sent``, ``already_sent`` or ``failed``) and never raises for a failed send: each
channel is retried with exponential backoff (``notify.retry``), and what still fails is recorded for
admins (``leadhub notify failures``). With ``notify.enabled`` false it sends nothing and returns [].
A long-running process keeps one ``Notifier`` (``open_notifier``) and calls ``notifier.send(notice)``.

The experience officers hear of their reports' cases by the same means: ``notify_case_event`` turns
a case event into notices (messages.py, pure), run by ``leadhub notify run`` on ``cases.events``
(consumer.py, cluster) or inside the API process (embedded.py, embedded mode).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.notify_senders import FileAttachment, Message
    from leadhub.notify.service import Delivery, Notice, Notifier, notify_case_event, open_notifier, send_notice

__all__ = ["Delivery", "FileAttachment", "Message", "Notice", "Notifier", "notify_case_event", "open_notifier", "send_notice"]


def __getattr__(name: str) -> Any:
    # Lazy: leadhub/settings.py imports leadhub.notify.settings, which must not pull the senders in.
    if name in ("Message", "FileAttachment"):
        from adapters import notify_senders

        return getattr(notify_senders, name)
    if name in __all__:
        from leadhub.notify import service

        return getattr(service, name)
    raise AttributeError(name)
