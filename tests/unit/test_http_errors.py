"""A source's HTTP error names the server's own reason, on one line and with secrets redacted."""

from __future__ import annotations

import httpx
import pytest

from ingestors.base import SourceUnavailable
from ingestors.http import HttpFetcher, error_excerpt

URL = "http://93.184.215.14/open311/v2/requests.json?api_key=s3cret"  # a literal public address: no resolver


def test_an_open311_error_body_is_part_of_the_message_and_the_key_is_not():
    body = b'[{"code": 400, "description": "start_date and end_date\\n span more than 90 days"}]'
    fetcher = HttpFetcher(transport=httpx.MockTransport(lambda request: httpx.Response(400, content=body)))
    with pytest.raises(SourceUnavailable) as raised:
        fetcher.get(URL)
    message = str(raised.value)
    assert "HTTP 400: " in message and "span more than 90 days" in message and "\n" not in message
    assert "s3cret" not in message


def test_a_long_or_empty_body():
    assert error_excerpt(b"") == ""
    assert error_excerpt(("错" * 500).encode()) == ": " + "错" * 200 + "…"
