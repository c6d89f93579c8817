"""A running leadhub behind the API for tests: fresh topics and indices, the search sink in a thread,
the seed cases of tests/api_data.py written through Kafka, and one key per role."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

from kafka import KafkaProducer

from enrichers.taxonomy import DEFAULT_TAXONOMY, load_taxonomy
from leadhub.access import KeyRing, key_digest
from leadhub.api.context import ApiContext
from leadhub.case_actions import KafkaPublisher
from leadhub.cli import main
from leadhub.kafka_clients import kafka_python_options
from leadhub.read_store import EngineStore
from leadhub.search_backend import SearchBackend
from leadhub.settings import ApiKeySpec, Settings, build_settings, parse_overrides
from schemas.serialization import encode
from sinks.batch import BatchLimits
from sinks.writer import SearchSink
from tests import api_data

ROLES = {
    "analyst": ("ana", "analyst", []),
    "officer": ("officer-housing", "officer", [api_data.HOUSING]),
    "other_officer": ("officer-transport", "officer", [api_data.TRANSPORT]),
    "intake": ("experience-officer-1", "intake", []),
    "admin": ("root", "admin", []),
}


@dataclass
class ApiEnv:
    run: str
    settings: Settings
    context: ApiContext
    keys: dict[str, str]  # role -> key
    sink: SearchSink
    thread: threading.Thread
    backend: SearchBackend
    leads: list = field(default_factory=list)
    cases: list = field(default_factory=list)

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def case_id(self, key: str) -> str:
        return api_data.case_id(self.run, key)

    def close(self) -> None:
        self.sink.stop()
        self.thread.join(timeout=30)
        self.context.publisher.close()
        for kind in ("leads", "cases"):
            for index in self.backend.get_alias(f"i{self.run}-{kind}"):
                self.backend.delete_index(index)
        self.backend.close()


def start(search_settings_url: str, *, event_wait_s: float = 10.0) -> ApiEnv:
    run = uuid.uuid4().hex[:8]
    keys = {role: f"key-{role}-{run}" for role in ROLES}
    overrides = [f"kafka.topic_prefix=k{run}.", f"search.index_prefix=i{run}", "search.request_timeout=5",
                 f"search.url={search_settings_url}"]  # fmt: skip
    args = [a for o in overrides for a in ("--set", o)]
    assert main([*args, "topics", "create"]) == 0
    assert main([*args, "index", "init"]) == 0
    specs = [ApiKeySpec(name=name, sha256=key_digest(keys[role]), role=r, departments=d) for role, (name, r, d) in ROLES.items()]
    settings = build_settings(overrides=parse_overrides(overrides))
    settings = settings.model_copy(update={"api": settings.api.model_copy(update={"keys": specs, "event_wait_s": event_wait_s})})

    leads, cases = api_data.build(run)
    producer = KafkaProducer(**kafka_python_options(settings.kafka), acks="all")
    for lead in leads:
        value, headers = encode(lead)
        producer.send(f"k{run}.leads.routed", value=value, key=lead.lead_id.encode(), headers=headers)
    for case in cases:
        value, headers = encode(case)
        producer.send(f"k{run}.cases.state", value=value, key=case.case_id.encode(), headers=headers)
    producer.flush()
    producer.close()

    sink = SearchSink(settings, group_id=f"api-{run}", limits=BatchLimits(max_age_s=0.1))
    thread = threading.Thread(target=sink.run, daemon=True)
    thread.start()
    backend = SearchBackend.from_settings(settings.search)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        backend.refresh(f"i{run}-leads"), backend.refresh(f"i{run}-cases")
        if backend.count(f"i{run}-leads") == len(leads) and backend.count(f"i{run}-cases") == len(cases):
            break
        time.sleep(0.3)
    else:
        raise AssertionError("the seed leads and cases did not reach the index in 90 s")

    context = ApiContext(
        settings=settings.api,
        store=EngineStore(SearchBackend.from_settings(settings.search), settings.search.index_prefix),
        publisher=KafkaPublisher(settings.kafka),
        taxonomy=load_taxonomy(DEFAULT_TAXONOMY),
        keys=KeyRing(specs),
    )
    return ApiEnv(run, settings, context, keys, sink, thread, backend, leads, cases)
