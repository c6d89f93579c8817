"""Open311 as a standard client reads it (tests/open311_suite.py) on Kafka and OpenSearch; its embedded
half is tests/unit/test_open311_api_embedded.py."""

import pytest

from tests.open311_suite import *  # noqa: F403 - the suite's tests, collected here with this directory's `env`

pytestmark = pytest.mark.integration
