"""Department performance over HTTP (tests/performance_suite.py) on the real Kafka + sink + OpenSearch;
its embedded half is tests/unit/test_performance_api_embedded.py. `env` comes from this directory's conftest."""

from tests.performance_suite import *  # noqa: F403 - the suite's tests, collected here with the cluster's `env`
