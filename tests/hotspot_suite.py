"""Hotspots through the API and the dashboard, one suite for both stores: the real Kafka + sink +
OpenSearch (tests/integration/test_hotspots_api.py) and embedded mode's SQLite index
(tests/unit/test_hotspots_api_embedded.py). Hotspot records are written the way the detector's stage
sends them (the hotspots topic; embedded: the pipeline's writer); this module is not collected on its own."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from kafka import KafkaProducer

from adapters.kafka_clients import kafka_python_options
from leadhub.hotspots_store import hotspot_store
from schemas.hotspots import Hotspot, HotspotKind, HotspotWindow, hotspot_id
from schemas.serialization import encode
from streams.records import Output

T0 = dt.datetime(2024, 5, 1, 8, tzinfo=dt.UTC)


def make(env, n: int, *, kind=HotspotKind.surge, count=7, at=T0, case_ids=None) -> Hotspot:
    run = f"{env.run}-{uuid.uuid4().hex[:6]}"
    return Hotspot(
        hotspot_id=hotspot_id(kind, run, str(n)), kind=kind, category="城乡建设", place="稠城街道", count=count,
        baseline=0.5, window=HotspotWindow(start=at - dt.timedelta(hours=24), end=at, hours=24),
        first_seen=at - dt.timedelta(hours=5), last_seen=at, detected_at=at, p_value=1e-5, score=14.0,
        case_ids=case_ids if case_ids is not None else [env.case_id("lift")], lead_ids=[f"l{n}"], channels=["hotline"],
    )  # fmt: skip


def write(env, *hotspots: Hotspot, wait_for: tuple[Hotspot, ...] | None = None, timeout_s: float = 30.0) -> None:
    """Hotspot records into the store as the detector's stage sends them; returns once the store shows
    ``wait_for`` (default: all of them). The topic has one partition, so the sink applies them in order."""
    if env.kind == "embedded":
        for hotspot in hotspots:
            value, headers = encode(hotspot)
            env.pipeline.write(Output("hotspots", hotspot.hotspot_id.encode(), value, headers))
        return
    producer = KafkaProducer(**kafka_python_options(env.settings.kafka), acks="all")
    for hotspot in hotspots:
        value, headers = encode(hotspot)
        producer.send(f"k{env.run}.hotspots", value=value, key=hotspot.hotspot_id.encode(), headers=headers)
    producer.flush()
    producer.close()
    store = hotspot_store(env.context.store)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if all((store.get(h.hotspot_id) or {}).get("count") == h.count for h in (wait_for or hotspots)):
            env.context.store.backend.refresh(f"i{env.run}-hotspots")
            return
        time.sleep(0.2)
    raise AssertionError("the hotspots written did not reach the index")


ROLES = ("none", "bad_key", "analyst", "officer", "other_officer", "intake", "admin")
READ = {"none": 401, "bad_key": 401, "analyst": 200, "officer": 200, "other_officer": 200, "intake": 403, "admin": 200}
ADMIN = {"none": 401, "bad_key": 401, "analyst": 403, "officer": 403, "other_officer": 403, "intake": 403, "admin": 200}


def _headers(env, role):
    special = {"none": {}, "bad_key": {"Authorization": "Bearer not-a-key"}}
    return special[role] if role in special else env.headers(role)


@pytest.mark.parametrize("role", ROLES)
def test_listing_hotspots_answers_each_role_as_its_permissions_say(client, env, role):
    response = client.get("/api/v1/hotspots", headers=_headers(env, role))
    assert response.status_code == READ[role], response.text


@pytest.mark.parametrize("action", ["acknowledge", "close"])
@pytest.mark.parametrize("role", ROLES)
def test_only_admins_acknowledge_or_close_a_hotspot(client, env, role, action):
    hotspot = make(env, 1)
    write(env, hotspot)
    response = client.post(f"/api/v1/hotspots/{hotspot.hotspot_id}/{action}", headers=_headers(env, role))
    assert response.status_code == ADMIN[role], response.text
    stored = hotspot_store(env.context.store).get(hotspot.hotspot_id)
    if ADMIN[role] == 200:
        expected = {"acknowledge": "acknowledged", "close": "closed"}[action]
        assert response.json()["status"] == stored["status"] == expected
        assert stored[f"{expected}_by"] == "root" and stored[f"{expected}_at"]
    else:
        assert stored["status"] == "new"


def test_hotspots_come_newest_first_and_filter_by_status_and_kind(client, env):
    older, newer = make(env, 1, at=T0 + dt.timedelta(days=400)), make(env, 2, at=T0 + dt.timedelta(days=401))
    growing = make(env, 3, kind=HotspotKind.growing_case, at=T0 + dt.timedelta(days=402))
    write(env, older, newer, growing)
    ids = [h["hotspot_id"] for h in client.get("/api/v1/hotspots", headers=env.headers("analyst")).json()["hotspots"]]
    assert ids.index(growing.hotspot_id) < ids.index(newer.hotspot_id) < ids.index(older.hotspot_id)
    surges = client.get("/api/v1/hotspots", params={"kind": "surge"}, headers=env.headers("analyst")).json()["hotspots"]
    assert {h["kind"] for h in surges} == {"surge"} and growing.hotspot_id not in {h["hotspot_id"] for h in surges}
    assert client.post(f"/api/v1/hotspots/{older.hotspot_id}/acknowledge", headers=env.headers("admin")).status_code == 200
    new = client.get("/api/v1/hotspots", params={"status": "new"}, headers=env.headers("officer")).json()["hotspots"]
    acknowledged = client.get("/api/v1/hotspots", params={"status": "acknowledged"}, headers=env.headers("officer")).json()
    assert older.hotspot_id not in {h["hotspot_id"] for h in new} and newer.hotspot_id in {h["hotspot_id"] for h in new}
    assert older.hotspot_id in {h["hotspot_id"] for h in acknowledged["hotspots"]}
    assert client.get("/api/v1/hotspots", params={"status": "bogus"}, headers=env.headers("analyst")).status_code == 422
    window = {"since": (T0 + dt.timedelta(days=400, hours=12)).isoformat(), "until": (T0 + dt.timedelta(days=402)).isoformat()}
    ranged = client.get("/api/v1/hotspots", params=window, headers=env.headers("analyst")).json()["hotspots"]
    assert [h["hotspot_id"] for h in ranged] == [newer.hotspot_id]  # since inclusive, until exclusive
    naive = client.get("/api/v1/hotspots", params={"since": "2024-05-01T00:00:00"}, headers=env.headers("analyst"))
    assert naive.status_code == 422 and "time zone" in naive.text


def test_a_closed_hotspot_cannot_be_acknowledged_and_an_unknown_one_is_404(client, env):
    hotspot = make(env, 1)
    write(env, hotspot)
    admin = env.headers("admin")
    assert client.post(f"/api/v1/hotspots/{hotspot.hotspot_id}/close", headers=admin).status_code == 200
    assert client.post(f"/api/v1/hotspots/{hotspot.hotspot_id}/close", headers=admin).status_code == 200  # a retry
    assert client.post(f"/api/v1/hotspots/{hotspot.hotspot_id}/acknowledge", headers=admin).status_code == 409
    assert client.post("/api/v1/hotspots/surge-nothing/acknowledge", headers=admin).status_code == 404
    assert client.post(f"/api/v1/hotspots/{hotspot.hotspot_id}/delete", headers=admin).status_code == 404


def test_the_detectors_later_records_keep_the_acknowledgement_and_an_older_one_changes_nothing(client, env):
    hotspot = make(env, 1, count=7)
    write(env, hotspot)
    assert client.post(f"/api/v1/hotspots/{hotspot.hotspot_id}/acknowledge", headers=env.headers("admin")).status_code == 200
    grown = hotspot.model_copy(update={"count": 9, "case_ids": [*hotspot.case_ids, "another-case"]})
    write(env, grown)
    stored = hotspot_store(env.context.store).get(hotspot.hotspot_id)
    assert (stored["count"], stored["status"], stored["acknowledged_by"]) == (9, "acknowledged", "root")
    assert stored["case_ids"][-1] == "another-case"
    marker = make(env, 2)  # written after the old record: once it shows, the old one was applied
    write(env, hotspot.model_copy(update={"count": 8, "case_ids": ["old"]}), marker, wait_for=(marker,))
    stored = hotspot_store(env.context.store).get(hotspot.hotspot_id)
    assert (stored["count"], stored["case_ids"][-1]) == (9, "another-case")  # a replayed older record changes nothing


def test_the_dashboard_lists_new_hotspots_with_links_and_admins_acknowledge_with_a_form(client, env):
    hotspot = make(env, 1, at=T0 + dt.timedelta(days=2000))  # newest of the suite: first on the panel
    write(env, hotspot)
    page = client.get("/dashboard", headers={"accept": "text/html", **env.headers("analyst")})
    assert page.status_code == 200
    assert 'id="hotspots"' in page.text and f'href="/cases/{env.case_id("lift")}"' in page.text
    assert f'action="/hotspots/{hotspot.hotspot_id}/acknowledge"' not in page.text  # analysts only see it
    english = client.get("/dashboard", headers={"accept": "text/html", "accept-language": "en", **env.headers("admin")})
    assert "New hotspots" in english.text and "Surge" in english.text
    assert f'action="/hotspots/{hotspot.hotspot_id}/acknowledge"' in english.text
    refused = client.post(f"/hotspots/{hotspot.hotspot_id}/acknowledge", headers={"accept": "text/html", **env.headers("officer")},
                          follow_redirects=False)  # fmt: skip
    assert refused.status_code == 403
    done = client.post(f"/hotspots/{hotspot.hotspot_id}/acknowledge", headers={"accept": "text/html", **env.headers("admin")},
                       follow_redirects=False)  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == "/dashboard?hotspot=done#hotspots"
    after = client.get("/dashboard?hotspot=done", headers={"accept": "text/html", **env.headers("admin")})
    assert f'action="/hotspots/{hotspot.hotspot_id}/acknowledge"' not in after.text and "已确认热点" in after.text
