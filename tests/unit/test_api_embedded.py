"""The API suite (tests/api_suite.py) on embedded mode's SQLite index, without services; its OpenSearch
half is tests/integration/test_api.py."""

from tests.api_suite import *  # noqa: F403 - the suite's tests, collected here with this directory's `env`
