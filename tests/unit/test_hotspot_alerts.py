"""A new hotspot notifies the configured channels (leadhub/notify) — real SMTP server and webhook
receiver — once: its growth and a restarted pipeline that rebuilds it send nothing again."""

from __future__ import annotations

import datetime as dt
import time

from adapters.notify_senders import WebhookSettings
from leadhub.embedded import EmbeddedPipeline
from leadhub.settings import build_settings, parse_overrides
from tests.notify_servers import smtp_server, webhook_server
from tests.unit.test_hotspots_embedded import street_light


def _settings(tmp_path, smtp, hooks):
    settings = build_settings(overrides=parse_overrides([
        "mode=embedded", f"embedded.path={tmp_path / 'embedded.sqlite'}", "hotspots.p_threshold=0.01",
        "hotspots.min_count=5",
        "notify.enabled=true", "notify.smtp.host=127.0.0.1", f"notify.smtp.port={smtp.port}", "notify.smtp.security=plain",
        "notify.smtp.sender=leadhub@example.org", f"notify.state_db={tmp_path / 'notify.sqlite'}",
        "notify.retry.backoff_s=0.01", "api.public_url=https://leadhub.example.org",
    ]))  # fmt: skip
    notify = settings.notify.model_copy(update={"webhooks": [WebhookSettings(name="ops", kind="json", url=f"{hooks.url}/hook")]})
    hotspots = settings.hotspots.model_copy(update={"notify_to": ["leaders@example.org"]})
    return settings.model_copy(update={"notify": notify, "hotspots": hotspots})


def _wait(check, timeout_s=20.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


RECENT = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=8)  # a surge of today: announced


def test_a_new_hotspot_is_sent_by_mail_and_webhook_once(tmp_path):
    with smtp_server() as smtp, webhook_server() as hooks:
        settings = _settings(tmp_path, smtp, hooks)
        pipeline = EmbeddedPipeline(settings)
        try:
            pipeline.submit_raw([street_light(i, start=RECENT) for i in range(5)])
            (mail,) = smtp.wait_for(1)
            assert mail.recipients == ["leaders@example.org"]
            assert "热点预警" in mail.subject and "Surge" in mail.subject and "城乡建设" in mail.subject
            assert "https://leadhub.example.org/dashboard#hotspots" in mail.body
            _wait(lambda: len(hooks.hits) == 1)
            (surge,) = pipeline.index.hotspot_documents()
            assert hooks.hits[0].json["hotspot"]["hotspot_id"] == surge["hotspot_id"]
            pipeline.submit_raw([street_light(5, start=RECENT)])  # the surge grows: an update, no new notice
        finally:
            pipeline.close()  # waits for the alerts' queue
        again = EmbeddedPipeline(settings)
        try:
            again.submit_raw([street_light(6, start=RECENT)])
        finally:
            again.close()
        time.sleep(0.5)
        assert len(smtp.wait_for(1)) == 1 and len(hooks.hits) == 1
