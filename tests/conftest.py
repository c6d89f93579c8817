import pytest

from leadhub.settings import Settings, build_settings


@pytest.fixture(autouse=True)
def no_locally_built_default_model(monkeypatch, tmp_path_factory):
    """Rules only unless a test brings its own model: a default model built on this machine
    (`leadhub model build-default`, never in the repository) must not change what the suites expect."""
    monkeypatch.setattr("streams.pipeline.DEFAULT_MODEL", tmp_path_factory.getbasetemp() / "no-default-model.pkl")


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No LEADHUB_* variables and no ./leadhub.yaml leak into a settings test."""
    import os

    for key in list(os.environ):
        if key.startswith("LEADHUB_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def settings() -> Settings:
    return build_settings()


@pytest.fixture(scope="module")
def client(env):
    """The API suites' client (tests/api_suite.py, tests/api_security_suite.py) on the leadhub that
    `env` runs: OpenSearch in tests/integration/conftest.py, embedded in tests/unit/conftest.py."""
    from fastapi.testclient import TestClient

    from leadhub.api.app import create_app

    with TestClient(create_app(env.context)) as test_client:
        yield test_client
