"""A running leadhub behind the API for tests, in either mode, with the seed cases of
tests/api_data.py and one key per role:

- ``opensearch``: fresh topics and indices, the search sink in a thread, the seed written through Kafka;
- ``embedded``: a fresh SQLite file, the seed written through the embedded sink.

The API suite runs against both, so the two stores answer the same questions the same way.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer

from adapters.attachments import AttachmentStore
from adapters.kafka_clients import kafka_python_options
from adapters.search_backend import SearchBackend
from enrichers.taxonomy import DEFAULT_TAXONOMY, load_taxonomy
from leadhub.access import KeyRing, key_digest
from leadhub.api.context import ApiContext, build_context
from leadhub.api.photos import Photos
from leadhub.case_actions import KafkaPublisher
from leadhub.cli import main
from leadhub.readers.engine import EngineStore
from leadhub.settings import ApiKeySpec, Settings, build_settings, parse_overrides
from schemas.index_templates import INDEX_KINDS
from schemas.leads import RawLead
from schemas.serialization import decode, encode
from sinks.batch import BatchLimits
from sinks.writer import SearchSink
from tests import api_data

ROLES = {
    "analyst": ("ana", "analyst", []),
    "officer": ("officer-housing", "officer", [api_data.HOUSING]),
    "other_officer": ("officer-transport", "officer", [api_data.TRANSPORT]),
    "intake": ("experience-officer-1", "intake", []),
    "other_intake": ("experience-officer-2", "intake", []),
    "admin": ("root", "admin", []),
}

GROUPS = {"intake": "education", "other_intake": "health"}  # experience officers' groups (reports.groups)


@dataclass
class ApiEnv:
    kind: str  # opensearch | elasticsearch | embedded
    run: str
    settings: Settings
    context: ApiContext
    keys: dict[str, str]  # role -> key
    cli_args: list[str]  # `leadhub` options that point the CLI at this environment
    leads: list = field(default_factory=list)
    cases: list = field(default_factory=list)
    closers: list = field(default_factory=list)
    pipeline: object = None  # embedded mode's EmbeddedPipeline

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def case_id(self, key: str) -> str:
        return api_data.case_id(self.run, key)

    def submitted_lead(self, lead_id: str, timeout_s: float = 15.0) -> dict:
        """A field report as it arrived: the RawLead on leads.raw (cluster) or the routed lead (embedded)."""
        if self.kind == "embedded":
            found = self.context.store.get("leads", lead_id)
            assert found is not None, f"lead {lead_id} is not in the embedded index"
            return {**found, "body": found["text"]}
        consumer = KafkaConsumer(
            f"k{self.run}.leads.raw", **kafka_python_options(self.settings.kafka), group_id=f"t-{uuid.uuid4().hex[:6]}",
            auto_offset_reset="earliest", consumer_timeout_ms=int(timeout_s * 1000),
        )  # fmt: skip
        try:
            for record in consumer:
                lead = decode(record.value, record.headers, RawLead)
                if lead.lead_id == lead_id:
                    return lead.model_dump(mode="json")
        finally:
            consumer.close()
        raise AssertionError(f"lead {lead_id} did not arrive on leads.raw")

    def close(self) -> None:
        for close in reversed(self.closers):
            close()


def _keys(run: str) -> tuple[dict[str, str], list[ApiKeySpec]]:
    keys = {role: f"key-{role}-{run}" for role in ROLES}
    specs = [ApiKeySpec(name=name, sha256=key_digest(keys[role]), role=r, departments=d, group=GROUPS.get(role))
             for role, (name, r, d) in ROLES.items()]  # fmt: skip
    return keys, specs


def start_embedded(folder: Path) -> ApiEnv:
    from leadhub.embedded import EmbeddedPipeline
    from streams.records import Output

    run = uuid.uuid4().hex[:8]
    keys, specs = _keys(run)
    overrides = ["mode=embedded", f"embedded.path={folder / 'embedded.sqlite'}", f"attachments.path={folder / 'attachments'}"]
    settings = build_settings(overrides=parse_overrides(overrides))
    settings = settings.model_copy(update={"api": settings.api.model_copy(update={"keys": specs})})
    pipeline = EmbeddedPipeline(settings)
    leads, cases = api_data.build(run)
    for topic, models in (("leads.routed", leads), ("cases.state", cases)):
        for model in models:
            value, headers = encode(model)
            pipeline.write(Output(topic, None, value, headers))
    context = build_context(settings, pipeline)
    args = [a for o in overrides for a in ("--set", o)]
    return ApiEnv("embedded", run, settings, context, keys, args, leads, cases, [pipeline.close], pipeline)


def start(search_settings_url: str, *, backend: str = "opensearch", event_wait_s: float = 10.0) -> ApiEnv:
    """The API on the search engine ``backend`` (opensearch | elasticsearch) at ``search_settings_url``."""
    run = uuid.uuid4().hex[:8]
    keys, specs = _keys(run)
    kind = backend  # (`backend` is the SearchBackend below)
    engine = [f"search.backend={kind}", f"search.url={search_settings_url}"]
    overrides = [f"kafka.topic_prefix=k{run}.", f"search.index_prefix=i{run}", "search.request_timeout=5", *engine]
    args = [a for o in overrides for a in ("--set", o)]
    assert main([*args, "topics", "create"]) == 0
    assert main([*args, "index", "init"]) == 0
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
        photos=Photos(AttachmentStore(Path(tempfile.mkdtemp(prefix=f"attachments-{run}-"))), settings.attachments),
    )

    def drop() -> None:
        sink.stop()
        thread.join(timeout=30)
        context.publisher.close()
        for kind in INDEX_KINDS:
            for index in backend.get_alias(f"i{run}-{kind}"):
                backend.delete_index(index)
        backend.close()
        shutil.rmtree(context.photos.store.folder, ignore_errors=True)

    cli_args = [a for o in [*engine, f"search.index_prefix=i{run}"] for a in ("--set", o)]
    return ApiEnv(kind, run, settings, context, keys, cli_args, leads, cases, [drop])


# --- fresh cases for tests that change them ------------------------------------------------------

def make_case(env: ApiEnv, name: str, texts: list[tuple[str, str]], *, department: str | None = api_data.HOUSING,
              replies: dict[int, dict] | None = None) -> tuple[list, object]:
    """A new case ``<run>-<name>`` with one lead per (channel, text), oldest first; ``replies``: lead
    position -> official reply (text, unit, at)."""
    import datetime as dt

    from schemas.cases import Case
    from schemas.leads import Category, Lead, OfficialReply, Place

    cid = f"{env.run}-{name}"
    category = Category(level1="城乡建设", level2="城市建设和市政管理") if department else None
    leads = []
    for i, (channel, text) in enumerate(texts):
        at = api_data.NOW - dt.timedelta(days=len(texts) - i)
        reply = (replies or {}).get(i)
        leads.append(Lead(
            lead_id=cid if i == 0 else f"{cid}-{i}", source=f"{channel}-src", channel=channel, external_id=f"{cid}-{i}",
            title=text[:20] if i == 0 else "", text=text, published_at=at, fetched_at=at, lang="zh", category=category,
            department=department, place=Place(town="稠城街道"), priority=50, priority_reasons=["reports:2"] if i else [],
            case_id=cid, is_primary=i == 0, official_reply=OfficialReply(**reply) if reply else None,
        ))  # fmt: skip
    case = Case(
        case_id=cid, title=texts[0][1][:20], summary=texts[0][1], category=category, department=department,
        place=Place(town="稠城街道"), priority=50, report_count=len(leads), channels=sorted({c for c, _ in texts}),
        sources=sorted({lead.source for lead in leads}), first_seen=leads[0].published_at,
        last_seen=leads[-1].published_at, lead_ids=[lead.lead_id for lead in leads],
        due_at=api_data.NOW + dt.timedelta(days=10),
    )  # fmt: skip
    write(env, leads=leads, cases=[case])
    return leads, case


def write(env: ApiEnv, *, leads: list = (), cases: list = (), timeout_s: float = 30.0) -> None:
    """Routed leads and case states into the store, the way the pipeline writes them; returns once
    the store shows them."""
    from streams.records import Output

    batches = (("leads.routed", leads, lambda m: m.lead_id), ("cases.state", cases, lambda m: m.case_id))
    if env.kind == "embedded":
        pipeline = env.pipeline
        for topic, models, _ in batches:
            for model in models:
                value, headers = encode(model)
                pipeline.write(Output(topic, None, value, headers))
        return
    producer = KafkaProducer(**kafka_python_options(env.settings.kafka), acks="all")
    for topic, models, key in batches:
        for model in models:
            value, headers = encode(model)
            producer.send(f"k{env.run}.{topic}", value=value, key=key(model).encode(), headers=headers)
    producer.flush()
    producer.close()
    deadline = time.monotonic() + timeout_s
    store = env.context.store
    while time.monotonic() < deadline:
        if all(store.get("leads", m.lead_id) for m in leads) and all(store.get("cases", m.case_id) for m in cases):
            env.context.store.backend.refresh(f"i{env.run}-leads")
            return
        time.sleep(0.2)
    raise AssertionError("the leads and cases written did not reach the index")


def sink_dead_letters(env: ApiEnv, timeout_s: float = 5.0) -> list:
    """Dead letters the sink wrote (cluster: leads.dlq; embedded: the index's table)."""
    from schemas.dead_letters import DeadLetter

    if env.kind == "embedded":
        return env.pipeline.index.dead_letters(1000)
    consumer = KafkaConsumer(
        f"k{env.run}.leads.dlq", **kafka_python_options(env.settings.kafka), group_id=f"t-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest", consumer_timeout_ms=int(timeout_s * 1000),
    )  # fmt: skip
    try:
        return [decode(record.value, record.headers, DeadLetter) for record in consumer]
    finally:
        consumer.close()
