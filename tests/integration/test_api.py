"""The API suite (tests/api_suite.py) on the real Kafka + search sink + each engine (OpenSearch, the local
Elasticsearch 9); its embedded half is tests/unit/test_api_embedded.py."""

import pytest

from tests.api_suite import *  # noqa: F403 - the suite's tests, collected here with this directory's `env`

pytestmark = pytest.mark.integration

