"""Issue 18: a feed's declared encoding wins when it decodes nearly all of it; the GB rescue stays for
feeds that really are GBK, whatever they declare."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingestors.base import FetchContext
from ingestors.feed import FeedKind, FeedOptions, decode_feed
from tests.ingest_fixtures import rss

TITLES = ["稠城街道一小区电梯频繁故障 居民盼维修", "江东街道路灯不亮 夜间出行存隐患", "市行政服务中心周末窗口排长队"]


def titles(data: bytes) -> list[str]:
    kind = FeedKind(FeedOptions.model_construct(encoding=None))
    return [lead.title for lead in kind.parse_document(data, FetchContext("t", "news", "Asia/Shanghai", {}))]


def with_stray(data: bytes, before: str, stray: bytes) -> bytes:
    at = data.index(before.encode())
    return data[:at] + stray + data[at:]


@pytest.mark.parametrize("stray", [b"\x93", b"\xff", b"\xb5", b"\xe7\x94", b"\x80\x80"])
def test_utf8_with_a_stray_byte_stays_utf8(stray):
    data = with_stray(rss("utf-8").encode(), "江东", stray)
    got = titles(data)
    assert got[0] == TITLES[0] and got[2] == TITLES[2]
    assert got[1].endswith(TITLES[1]) and got[1].startswith("\ufffd")  # the stray byte, and nothing else, lost


def test_english_utf8_feed_with_one_stray_byte_has_no_gbk_mojibake():
    doc = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Yiwu Daily</title>'
           '<item><title>Lift “broken” — again</title><description>Residents say it’s the third time… REPLACE</description></item>'
           "</channel></rss>").encode().replace(b"REPLACE", b"caf\xe9 owner")  # one Latin-1 byte  # fmt: skip
    text = decode_feed(doc)
    assert "Lift “broken” — again" in text and "it’s the third time…" in text and "caf\ufffd owner" in text
    assert "鈥" not in text


def test_undeclared_utf8_with_a_stray_byte_stays_utf8():
    data = with_stray(rss("utf-8").encode().replace(b' encoding="utf-8"', b""), "江东", b"\xa0")
    assert titles(data)[0] == TITLES[0]


@pytest.mark.parametrize("declared", ["utf-8", "UTF-8", None, "iso-8859-1", "latin-1", "windows-1252", "gb2312", "gbk"])
def test_a_gbk_feed_is_read_as_gbk_whatever_it_declares(declared):
    text = rss(declared or "utf-8")
    if declared is None:
        text = text.replace(' encoding="utf-8"', "")
    assert titles(text.encode("gbk")) == TITLES


def test_a_real_latin1_feed_stays_latin1():
    doc = ('<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel><title>Réclamations</title>'
           "<item><title>L'ascenseur est cassé à la mairie, déjà signalé</title></item></channel></rss>").encode("latin-1")  # fmt: skip
    assert titles(doc) == ["L'ascenseur est cassé à la mairie, déjà signalé"]


def test_many_bad_bytes_are_not_a_stray_byte():
    # GBK text glued into a UTF-8 feed: far more than a stray byte, so the rescue decides.
    data = rss("utf-8").encode("gbk")
    assert "电梯" in decode_feed(data)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([b"\x80", b"\x92", b"\xa0", b"\xc3", b"\xe2\x80", b"\xff", b"\xfe"]))
def test_one_stray_byte_anywhere_in_a_utf8_feed_loses_at_most_that_byte(position, stray):
    data = rss("utf-8").encode()
    header = data.index(b"?>") + 2
    at = header + position % (len(data) - header)
    while at < len(data) and 0x80 <= data[at] < 0xC0:  # at a character boundary, so no character is cut
        at += 1
    text = decode_feed(data[:at] + stray + data[at:])
    assert text.replace("\ufffd", "") == data.decode()
    assert "鈥" not in text
