"""The reports suite (tests/reports_suite.py) on embedded mode's SQLite index, without services; its
OpenSearch half is tests/integration/test_reports_api.py."""

from tests.reports_suite import *  # noqa: F403 - the suite's tests, collected here with this directory's `env`
