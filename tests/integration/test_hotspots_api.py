"""The hotspots suite (tests/hotspot_suite.py) on the real Kafka + search sink + OpenSearch (`env` from
tests/integration/conftest.py); its embedded half is tests/unit/test_hotspots_api_embedded.py."""

import pytest

from tests.hotspot_suite import *  # noqa: F403 - the suite's tests, collected here with this directory's `env`

pytestmark = pytest.mark.integration
