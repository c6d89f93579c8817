import pytest

from leadhub.settings import Settings, build_settings


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
