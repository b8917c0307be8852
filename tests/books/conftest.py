"""The books tests share the sync tests' fixtures (clean Redis, extra workers)."""

from tests.sync.conftest import _clean_redis, fast_sync_worker, workers  # noqa: F401
