"""The hot-issues suite (tests/hot_issue_suite.py) on embedded mode's SQLite index; its OpenSearch half
is tests/integration/test_hot_issues_api.py."""

import pytest

from tests.hot_issue_suite import *  # noqa: F403 - the suite's tests, collected here with this module's `env`


@pytest.fixture(scope="module", params=["embedded"])
def env(tmp_path_factory):
    from tests import api_env

    environment = api_env.start_embedded(tmp_path_factory.mktemp("embedded"))
    yield environment
    environment.close()
