"""Senders of notices: e-mail over SMTP, and webhooks (generic JSON, DingTalk and WeCom group robots).

Each sender does one attempt and says how it failed: ``SendError.permanent`` (a refused recipient, a
rejected key: trying again cannot help) or not (a timeout, a 5xx, a robot's rate limit). Retries,
backoff and the record of what was sent live above, in leadhub/notify. Secrets (SMTP password, robot
URLs with their tokens, DingTalk signing secret) are SecretStr and never logged: errors name the
webhook by its ``name`` and the SMTP server by host and port.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import time
import urllib.parse
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import Field, SecretStr

from schemas.errors import LeadhubError
from schemas.sections import Section

# The robots answer 200 with an error code; these two mean "too many messages, wait" (not permanent).
DINGTALK_RATE_LIMITED = {130101, 130102}
WECOM_RATE_LIMITED = {45009, 45033}
RETRYABLE_HTTP = {408, 425, 429}
WECOM_MARKDOWN_MAX_BYTES = 4096  # WeCom refuses a longer markdown content


class SmtpSettings(Section):
    host: str = Field(..., min_length=1, description="SMTP server host.")
    port: int | None = Field(None, ge=1, le=65535, description="Default: 465 for ssl, 587 for starttls, 25 for plain.")
    security: Literal["starttls", "ssl", "plain"] = Field(
        "starttls", description="starttls (submission, port 587), ssl (implicit TLS, port 465), or plain (no TLS: local relays only)."
    )
    username: str | None = None
    password: SecretStr | None = None
    sender: str = Field(..., min_length=3, description="The From address.")
    sender_name: str | None = Field("leadhub", description="The From display name.")
    ssl_cafile: Path | None = Field(None, description="CA bundle to verify the server with (default: the system's).")
    timeout_s: float = Field(10.0, gt=0, le=300)

    @property
    def resolved_port(self) -> int:
        return self.port or {"ssl": 465, "starttls": 587, "plain": 25}[self.security]


class WebhookSettings(Section):
    name: str = Field(..., min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$", description="Names it in logs and failures.")
    kind: Literal["json", "dingtalk", "wecom"] = Field(
        "json", description="json: {subject, text, link, ...} POSTed as is; dingtalk / wecom: the group robot's markdown message."
    )
    url: SecretStr = Field(..., description="The webhook URL (robot URLs carry their access token: a secret).")
    secret: SecretStr | None = Field(None, description="DingTalk: the robot's signing secret (加签), SEC...; signs each message.")
    bearer_token: SecretStr | None = Field(None, description="json: sent as Authorization: Bearer.")
    timeout_s: float = Field(10.0, gt=0, le=120)


@dataclass(frozen=True)
class FileAttachment:
    """A file sent with an e-mail (webhooks carry none: give them a link in the text)."""

    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Message:
    """What one notice says: a subject, plain text (e-mail), markdown (robots) and a link."""

    subject: str
    text: str
    markdown: str | None = None
    link: str | None = None
    data: dict[str, Any] = field(default_factory=dict)  # extra fields for generic JSON webhooks
    attachments: tuple[FileAttachment, ...] = ()  # e-mail only


class SendError(LeadhubError):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


# --- e-mail -------------------------------------------------------------------------------------


def email_message(smtp: SmtpSettings, to: str, message: Message) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = formataddr((smtp.sender_name, smtp.sender)) if smtp.sender_name else smtp.sender
    mail["To"] = to
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2] or None)
    mail.set_content(message.text, charset="utf-8")
    for attachment in message.attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        mail.add_attachment(attachment.content, maintype=maintype, subtype=subtype or "octet-stream", filename=attachment.filename)
    return mail


class SmtpSender:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def _context(self) -> ssl.SSLContext:
        cafile = str(self.settings.ssl_cafile) if self.settings.ssl_cafile else None
        return ssl.create_default_context(cafile=cafile)

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.security == "ssl":
            return smtplib.SMTP_SSL(s.host, s.resolved_port, timeout=s.timeout_s, context=self._context())
        client = smtplib.SMTP(s.host, s.resolved_port, timeout=s.timeout_s)
        if s.security == "starttls":
            client.starttls(context=self._context())
        return client

    def send(self, to: str, message: Message) -> None:
        s = self.settings
        where = f"SMTP {s.host}:{s.resolved_port}"
        try:
            with self._connect() as client:
                if s.username:
                    client.login(s.username, s.password.get_secret_value() if s.password else "")
                client.send_message(email_message(s, to, message))
        except smtplib.SMTPAuthenticationError as exc:
            raise SendError(f"{where} refused the login ({exc.smtp_code})", permanent=True) from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise SendError(f"{where} refused recipient {to} ({codes})", permanent=all(c >= 500 for c in codes)) from None
        except smtplib.SMTPResponseException as exc:  # sender refused, data refused, …
            raise SendError(f"{where} answered {exc.smtp_code}: {_text(exc.smtp_error)}", permanent=exc.smtp_code >= 500) from None
        except (smtplib.SMTPException, OSError) as exc:  # connection refused, timeouts, TLS failures
            raise SendError(f"{where} unreachable: {type(exc).__name__}: {exc}", permanent=False) from None


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


# --- webhooks -----------------------------------------------------------------------------------


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: HMAC-SHA256 over "timestamp\\nsecret" keyed with the secret, base64, as the
    ``timestamp`` and ``sign`` query parameters (the robot refuses a timestamp over an hour off)."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    sign = base64.b64encode(digest).decode("ascii")
    joiner = "&" if urllib.parse.urlsplit(url).query else "?"
    return f"{url}{joiner}timestamp={timestamp_ms}&sign={urllib.parse.quote_plus(sign)}"


def _cut_utf8(text: str, max_bytes: int) -> str:
    data = text.encode("utf-8")
    return text if len(data) <= max_bytes else data[: max_bytes - 3].decode("utf-8", "ignore") + "…"


def webhook_body(kind: str, message: Message) -> dict[str, Any]:
    """The JSON body for a webhook kind: DingTalk's and WeCom's documented markdown messages, or a
    plain object with the subject, text, link and the notice's extra data."""
    markdown = message.markdown or message.text
    if kind == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": message.subject, "text": markdown}}
    if kind == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": _cut_utf8(markdown, WECOM_MARKDOWN_MAX_BYTES)}}
    return {"subject": message.subject, "text": message.text, "link": message.link, **message.data}


class _HideQueries(logging.Filter):
    """httpx logs every request's URL at INFO; a robot's URL carries its token (and DingTalk's its
    signature) in the query, so for the webhooks' hosts and paths the query is logged as ``?…``."""

    def __init__(self) -> None:
        super().__init__()
        self.prefixes: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 2 and isinstance(args[1], httpx.URL):
            url = args[1]
            bare = str(url.copy_with(query=None, fragment=None))
            if url.query and any(bare.startswith(prefix) for prefix in self.prefixes):
                record.args = (args[0], bare + "?…", *args[2:])
        return True


_HIDE_QUERIES = _HideQueries()
logging.getLogger("httpx").addFilter(_HIDE_QUERIES)


class WebhookSender:
    def __init__(self, settings: WebhookSettings, client: httpx.Client | None = None, clock=time.time) -> None:
        self.settings = settings
        url = httpx.URL(settings.url.get_secret_value())
        _HIDE_QUERIES.prefixes.add(str(url.copy_with(query=None, fragment=None)))
        self._client = client or httpx.Client(timeout=settings.timeout_s, follow_redirects=False)
        self._clock = clock

    def request_url(self) -> str:
        url = self.settings.url.get_secret_value()
        if self.settings.kind == "dingtalk" and self.settings.secret is not None:
            return dingtalk_signed_url(url, self.settings.secret.get_secret_value(), int(self._clock() * 1000))
        return url

    def send(self, message: Message) -> None:
        s = self.settings
        where = f"webhook {s.name}"
        headers = {"content-type": "application/json; charset=utf-8"}
        if s.bearer_token is not None:
            headers["authorization"] = f"Bearer {s.bearer_token.get_secret_value()}"
        body = json.dumps(webhook_body(s.kind, message), ensure_ascii=False).encode("utf-8")
        try:
            response = self._client.post(self.request_url(), content=body, headers=headers, timeout=s.timeout_s)
        except httpx.HTTPError as exc:  # never the URL in the message: it holds the token
            raise SendError(f"{where} unreachable: {type(exc).__name__}", permanent=False) from None
        if response.status_code >= 300:
            permanent = response.status_code < 500 and response.status_code not in RETRYABLE_HTTP
            raise SendError(f"{where} answered HTTP {response.status_code}", permanent=permanent)
        if s.kind in ("dingtalk", "wecom"):
            _check_robot_answer(where, s.kind, response)

    def close(self) -> None:
        self._client.close()


def _check_robot_answer(where: str, kind: str, response: httpx.Response) -> None:
    try:
        answer = response.json()
    except ValueError:
        raise SendError(f"{where} answered something other than JSON", permanent=False) from None
    code = answer.get("errcode", 0) if isinstance(answer, dict) else 0
    if code:
        limited = DINGTALK_RATE_LIMITED if kind == "dingtalk" else WECOM_RATE_LIMITED
        raise SendError(f"{where} refused the message: errcode {code} {answer.get('errmsg', '')}", permanent=code not in limited)
