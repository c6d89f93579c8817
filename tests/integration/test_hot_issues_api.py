"""The hot-issues suite (tests/hot_issue_suite.py) on the real Kafka + search sink + OpenSearch (`env`
from tests/integration/conftest.py); its embedded half is tests/unit/test_hot_issues_api_embedded.py."""

import pytest

from tests.hot_issue_suite import *  # noqa: F403 - the suite's tests, collected here with this directory's `env`

pytestmark = pytest.mark.integration
