"""Secrets out of text before it is printed, logged or stored.

URLs carry secrets in two places: the userinfo (`https://user:password@host`, also Kafka's
`SASL_SSL://user:password@broker:9093` and a bare `user:password@broker:9093`) and the query
(`?access_token=…`, `&sig=…`). `redact` finds both anywhere in a text — a whole URL, or an error
message that quotes one — and replaces the secret part with ``REDACTED``, leaving the rest readable
(host, path, the names of the parameters) so the message still says what went wrong.

Pure: no imports of ours, so every layer (settings, ingestors, sinks, the CLI) can use it.
"""

from __future__ import annotations

import re
from typing import Any, overload

REDACTED = "**********"  # what pydantic prints for a SecretStr: one look for every hidden value

# Query parameters whose value is a secret. Exact names, and names ending in one of the suffixes
# (access_token, x-api-key, client_secret, X-Amz-Signature, appKey, …). "key" alone must be an exact
# name or follow a separator, so that keyword=电梯 stays readable.
_SECRET_NAMES = frozenset(
    {"key", "sig", "pwd", "pass", "auth", "token", "secret", "password", "passwd", "signature", "apikey",
     "credential", "credentials", "session", "sessionid", "jsessionid", "phpsessid", "sid", "jwt", "bearer", "private_key", "code_verifier"}
)  # fmt: skip
_SECRET_SUFFIXES = (
    "token", "secret", "password", "passwd", "signature", "apikey", "appkey", "accesskey", "secretkey",
    "_key", "-key", ".key", "_sig", "-sig", "credential", "credentials", "_auth", "-auth",
)  # fmt: skip


def is_secret_name(name: str) -> bool:
    """Whether a query parameter (or header) of this name carries a secret."""
    lowered = name.strip().lower()
    return lowered in _SECRET_NAMES or lowered.endswith(_SECRET_SUFFIXES)


# user:password@ after a scheme's "//", or at a word start (Kafka's bootstrap list has no scheme).
# The user part cannot hold ":" "/" "@" or spaces, so "error: a@b" and e-mail addresses are left alone;
# the password runs to the last "@" before a space, "/" or ",", so an unescaped "@" in it is hidden too.
_USERINFO = re.compile(r"(?P<pre>//|(?<![^\s,;(\[<\"'=]))(?P<user>[^\s:/@,;\"'<>?#\[\]]+):(?P<password>(?!//)[^\s/,;]+)@(?=[^\s@])")
# A bare "token@host" userinfo after "//" is a secret too (GitHub-style https://TOKEN@host).
_TOKEN_USERINFO = re.compile(r"(?P<pre>//)(?P<token>[^\s:/@?#]+)@(?=[^\s@/])")
# The fragment counts too: OAuth's implicit flow hands the token back as #access_token=….
_QUERY = re.compile(r"(?P<pre>[?&;#](?P<name>[A-Za-z0-9_.\-\[\]]+)=)(?P<value>[^&;#?\s\"'<>]*)")


def redact(text: str) -> str:
    """`text` with every URL secret (userinfo passwords and tokens, secret query values) hidden."""
    if not text:
        return text
    out = _USERINFO.sub(lambda m: f"{m['pre']}{m['user']}:{REDACTED}@", text)
    out = _TOKEN_USERINFO.sub(lambda m: f"{m['pre']}{m['token'] if m['token'] == REDACTED else REDACTED}@", out)
    return _QUERY.sub(_hide_value, out)


def _hide_value(match: re.Match[str]) -> str:
    if not is_secret_name(match["name"]) or not match["value"]:
        return match[0]
    # An error text goes on after the URL ("…?token=x: HTTP 503"): keep that colon readable.
    value = match["value"]
    tail = value[len(value.rstrip(":")) :]
    return f"{match['pre']}{REDACTED}{tail}"


@overload
def redact_data(data: dict[str, Any]) -> dict[str, Any]: ...


@overload
def redact_data(data: object) -> object: ...


def redact_data(data: object) -> object:
    """Every string inside plain data (dicts, lists) passed through `redact`; a dict stays a dict."""
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, dict):
        return {key: redact_data(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [redact_data(value) for value in data]
    return data
