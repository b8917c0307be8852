"""Fixtures for the sync tests: clean Redis per test, extra real workers with their own settings."""

from __future__ import annotations

import pytest

from tests.conftest import WorkerProcess


@pytest.fixture(autouse=True)
def _clean_redis(app):
    """No governor windows, scheduled resumes or retries may leak from one test into the next."""
    app.extensions["rq"].redis.flushdb()
    yield


@pytest.fixture
def postgresql_app(app):
    """The app, in its context, on PostgreSQL only (COPY, the record-owner triggers): skipped on SQLite."""
    from wizard.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL only: set TEST_DATABASE_URL to a PostgreSQL database (CI does)")
        yield app


@pytest.fixture
def workers(test_env, tmp_path):
    """Start more real `python -m workers` processes, each with extra settings (documented environment names)."""
    started: list[WorkerProcess] = []

    def start(*args: str, **settings: str) -> WorkerProcess:
        # DEBUG, so the fault tests can check that no token reaches even the most verbose log.
        env = {**test_env, "LOG_LEVEL": "DEBUG", **{k: str(v) for k, v in settings.items()}}
        process = WorkerProcess(env, tmp_path / f"worker-{len(started)}.log").start(*args)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def fast_sync_worker(sandbox, workers):
    """One real worker that syncs small pages quickly (Xero's and our limits out of the way), for
    tests that check what a whole sync leaves behind page by page."""
    sandbox.state.limits.configure(minute=100_000)
    return workers(
        SYNC_PAGE_SIZE=40,
        SYNC_THREADS=2,
        SYNC_RETRY_BACKOFF=0.01,
        XERO_CALLS_PER_MINUTE=100_000,
        SYNC_WATERMARK_MARGIN_SECONDS=0,
    )
