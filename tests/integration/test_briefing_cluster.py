"""The briefing from a store (tests/briefing_suite.py) on the real Kafka + sink + OpenSearch; its
embedded half is tests/unit/test_briefing_embedded.py. `env` comes from this directory's conftest."""

from tests.briefing_suite import *  # noqa: F403 - the suite's tests, collected here with the cluster's `env`
