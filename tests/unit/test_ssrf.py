"""The SSRF guard: which addresses a source may reach, in every spelling, on every redirect hop.

No test here opens a connection to a refused address: HTTP goes through httpx.MockTransport, names
through a fake resolver, and the guarded network backend refuses before it would connect.
"""

import socket
from ipaddress import IPv4Address, IPv4Network, IPv6Address

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingestors.addresses import (
    METADATA_ADDRESSES,
    NotAnAddress,
    embedded_ipv4,
    literal_address,
    numeric_ipv4,
    refusal,
)
from ingestors.http import (
    BlockedAddress,
    GuardedBackend,
    HttpFetcher,
    check_url,
    guarded_transport,
)


def no_dns(host, port):
    raise AssertionError(f"{host} should have been decided without a resolver")


def resolver(table):
    return lambda host, port: table[host]


# (url, refused without allow_private, refused with allow_private)
CASES = [
    # cloud metadata: refused whatever the source allows
    ("http://169.254.169.254/latest/meta-data/", True, True),
    ("http://[::ffff:169.254.169.254]/", True, True),  # IPv4-mapped, dotted
    ("http://[::ffff:a9fe:a9fe]/", True, True),  # IPv4-mapped, hex
    ("http://[::169.254.169.254]/", True, True),  # IPv4-compatible
    ("http://[::ffff:0:a9fe:a9fe]/", True, True),  # SIIT IPv4-translated
    ("http://[64:ff9b::a9fe:a9fe]/", True, True),  # NAT64 well-known prefix
    ("http://[64:ff9b:1:a9fe:a9:fe00::]/", True, True),  # NAT64 local-use /48 (RFC 6052 layout)
    ("http://[64:ff9b:1::a9fe:a9fe]/", True, True),  # NAT64 local-use, /96 inside it
    ("http://[2002:a9fe:a9fe::1]/", True, True),  # 6to4
    ("http://[2001:0:4136:e378:8000:63bf:5601:5601]/", True, True),  # Teredo, client = ~169.254.169.254
    ("http://100.100.100.200/latest/meta-data/", True, True),  # Alibaba Cloud
    ("http://[::ffff:100.100.100.200]/", True, True),
    ("http://[fd00:ec2::254]/latest/meta-data/", True, True),  # AWS over IPv6
    ("http://169.254.170.2/v2/credentials", True, True),  # AWS ECS
    ("http://168.63.129.16/machine", True, True),  # Azure WireServer
    ("http://metadata.google.internal/computeMetadata/v1/", True, True),
    # the same address in the spellings inet_aton reads
    ("http://2852039166/", True, True),
    ("http://0xA9FEA9FE/", True, True),
    ("http://0251.0376.0251.0376/", True, True),
    ("http://0xa9.0xfe.0xa9.0xfe/", True, True),
    ("http://169.254.43518/", True, True),
    ("http://169.16689662/", True, True),
    ("http://169.254.169.254./", True, True),
    # link-local, multicast, unspecified: never
    ("http://169.254.1.1/", True, True),
    ("http://[fe80::1]/", True, True),
    ("http://[ff02::1]/", True, True),
    ("http://0.0.0.0/", True, True),
    ("http://0/", True, True),
    ("http://[::]/", True, True),
    # private, loopback, site-local, shared: only with allow_private_network
    ("http://127.0.0.1:8080/feed", True, False),
    ("http://2130706433/", True, False),  # 127.0.0.1
    ("http://0x7f.1/", True, False),  # 127.0.0.1
    ("http://10.1.2.3/", True, False),
    ("http://012.1.2.3/", True, False),  # 10.1.2.3 in octal
    ("http://192.168.1.10/", True, False),
    ("http://[::ffff:10.0.0.1]/", True, False),
    ("http://[::10.0.0.1]/", True, False),
    ("http://[64:ff9b::10.0.0.1]/", True, False),
    ("http://[2002:c0a8:10a::]/", True, False),  # 6to4 of 192.168.1.10
    ("http://[::1]/", True, False),
    ("http://[fec0::1]/", True, False),  # site-local
    ("http://[fd12:3456::1]/", True, False),  # unique local
    ("http://100.64.0.1/", True, False),  # carrier-grade NAT
    # public: always
    ("http://93.184.215.14/feed.xml", False, False),
    ("https://[2606:4700:4700::1111]/", False, False),
    ("http://1572395022/", False, False),  # 93.184.215.14
]


@pytest.mark.parametrize("url, refused_plain, refused_allowing", CASES)
def test_guard_table(url, refused_plain, refused_allowing):
    resolve = resolver({"metadata.google.internal": ["169.254.169.254"]})
    for allow_private, refused in ((False, refused_plain), (True, refused_allowing)):
        if refused:
            with pytest.raises(BlockedAddress):
                check_url(url, allow_private, resolve)
        else:
            check_url(url, allow_private, resolve)


def test_metadata_names_what_it_refuses_and_redacts_the_url():
    with pytest.raises(BlockedAddress, match="cloud metadata") as caught:
        check_url("http://[::ffff:a9fe:a9fe]/x?access_token=hunter2hunter2", True, no_dns)
    assert "169.254.169.254" in str(caught.value) and "hunter2" not in str(caught.value)
    with pytest.raises(BlockedAddress, match="only http"):
        check_url("file:///etc/passwd", True, no_dns)


def test_a_name_is_judged_by_every_address_it_resolves_to():
    resolve = resolver({"feeds.example.cn": ["93.184.215.14", "::ffff:169.254.169.254"], "ok.example.cn": ["93.184.215.14"]})
    with pytest.raises(BlockedAddress, match="feeds.example.cn is ::ffff:a9fe:a9fe"):
        check_url("https://feeds.example.cn/rss", True, resolve)
    check_url("https://ok.example.cn/rss", False, resolve)


def test_numeric_looking_hosts_that_are_no_address_are_refused():
    for host in ("http://09.1.1.1/", "http://1.256.1.1/", "http://4294967296/", "http://1.2.3.4.5/"):
        with pytest.raises(BlockedAddress):
            check_url(host, True, resolver({"1.2.3.4.5": ["93.184.215.14"]}) if host.endswith("5/") else no_dns)


def served(routes):
    """A MockTransport answering from {url: (status, headers, body)}, recording what was asked."""
    seen = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status, headers, body = routes[str(request.url)]
        return httpx.Response(status, headers=headers, content=body)

    return httpx.MockTransport(handle), seen


@pytest.mark.parametrize("target", [
    "http://[::ffff:169.254.169.254]/latest/meta-data/", "http://[64:ff9b::a9fe:a9fe]/", "http://100.100.100.200/",
    "http://[fd00:ec2::254]/", "http://0xA9FEA9FE/", "http://2852039166/",
])  # fmt: skip
def test_a_redirect_to_metadata_is_refused_even_when_private_is_allowed(target):
    transport, seen = served({"http://10.0.0.5/feed.xml": (302, {"location": target}, b"")})
    fetcher = HttpFetcher(allow_private=True, transport=transport, resolve=no_dns)
    with pytest.raises(BlockedAddress, match="metadata"):
        fetcher.get("http://10.0.0.5/feed.xml")
    assert [str(r.url) for r in seen] == ["http://10.0.0.5/feed.xml"]  # the metadata hop never went out


def test_a_redirect_to_a_private_address_is_refused_without_the_option():
    transport, seen = served({"http://93.184.215.14/feed.xml": (301, {"location": "http://[::10.0.0.1]/admin"}, b"")})
    with pytest.raises(BlockedAddress, match="allow_private_network"):
        HttpFetcher(transport=transport, resolve=no_dns).get("http://93.184.215.14/feed.xml")
    assert len(seen) == 1


def test_source_headers_go_to_the_source_only_never_along_a_redirect_elsewhere():
    routes = {
        "http://93.184.215.14/api": (302, {"location": "/api/v2"}, b""),
        "http://93.184.215.14/api/v2": (302, {"location": "http://93.184.215.15/cdn"}, b""),
        "http://93.184.215.15/cdn": (200, {}, b"[]"),
    }
    transport, seen = served(routes)
    fetched = HttpFetcher(transport=transport, resolve=no_dns, headers={"X-Api-Key": "k-123456"}).get("http://93.184.215.14/api")
    assert fetched.content == b"[]"
    assert [r.headers.get("x-api-key") for r in seen] == ["k-123456", "k-123456", None]


def test_the_connection_itself_is_guarded_against_a_name_that_changes_its_answer():
    answers = iter([["93.184.215.14"], ["169.254.169.254"]])  # check_url sees the first, the connection the second
    resolve = lambda host, port: next(answers)
    fetcher = HttpFetcher(allow_private=True, transport=guarded_transport(True, resolve), resolve=resolve)
    with pytest.raises(BlockedAddress, match=r"rebind.example.cn/feed: rebind.example.cn is 169.254.169.254; .*metadata"):
        fetcher.get("http://rebind.example.cn/feed")


def test_guarded_backend_refuses_before_connecting():
    class Inner:
        def connect_tcp(self, *args, **kwargs):
            raise AssertionError("must not connect")

    backend = GuardedBackend(True, no_dns, inner=Inner())
    for host in ("169.254.169.254", "::ffff:a9fe:a9fe", "0xa9fea9fe", "100.100.100.200", "fd00:ec2::254"):
        with pytest.raises(BlockedAddress):
            backend.connect_tcp(host, 80)
    # guarded_transport sets a private attribute of httpx's pool: fail here if a new httpx renames it.
    assert isinstance(guarded_transport(False)._pool._network_backend, GuardedBackend)
    assert hasattr(httpx.HTTPTransport()._pool, "_network_backend")


# ---- the class, as properties -------------------------------------------------------------------

PRIVATE_V4 = [IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8",
                                        "169.254.0.0/16", "100.64.0.0/10", "0.0.0.0/8")]  # fmt: skip
METADATA_V4 = sorted(a for a in METADATA_ADDRESSES if isinstance(a, IPv4Address))


def embeddings(v4: IPv4Address, suffix: int) -> list[IPv6Address]:
    """Every IPv6 form that carries ``v4`` (``suffix`` fills the bits a form leaves free)."""
    n = int(v4)
    b = v4.packed
    nat64_local = int(IPv6Address("64:ff9b:1::"))
    return [
        IPv6Address((0xFFFF << 32) | n),  # ::ffff:a.b.c.d
        IPv6Address((0xFFFF << 48) | n),  # ::ffff:0:a.b.c.d
        IPv6Address(n),  # ::a.b.c.d
        IPv6Address(int(IPv6Address("64:ff9b::")) | n),
        IPv6Address(nat64_local | n),  # /96 inside the local-use /48
        IPv6Address(nat64_local | int.from_bytes(b[:2] + b"\0" + b[2:], "big") << 40),  # /48
        IPv6Address(nat64_local | int.from_bytes(b[:1] + b"\0" + b[1:], "big") << 32),  # /56
        IPv6Address(nat64_local | int.from_bytes(b"\0" + b, "big") << 24),  # /64
        IPv6Address((0x2002 << 112) | (n << 80) | (suffix & ((1 << 80) - 1))),  # 6to4
        IPv6Address((0x20010000 << 96) | ((suffix & 0xFFFFFFFF) << 64) | (n ^ 0xFFFFFFFF)),  # Teredo client
        IPv6Address((0x20010000 << 96) | (n << 64) | (suffix & 0xFFFFFFFF)),  # Teredo server
    ]


def any_in(networks):
    return st.sampled_from(networks).flatmap(
        lambda net: st.integers(0, net.num_addresses - 1).map(lambda i: net.network_address + i)
    )


@given(st.sampled_from(METADATA_V4), st.integers(0, (1 << 80) - 1), st.booleans())
def test_every_embedding_of_a_metadata_address_is_refused_always(v4, suffix, allow_private):
    for form in embeddings(v4, suffix):
        assert v4 in embedded_ipv4(form) or form == v4
        assert refusal(form, allow_private) is not None, form


@given(any_in(PRIVATE_V4), st.integers(0, (1 << 80) - 1))
def test_every_embedding_of_a_private_address_is_refused_without_the_option(v4, suffix):
    assert refusal(v4, False) is not None
    for form in embeddings(v4, suffix):
        assert refusal(form, False) is not None, form


@given(any_in([IPv4Network("169.254.0.0/16")]), st.integers(0, (1 << 80) - 1))
def test_link_local_in_any_form_is_refused_even_with_the_option(v4, suffix):
    for form in [v4, *embeddings(v4, suffix)]:
        assert refusal(form, True) is not None, form


def spellings(v4: IPv4Address, draw) -> list[str]:
    b = list(v4.packed)
    n = int(v4)
    styles = [str, hex, lambda x: "0" + oct(x)[2:] if x else "0"]
    part = lambda x: draw(st.sampled_from(styles))(x)
    return [
        part(n),
        f"{part(b[0])}.{part(n & 0xFFFFFF)}",
        f"{part(b[0])}.{part(b[1])}.{part(n & 0xFFFF)}",
        ".".join(part(x) for x in b),
    ]


@given(st.integers(0, 2**32 - 1), st.data())
def test_numeric_hosts_mean_what_the_socket_layer_reads(value, data):
    v4 = IPv4Address(value)
    for host in spellings(v4, data.draw):
        assert numeric_ipv4(host) == v4, host
        assert IPv4Address(socket.inet_aton(host)) == v4, host  # the C library agrees with us


@given(st.from_regex(r"\A[0-9]{1,3}(\.[0-9]{1,4}){1,3}\Z|\A0x[0-9a-f]{1,9}\Z"))
def test_numeric_hosts_either_parse_as_inet_aton_does_or_are_refused(host):
    try:
        expected = IPv4Address(socket.inet_aton(host))
    except OSError:
        expected = None
    try:
        assert literal_address(host) == expected
    except NotAnAddress:
        assert expected is None
