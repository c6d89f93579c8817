"""Our HTTP client for sources: timeouts, a size limit, http(s) only, conditional GET, and a guard
against requests to loopback, private, link-local and metadata addresses (re-checked on every
redirect) unless a source explicitly allows them; cloud metadata is refused even then (addresses.py
decides). URLs in messages are redacted: a source's URL may carry a token."""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from ipaddress import ip_address
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from ingestors.addresses import (
    METADATA_HOSTS,
    IPAddress,
    NotAnAddress,
    literal_address,
    refusal,
)
from ingestors.base import SourceUnavailable
from schemas.redaction import redact

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
USER_AGENT = "leadhub/0.1 (+https://github.com/leadhub; public-service leads collector)"
MAX_REDIRECTS = 5

Resolver = Callable[[str, int], list[str]]


class BlockedAddress(SourceUnavailable):
    """The URL points to an address sources may not reach."""


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    content: bytes
    headers: dict[str, str]

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def system_resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]  # an IPv4 or IPv6 address: the sockaddr's first item


def addresses_of(host: str, port: int, resolve: Resolver) -> list[IPAddress]:
    """What a connection to ``host`` may reach: the literal address it spells, or what it resolves to."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    return [ip_address(answer.split("%")[0]) for answer in resolve(host, port)]


def check_url(url: str, allow_private: bool, resolve: Resolver = system_resolve) -> None:
    shown = redact(url)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BlockedAddress(f"{shown}: only http and https URLs are fetched")
    try:
        host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:  # a port that is not a number
        raise BlockedAddress(f"{shown}: {exc}") from None
    if not host:
        raise BlockedAddress(f"{shown}: no host")
    if host.rstrip(".") in METADATA_HOSTS:
        raise BlockedAddress(f"{shown}: {host} names a cloud metadata service, never a source")
    try:
        addresses = addresses_of(host, port, resolve)
    except NotAnAddress as exc:
        raise BlockedAddress(f"{shown}: {exc}") from None
    except (socket.gaierror, UnicodeError) as exc:
        raise SourceUnavailable(f"{shown}: cannot resolve {host}: {exc}") from None
    why = _refused(host, addresses, allow_private)
    if why:
        raise BlockedAddress(f"{shown}: {why}")


def _refused(host: str, addresses: list[IPAddress], allow_private: bool) -> str | None:
    """Why a connection to ``host`` may not go to one of its ``addresses`` (None: to any of them)."""
    for address in addresses:
        reason = refusal(address, allow_private)
        if reason:
            # Say which address the host stands for, unless the host is that address written plainly.
            return reason if host.strip("[]") == str(address) else f"{host} is {address}; {reason}"
    return None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or ""), parts.port


class GuardedBackend(httpcore.NetworkBackend):
    """Connects only to an address the guard accepts, and to exactly that address: the name is
    resolved once, here, so an answer that changes after check_url (DNS rebinding) is judged too."""

    def __init__(self, allow_private: bool, resolve: Resolver = system_resolve,
                 inner: httpcore.NetworkBackend | None = None) -> None:  # fmt: skip
        self.allow_private = allow_private
        self.resolve = resolve
        self.inner = inner or httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options=None) -> httpcore.NetworkStream:  # fmt: skip
        try:
            addresses = addresses_of(host, port, self.resolve)
        except NotAnAddress as exc:
            raise BlockedAddress(str(exc)) from None
        except (socket.gaierror, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        why = _refused(host, addresses, self.allow_private)
        if why:
            raise BlockedAddress(why)
        last: Exception | None = None
        for address in addresses:  # all accepted; try them in the resolver's order, as a socket would
            try:
                return self.inner.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError(f"{host} resolves to no address")

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options=None) -> httpcore.NetworkStream:
        raise BlockedAddress("sources are fetched over TCP only")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


def guarded_transport(allow_private: bool, resolve: Resolver = system_resolve) -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport()
    # httpx takes no network backend of its own; its pool does (a test checks the attribute is there).
    transport._pool._network_backend = GuardedBackend(allow_private, resolve)
    return transport


class HttpFetcher:
    """GET with the guard on every hop. ``headers`` are the source's own (API keys, tokens): they go
    to the source's origin only, never along a redirect to another host, and are never printed."""

    def __init__(self, *, allow_private: bool = False, timeout_s: float = 20.0, max_bytes: int = DEFAULT_MAX_BYTES,
                 headers: Mapping[str, str] | None = None, transport: httpx.BaseTransport | None = None,
                 resolve: Resolver = system_resolve) -> None:  # fmt: skip
        self.allow_private = allow_private
        self.max_bytes = max_bytes
        self.resolve = resolve
        self._source_headers = dict(headers or {})
        self._client = httpx.Client(
            timeout=timeout_s, follow_redirects=False, headers={"User-Agent": USER_AGENT},
            transport=transport or guarded_transport(allow_private, resolve),
        )  # fmt: skip

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        conditional = {}
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified
        origin = _origin(url)
        for _ in range(MAX_REDIRECTS + 1):
            check_url(url, self.allow_private, self.resolve)
            headers = {**self._source_headers, **conditional} if _origin(url) == origin else conditional
            try:
                with self._client.stream("GET", url, headers=headers) as response:
                    if response.is_redirect and "location" in response.headers:
                        url = urljoin(url, response.headers["location"])
                        continue
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) > self.max_bytes:
                            raise SourceUnavailable(f"{redact(url)}: larger than {self.max_bytes} bytes")
                    if response.status_code >= 400:
                        raise SourceUnavailable(f"{redact(url)}: HTTP {response.status_code}{error_excerpt(bytes(body))}")
                    return Fetched(url, response.status_code, bytes(body), dict(response.headers))
            except BlockedAddress as exc:  # from the connection itself: the name now resolves elsewhere
                raise BlockedAddress(f"{redact(url)}: {exc}") from None
            except httpx.HTTPError as exc:
                raise SourceUnavailable(redact(f"{url}: {type(exc).__name__}: {exc}")) from None
        raise SourceUnavailable(f"{redact(url)}: more than {MAX_REDIRECTS} redirects")

    def close(self) -> None:
        self._client.close()


def error_excerpt(body: bytes, limit: int = 200) -> str:
    """The start of an error response's body, on one line: a server's own reason (an Open311 error
    list, a JSON API's message) says more than the status code alone."""
    text = " ".join(body[: limit * 4].decode("utf-8", errors="replace").split())
    if not text:
        return ""
    return ": " + redact(text[:limit] + ("…" if len(text) > limit else ""))


TransportFactory = Callable[[bool], httpx.BaseTransport]  # allow_private -> a transport for one client


@dataclass(frozen=True)
class HttpClients:
    """Where kinds get their HTTP clients: the runner hands one to every fetch (``FetchContext.http``)
    instead of each kind building its own, so a test can route them to a server of its own and a
    deployment can swap the transport (a proxy, other CA roots). The guard is not the transport's to
    give up: every request and every redirect hop still passes check_url; only the default transport
    also judges the address each connection reaches (GuardedBackend).

    ``transport``: None for the guarded default; an httpx transport shared by every client (e.g. an
    httpx.MockTransport); or a callable building one per client from the source's allow_private."""

    transport: httpx.BaseTransport | TransportFactory | None = None
    resolve: Resolver = system_resolve

    def open(self, *, allow_private: bool = False, timeout_s: float = 20.0, max_bytes: int = DEFAULT_MAX_BYTES,
             headers: Mapping[str, str] | None = None) -> HttpFetcher:  # fmt: skip
        transport = self.transport
        if transport is not None and not isinstance(transport, httpx.BaseTransport):
            transport = transport(allow_private)
        return HttpFetcher(allow_private=allow_private, timeout_s=timeout_s, max_bytes=max_bytes, headers=headers,
                           transport=transport, resolve=self.resolve)  # fmt: skip

    def check(self, url: str, allow_private: bool) -> None:
        """Refuse a URL the clients would refuse, before anything else is started for it."""
        check_url(url, allow_private, self.resolve)
