"""Reports with photos (tests/photo_suite.py) on Kafka and OpenSearch; its embedded half is
tests/unit/test_photos_api_embedded.py."""

from tests.photo_suite import *  # noqa: F403 - the suite's tests, collected here with this directory's `env`
