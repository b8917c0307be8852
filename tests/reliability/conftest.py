"""The sync tests' fixtures (clean Redis per test, real workers with settings) for T-22..T-27."""

from tests.sync.conftest import _clean_redis, workers  # noqa: F401 - fixtures, used by name
