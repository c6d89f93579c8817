"""The worker's Kafka consumer fetches as the streams settings say (no broker: the consumer is only built)."""

from __future__ import annotations

import asyncio

import faust

from streams.app import fetch_tuned_transport
from streams.settings import StreamsSettings


def _worker_consumer(streams: StreamsSettings):
    async def build():
        app = faust.App("fetch-test", broker="kafka://127.0.0.1:9", store="memory://")
        app.transport = fetch_tuned_transport(app, streams)
        thread = app.consumer._thread
        return thread._create_worker_consumer(app.transport)

    return asyncio.run(build())


def test_the_worker_consumer_waits_for_the_configured_bytes_or_time():
    consumer = _worker_consumer(StreamsSettings(fetch_min_bytes=12_345, fetch_wait_ms=40))
    assert (consumer._fetch_min_bytes, consumer._fetch_max_wait_ms) == (12_345, 40)


def test_the_defaults_hold_a_fetch_for_64_kb_or_50_ms():
    consumer = _worker_consumer(StreamsSettings())
    assert (consumer._fetch_min_bytes, consumer._fetch_max_wait_ms) == (65_536, 50)
