"""What a status change means for the officers who reported it, and the words they get. Pure.

- ``status_change(case, event_id)``: the change an event made, read from the case's history (the
  history, not the event, is the truth: an event the status machine refused is not in it);
- ``notifies(change, statuses)``: whether the reporters hear of it;
- ``reporters(leads, keys)``: the experience officers whose reports are in the case;
- ``status_message(change, officer, base_url)``: the message, in the officer's language;
- ``dedup_key(case_id, event_id, channel)``: one message per status change and channel, ever;
- ``backoff_delays(retry)``: the waits between tries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from adapters.notify_senders import Message
from leadhub.api import i18n
from schemas.cases import Action, Status
from schemas.status_machine import TRANSITIONS

INTAKE_SOURCE = "officer-intake"  # leadhub.intake.INTAKE_SOURCE (not imported: that module pulls in the API's models)
MY_PAGE = "/my"


@dataclass(frozen=True)
class Officer:
    name: str
    email: str | None = None
    lang: str = "zh"


@dataclass(frozen=True)
class StatusChange:
    case_id: str
    event_id: str
    action: Action
    from_status: Status
    to_status: Status
    title: str
    department: str | None
    resolution: str | None


def actions_reaching(statuses: Iterable[Status]) -> frozenset[Action]:
    """The actions that can move a case into one of ``statuses`` (the status machine's table): the
    consumer reads a case only for these, not for every note."""
    wanted = set(statuses)
    return frozenset(action for action, moves in TRANSITIONS.items() if wanted & {to for to in moves.values() if to})


def status_change(case: Mapping[str, Any], event_id: str) -> StatusChange | None:
    """The change event ``event_id`` made to ``case`` (a case document), or None if it is not in the
    case's history (refused by the status machine, or not applied yet)."""
    for entry in reversed(case.get("history") or []):
        if entry.get("event_id") == event_id:
            return StatusChange(
                case_id=str(case["case_id"]),
                event_id=event_id,
                action=Action(entry["action"]),
                from_status=Status(entry["from_status"]),
                to_status=Status(entry["to_status"]),
                title=str(case.get("title") or ""),
                department=case.get("department") or entry.get("department"),
                resolution=case.get("resolution"),
            )
    return None


def notifies(change: StatusChange, statuses: Iterable[Status]) -> bool:
    """A move into one of ``statuses``; assigning again counts too (another department takes it over).
    A merge closes the case only as a duplicate: its reports live on in the case it joined."""
    if change.to_status not in set(statuses) or change.action is Action.merge:
        return False
    return change.from_status != change.to_status or change.action is Action.assign


def reporters(leads: Iterable[Mapping[str, Any]], keys: Iterable[Any]) -> list[Officer]:
    """The experience officers whose field reports are among ``leads``, each once, in report order,
    with the e-mail and language of their API key (``keys``: ApiKeySpec). An author without a key
    (removed since) is still named, with no address."""
    by_name = {spec.name: spec for spec in keys}
    found: dict[str, Officer] = {}
    for lead in leads:
        author = lead.get("author")
        if lead.get("source") != INTAKE_SOURCE or not author or author in found:
            continue
        spec = by_name.get(author)
        found[author] = Officer(author, getattr(spec, "email", None), getattr(spec, "lang", None) or "zh")
    return list(found.values())


def my_link(base_url: str) -> str:
    return base_url.rstrip("/") + MY_PAGE


def status_message(change: StatusChange, officer: Officer, base_url: str) -> Message:
    """The message to ``officer`` about ``change``: the case's title, its new status in words, the
    department, the result once there is one, and the link to their reports."""
    lang = officer.lang if officer.lang in i18n.LANGUAGES else i18n.DEFAULT
    t = lambda key, **values: i18n.translate(lang, key, **values)  # noqa: E731
    title = change.title.strip() or t("notify.untitled")
    status = i18n.label(lang, "status", change.to_status.value)
    department = i18n.data_name(lang, "departments", change.department) if change.department else t("notify.no_department")
    link = my_link(base_url)
    lines = [
        t("notify.greeting", name=officer.name),
        t("notify.changed", title=title, status=status),
        t("notify.department", department=department),
    ]
    result = change.resolution if change.to_status in (Status.resolved, Status.closed) else None
    if result:
        lines.append(t("notify.result", result=result))
    lines.append(t("notify.link", link=link))
    subject = t("notify.subject", title=_short(title), status=status)
    markdown = "\n\n".join([f"#### {_md(subject)}", *(_md(line) for line in lines[1:-1]), f"[{t('notify.open')}]({link})"])
    data = {
        "case_id": change.case_id, "event_id": change.event_id, "status": change.to_status.value,
        "department": change.department, "result": result, "officer": officer.name, "lang": lang,
    }  # fmt: skip
    return Message(subject=subject, text="\n\n".join(lines) + "\n", markdown=markdown, link=link, data=data)


def test_message(lang: str, base_url: str) -> Message:
    lang = lang if lang in i18n.LANGUAGES else i18n.DEFAULT
    link = my_link(base_url)
    subject = i18n.translate(lang, "notify.test_subject")
    body = i18n.translate(lang, "notify.test_body")
    return Message(subject=subject, text=f"{body}\n\n{link}\n", markdown=f"#### {subject}\n\n{body}\n\n[{link}]({link})", link=link)


def dedup_key(case_id: str, event_id: str, channel: str) -> str:
    """One status change (an event of the case's history) sent on one channel: sent once, ever."""
    return f"{case_id}|{event_id}|{channel}"


def email_channel(address: str) -> str:
    return f"email:{address.lower()}"


def webhook_channel(name: str, officer: str | None = None) -> str:
    # A group robot gets one message per officer of the case: each names its own report's officer.
    return f"webhook:{name}" + (f":{officer}" if officer else "")


def backoff_delays(attempts: int, backoff_s: float, max_backoff_s: float) -> list[float]:
    """The waits before the 2nd, 3rd, … try: backoff_s, doubled each time, capped."""
    return [min(backoff_s * 2**i, max_backoff_s) for i in range(max(0, attempts - 1))]


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _md(text: str) -> str:
    # The robots render markdown: a title such as "*1 [x]" must not turn into markup or a link.
    return "".join("\\" + ch if ch in "\\`*_[]#" else ch for ch in text)
