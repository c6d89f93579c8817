"""Open311 as a standard client reads it (tests/open311_suite.py) on embedded mode's SQLite index; its
OpenSearch half is tests/integration/test_open311_api.py."""

from tests.open311_suite import *  # noqa: F403 - the suite's tests, collected here with this directory's `env`
