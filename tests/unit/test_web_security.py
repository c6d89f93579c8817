"""Access and web security without services: who sees contacts, web sessions, data file modes,
unique key names, field-report lead ids, redirect messages, validation errors, the body limit."""

from __future__ import annotations

import os
import stat
import time

import pytest
import yaml
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel

from leadhub.access import Principal, redact_lead
from leadhub.api import outcomes
from leadhub.api.guards import (
    INPUT_CHARS,
    PAGE_POLICY,
    BodyLimit,
    SecurityHeaders,
    docs_policy,
    validation_errors,
)
from leadhub.api.sessions import SessionManager, load_or_create_secret
from leadhub.cli import main
from leadhub.intake import (
    INTAKE_SOURCE,
    FieldReport,
    report_external_id,
    report_to_raw_lead,
)
from leadhub.settings import ApiKeySpec, build_settings
from schemas.errors import ConfigError
from schemas.leads import lead_id_for
from schemas.private_files import private_file, write_private

HOUSING, TRANSPORT = "市住房和城乡建设局", "市交通运输局"

# --- who sees reporters' contacts -----------------------------------------------------------------

WHO = {
    "analyst": Principal("ana", "analyst"),
    "officer": Principal("o1", "officer", frozenset({HOUSING})),
    "other_officer": Principal("o2", "officer", frozenset({TRANSPORT})),
    "all_officer": Principal("o3", "officer", frozenset({"*"})),
    "no_department_officer": Principal("o4", "officer"),
    "intake": Principal("eo", "intake"),
    "admin": Principal("root", "admin"),
}
SEES = {  # role -> (a housing case, a case not routed yet)
    "analyst": (False, False), "officer": (True, False), "other_officer": (False, False),
    "all_officer": (True, True), "no_department_officer": (False, False), "intake": (False, False),
    "admin": (True, True),
}  # fmt: skip


@pytest.mark.parametrize("role", WHO)
def test_contacts_only_for_admins_and_officers_of_the_cases_department(role):
    lead = {"lead_id": "l1", "text": "电梯停运", "contact": {"phone": "13800000000"}}
    housing, unrouted = SEES[role]
    assert ("contact" in redact_lead(lead, WHO[role], HOUSING)) is housing
    assert ("contact" in redact_lead(lead, WHO[role], None)) is unrouted
    assert redact_lead(lead, WHO[role], HOUSING)["text"] == "电梯停运"


# --- web sessions ------------------------------------------------------------------------------------

def test_a_session_names_its_key_expires_and_refuses_tampering():
    sessions = SessionManager(b"s" * 32, ttl_s=60)
    token = sessions.issue("ab" * 32, now=1000.0)
    assert sessions.verify(token, now=1001.0).key_digest == "ab" * 32
    assert sessions.verify(token, now=1061.0) is None  # expired
    payload, _, signature = token.partition(".")
    assert sessions.verify(f"{payload}.{signature[:-2]}xx", now=1001.0) is None
    assert SessionManager(b"t" * 32, ttl_s=60).verify(token, now=1001.0) is None  # another secret
    for junk in ("", ".", "x.y", "é.é", "a" * 5000):
        assert sessions.verify(junk) is None


def test_logout_revokes_the_session_also_for_a_new_process(tmp_path):
    db = tmp_path / "sessions.sqlite"
    first = SessionManager(b"s" * 32, ttl_s=600, revoked_db=db)
    token, other = first.issue("cd" * 32), first.issue("cd" * 32)
    first.revoke(token)
    assert first.verify(token) is None and first.verify(other) is not None
    restarted = SessionManager(b"s" * 32, ttl_s=600, revoked_db=db)
    assert restarted.verify(token) is None and restarted.verify(other) is not None
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_the_session_secret_is_generated_once_into_a_private_file(tmp_path):
    path = tmp_path / "new-dir" / "session-secret"
    secret = load_or_create_secret(path)
    assert len(secret) >= 32 and load_or_create_secret(path) == secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700


# --- data files are private ---------------------------------------------------------------------------

def test_data_files_are_created_0600_in_0700_folders_whatever_the_umask(tmp_path):
    from ingestors.state import IngestState
    from sinks.embedded_index import EmbeddedIndex

    old = os.umask(0o022)
    try:
        state = IngestState(tmp_path / "a" / "ingest-state.sqlite")
        index = EmbeddedIndex(tmp_path / "b" / "c" / "embedded.sqlite")
        assert write_private(tmp_path / "d" / "secret", b"x") and not write_private(tmp_path / "d" / "secret", b"y")
    finally:
        os.umask(old)
    for path in (tmp_path / "a" / "ingest-state.sqlite", tmp_path / "b" / "c" / "embedded.sqlite", tmp_path / "d" / "secret"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700, path.parent
    assert stat.S_IMODE((tmp_path / "b").stat().st_mode) == 0o700
    assert (tmp_path / "d" / "secret").read_bytes() == b"x"
    # An existing folder keeps the mode its owner gave it.
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    private_file(shared / "f")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
    del state, index


# --- API key names ----------------------------------------------------------------------------------

def _spec(name: str) -> dict:
    return ApiKeySpec(name=name, sha256="0" * 64, role="analyst").model_dump()


def test_settings_refuse_two_api_keys_with_one_name(tmp_path):
    config = tmp_path / "leadhub.yaml"
    config.write_text(yaml.safe_dump({"api": {"keys": [_spec("li"), _spec("wang"), _spec("li")]}}), encoding="utf-8")
    with pytest.raises(ConfigError, match="unique; repeated: li"):
        build_settings(config)


def test_key_create_refuses_a_name_already_in_api_keys(tmp_path, capsys):
    config = tmp_path / "leadhub.yaml"
    config.write_text(yaml.safe_dump({"api": {"keys": [_spec("li")]}}), encoding="utf-8")
    assert main(["--config", str(config), "api", "key", "create", "--name", "li", "--role", "analyst"]) != 0
    err = capsys.readouterr().err
    assert "already exists" in err and "Traceback" not in err
    assert main(["--config", str(config), "api", "key", "create", "--name", "wang", "--role", "analyst"]) == 0
    assert "key (shown once): lh_" in capsys.readouterr().out


# --- field report lead ids --------------------------------------------------------------------------

def test_field_report_ids_of_different_officer_and_report_pairs_never_collide():
    pairs = [("a:b", "c"), ("a", "b:c"), ("a%3Ab", "c"), ("a", "b"), ("a:", "b"), ("a", ":b")]
    ids = {report_external_id(officer, report) for officer, report in pairs}
    assert len(ids) == len(pairs)
    leads = {lead_id_for(INTAKE_SOURCE, external_id) for external_id in ids}
    assert len(leads) == len(pairs)


def test_a_plain_officer_name_keeps_the_lead_id_stored_before():
    report = FieldReport(report_id="r-1", title="t", place="p", visited_at="2024-05-02T10:00:00+08:00", tried="x", went_wrong="y")
    lead = report_to_raw_lead(report, "experience-officer-1")
    assert lead.external_id == "experience-officer-1:r-1"  # how ids stored before this change were made
    assert lead.lead_id == lead_id_for(INTAKE_SOURCE, "experience-officer-1:r-1")


# --- messages after a redirect ----------------------------------------------------------------------

def test_redirect_messages_come_from_a_fixed_set():
    assert outcomes.error_text("en", "conflict") == "The case's current status does not allow this action: reload the page to see its status."
    assert outcomes.error_text("zh", "请拨打 400-123-4567 领取补贴") == outcomes.error_text("zh", "failed")
    assert "400" not in outcomes.error_text("en", "conflict", action="请拨打 400-123-4567")  # an unknown action is dropped
    assert "Resolve" in outcomes.error_text("en", "conflict", action="resolve")
    assert outcomes.error_text("en", None) is None
    assert outcomes.done_text("en", "accept", "accepted", False) == "Accept: done. The case is now accepted."
    assert outcomes.done_text("zh", "accept", "accepted", False) == "“受理”已完成，案件现为：已受理。"
    assert outcomes.done_text("en", "<b>x</b>", "accepted", False) is None
    assert outcomes.done_text("en", "accept", "call 110", False) is None
    assert outcomes.error_code(409) == "conflict" and outcomes.error_code(500) == "failed"


# --- validation errors, body limit, headers -------------------------------------------------------------

class _Body(BaseModel):
    title: str


def _app(max_bytes: int = 1024) -> FastAPI:
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    app = FastAPI()

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        return JSONResponse({"detail": validation_errors(exc.errors())}, status_code=422)

    @app.post("/echo")
    def echo(body: _Body) -> dict:
        return {"title": body.title}

    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, max_bytes=max_bytes)
    return app


def test_validation_errors_keep_place_message_and_type_and_cut_the_input():
    big = {"title": 5, "padding": "x" * 100_000}
    errors = validation_errors([{"loc": ("body",), "msg": "bad", "type": "t", "input": big, "ctx": {"x": 1}, "url": "u"}])
    assert set(errors[0]) == {"loc", "msg", "type", "input"} and len(errors[0]["input"]) < INPUT_CHARS + 40
    client = TestClient(_app(max_bytes=10_000_000))
    response = client.post("/echo", content=b"{" + b"x" * 5_000_000, headers={"content-type": "application/json"})
    assert response.status_code == 422 and len(response.content) < 2000


def test_a_body_over_the_limit_is_a_413_with_a_clear_message():
    client = TestClient(_app(max_bytes=1024))
    assert client.post("/echo", json={"title": "电梯"}).json() == {"title": "电梯"}
    response = client.post("/echo", json={"title": "x" * 5000})
    assert response.status_code == 413 and "at most 1024 bytes" in response.json()["detail"]

    def chunks():  # no Content-Length: counted as it streams in
        for _ in range(10):
            yield b"x" * 500

    streamed = client.post("/echo", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413 and "api.max_body_bytes" in streamed.json()["detail"]


def test_every_response_carries_the_security_headers():
    response = TestClient(_app()).post("/echo", json={"title": "x"})
    assert response.headers["content-security-policy"] == PAGE_POLICY
    assert "frame-ancestors 'none'" in PAGE_POLICY and "default-src 'none'" in PAGE_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


def test_the_docs_policy_allows_exactly_the_swagger_page_scripts():
    from fastapi.openapi.docs import get_swagger_ui_html

    html = get_swagger_ui_html(openapi_url="/openapi.json", title="t").body.decode()
    policy = docs_policy(html)
    assert "'sha256-" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "script-src https://cdn.jsdelivr.net" in policy and "connect-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


def test_sessions_expire_in_real_time_too():
    sessions = SessionManager.ephemeral(ttl_s=60)
    token = sessions.issue("ef" * 32)
    assert sessions.verify(token) is not None
    assert sessions.verify(token, now=time.time() + 61) is None


def test_the_dashboard_policy_allows_its_charts_inline_styles_by_hash_only():
    from leadhub.api.guards import page_policy

    assert page_policy("<p>no styles</p>") == PAGE_POLICY
    policy = page_policy('<svg><style>.a &gt; .b{fill:red}</style><g style="opacity: 0"></g></svg>')
    styles = policy.split("style-src ")[1].split(";")[0]
    assert styles.count("'sha256-") == 2 and "'unsafe-hashes'" in styles and "'unsafe-inline'" not in styles
    assert "script-src" not in policy and "default-src 'none'" in policy
