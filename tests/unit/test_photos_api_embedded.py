"""Reports with photos (tests/photo_suite.py) on embedded mode's SQLite index; its OpenSearch half is
tests/integration/test_photos_api.py."""

from tests.photo_suite import *  # noqa: F403 - the suite's tests, collected here with this directory's `env`
