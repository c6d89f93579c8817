"""Our HTTP client for sources: timeouts, a size limit, http(s) only, conditional GET, and a guard
against requests to loopback, private, link-local and metadata addresses (re-checked on every
redirect) unless a source explicitly allows them."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from ingestors.base import SourceUnavailable

USER_AGENT = "leadhub/0.1 (+https://github.com/leadhub; public-service leads collector)"
MAX_REDIRECTS = 5


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


def check_url(url: str, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BlockedAddress(f"{url}: only http and https URLs are fetched")
    if not parts.hostname:
        raise BlockedAddress(f"{url}: no host")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80), proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise SourceUnavailable(f"{url}: cannot resolve {parts.hostname}: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if address.is_link_local or address.is_multicast or address.is_unspecified:
            # Cloud metadata (169.254.169.254) and friends: never a source, whatever the source allows.
            raise BlockedAddress(f"{url}: {parts.hostname} is {address}, a link-local or multicast address")
        if allow_private:
            continue
        if not address.is_global:
            raise BlockedAddress(
                f"{url}: {parts.hostname} is {address}, a loopback, private, link-local or reserved address; "
                "set allow_private_network: true on the source if that is intended"
            )


class HttpFetcher:
    def __init__(self, *, allow_private: bool = False, timeout_s: float = 20.0, max_bytes: int = 10 * 1024 * 1024,
                 transport: httpx.BaseTransport | None = None) -> None:  # fmt: skip
        self.allow_private = allow_private
        self.max_bytes = max_bytes
        self._client = httpx.Client(
            timeout=timeout_s, follow_redirects=False, headers={"User-Agent": USER_AGENT}, transport=transport
        )

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        for _ in range(MAX_REDIRECTS + 1):
            check_url(url, self.allow_private)
            try:
                with self._client.stream("GET", url, headers=headers) as response:
                    if response.is_redirect and "location" in response.headers:
                        url = urljoin(url, response.headers["location"])
                        continue
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) > self.max_bytes:
                            raise SourceUnavailable(f"{url}: larger than {self.max_bytes} bytes")
                    if response.status_code >= 400:
                        raise SourceUnavailable(f"{url}: HTTP {response.status_code}")
                    return Fetched(url, response.status_code, bytes(body), dict(response.headers))
            except httpx.HTTPError as exc:
                raise SourceUnavailable(f"{url}: {type(exc).__name__}: {exc}") from None
        raise SourceUnavailable(f"{url}: more than {MAX_REDIRECTS} redirects")

    def close(self) -> None:
        self._client.close()
