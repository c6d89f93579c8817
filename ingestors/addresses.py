"""Which addresses a source may reach: pure decisions on IP addresses, no network.

An IPv6 address can carry an IPv4 one (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d,
NAT64 64:ff9b::/96 and 64:ff9b:1::/48, 6to4 2002::/16, Teredo 2001::/32), and a gateway or the
kernel may deliver it there; so an address is judged together with every IPv4 address it embeds,
and the strictest verdict wins. A host may also spell an IPv4 address the way inet_aton reads it
(2852039166, 0xA9FEA9FE, 0251.0376.0251.0376, 169.254.43518): that is parsed here, to the address
the connection would really go to, instead of being handed to a resolver.

Cloud metadata endpoints hand out credentials: they are refused whatever a source allows.
"""

from __future__ import annotations

import ipaddress
import re
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

IPAddress = IPv4Address | IPv6Address

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle, Huawei … instance metadata
        "169.254.170.2",  # AWS ECS task metadata and credentials
        "169.254.169.253",  # AWS VPC DNS
        "169.254.169.123",  # AWS time sync
        "169.254.0.23",  # Tencent Cloud metadata
        "100.100.100.200",  # Alibaba Cloud metadata
        "168.63.129.16",  # Azure WireServer
        "192.0.0.192",  # Oracle Cloud classic metadata
        "fd00:ec2::254",  # AWS instance metadata over IPv6
        "fd00:ec2::253",  # AWS VPC DNS over IPv6
        "fd00:ec2::123",  # AWS time sync over IPv6
    )
)
# Names that mean a metadata service on some cloud even where the local resolver says otherwise.
METADATA_HOSTS = frozenset(
    {"metadata.google.internal", "metadata.goog", "metadata", "metadata.tencentyun.com", "instance-data",
     "instance-data.ec2.internal", "metadata.azure.com"}
)  # fmt: skip

_MAPPED = IPv6Network("::ffff:0:0/96")
_TRANSLATED = IPv6Network("::ffff:0:0:0/96")  # SIIT, RFC 2765
_COMPATIBLE = IPv6Network("::/96")
_NAT64 = IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = IPv6Network("64:ff9b:1::/48")  # RFC 8215: local-use, any RFC 6052 prefix length inside
_SITE_LOCAL = IPv6Network("fec0::/10")  # deprecated, but still routed inside some networks
_THIS_NETWORK = IPv4Network("0.0.0.0/8")  # Linux delivers 0.0.0.0 to the local host


def embedded_ipv4(address: IPv6Address) -> list[IPv4Address]:
    """Every IPv4 address an IPv6 address may stand for on its way to a host."""
    value = int(address)
    found: list[IPv4Address] = []
    if address in _MAPPED or address in _TRANSLATED or address in _COMPATIBLE or address in _NAT64:
        found.append(IPv4Address(value & 0xFFFFFFFF))
    if address in _NAT64_LOCAL:
        # RFC 6052 places the IPv4 bits after the prefix, skipping bits 64-71; try each prefix length.
        octets = address.packed
        for start in (6, 7, 8):  # /48, /56, /64
            bits = [b for i, b in enumerate(octets[start:], start) if i != 8][:4]
            found.append(IPv4Address(bytes(bits)))
        found.append(IPv4Address(octets[12:16]))  # /96
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)  # (server, client)
    return found


def refusal(address: IPAddress, allow_private: bool) -> str | None:
    """Why a source may not connect to ``address`` (None: it may). ``allow_private`` admits loopback,
    private and other non-global addresses, never link-local, multicast, unspecified or metadata."""
    judged: list[IPAddress] = [address]
    if isinstance(address, IPv6Address):
        address = IPv6Address(int(address))  # without a %zone, which would make it unequal to the listed ones
        judged = [address, *embedded_ipv4(address)]

    def named(candidate: IPAddress) -> str:
        return str(candidate) if candidate == address else f"{address} (which carries {candidate})"

    for candidate in judged:
        if candidate in METADATA_ADDRESSES:
            return f"{named(candidate)} is a cloud metadata address, never a source"
    for candidate in judged:
        if candidate.is_link_local or candidate.is_multicast or candidate.is_unspecified:
            return f"{named(candidate)} is a link-local, multicast or unspecified address, never a source"
    if allow_private:
        return None
    for candidate in judged:
        if (
            not candidate.is_global
            or candidate in _THIS_NETWORK
            or (isinstance(candidate, IPv6Address) and (candidate in _SITE_LOCAL or candidate in _NAT64_LOCAL))
        ):
            return (
                f"{named(candidate)} is a loopback, private, site-local or reserved address; "
                "set allow_private_network: true on the source if that is intended"
            )
    return None


# What inet_aton (and so the socket layer) reads as an IPv4 address: one to four parts, each decimal,
# octal (leading 0) or hex (0x); the last part fills the bytes left. A trailing dot is tolerated.
_NUMERIC_HOST = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.IGNORECASE)
_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)


class NotAnAddress(ValueError):
    """A host that looks like a numeric IPv4 address but is none (a part too large, a bad octal digit)."""


def _part(text: str) -> int:
    if text[:2].lower() == "0x":
        return int(text[2:] or "0", 16)
    if len(text) > 1 and text.startswith("0"):
        return int(text, 8)  # ValueError on 8 or 9, as inet_aton refuses them
    return int(text)


def numeric_ipv4(host: str) -> IPv4Address | None:
    """The IPv4 address a numeric host spells in any inet_aton form; None if the host is a name.
    Raises NotAnAddress for a numeric-looking host no form reads."""
    if not _NUMERIC_HOST.match(host):
        if _NUMERIC_LABEL.match(host.rstrip(".").rsplit(".", 1)[-1]):
            # No top-level domain is a number: a browser and a resolver may each read this differently.
            raise NotAnAddress(f"{host} ends in a number but is no IPv4 address")
        return None
    try:
        parts = [_part(p) for p in host.rstrip(".").split(".")]
    except ValueError:
        raise NotAnAddress(f"{host} looks like an IPv4 address but is not one") from None
    *head, last = parts
    if any(p > 0xFF for p in head) or last >= 1 << (8 * (4 - len(head))):
        raise NotAnAddress(f"{host} looks like an IPv4 address but is not one")
    value = last
    for index, part in enumerate(head):
        value |= part << (8 * (3 - index))
    return IPv4Address(value)


def literal_address(host: str) -> IPAddress | None:
    """The address a URL host names literally (IPv6 in brackets or bare, IPv4 in any inet_aton form),
    or None when the host is a name to resolve."""
    bare = host.strip("[]")
    if ":" in bare:
        try:
            return IPv6Address(bare)
        except ValueError:
            raise NotAnAddress(f"{host} is not a valid IPv6 address") from None
    return numeric_ipv4(bare)
