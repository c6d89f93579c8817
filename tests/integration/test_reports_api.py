"""The reports suite (tests/reports_suite.py) on the real Kafka + search sink + OpenSearch; its
embedded half is tests/unit/test_reports_api_embedded.py."""

import pytest

from tests.reports_suite import *  # noqa: F403 - the suite's tests, collected here with this directory's `env`

pytestmark = pytest.mark.integration
