"""Browser tests drive Debian's chromium; they need the services the integration tests use."""

from tests.integration.conftest import kafka_settings, search  # noqa: F401  (shared fixtures)
