"""The API suites' embedded half (tests/api_suite.py, tests/api_security_suite.py): a leadhub over a
fresh embedded SQLite file with the seed and one key per role, no services, so the fast loop checks
that both stores answer alike. The OpenSearch half's `env` is in tests/integration/conftest.py."""

import pytest


@pytest.fixture(scope="module", params=["embedded"])
def env(tmp_path_factory):
    from tests import api_env

    environment = api_env.start_embedded(tmp_path_factory.mktemp("embedded"))
    yield environment
    environment.close()
