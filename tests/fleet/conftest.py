"""Fleet tests reuse the sync tests' fixtures: clean Redis per test and extra real workers."""

from tests.sync.conftest import _clean_redis, workers  # noqa: F401
