"""T-09: connect, refresh and sync with every logger at DEBUG (the web side in this process, the
worker in its own): no access token, refresh token, authorisation code or client secret in any
log line. (No Sentry or APM is wired in.)"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import CLIENT_SECRET, WorkerProcess
from tests.faults.invariants import holds_jwt
from tests.reliability.flows import connect_via_wizard, expire_access_tokens, stored_tokens, token_calls
from tests.sync.helpers import wait_for_run

# Xero's own logs are not ours: the in-process sandbox and its HTTP server.
NOT_OURS = ("xero_sandbox", "werkzeug")


@pytest.mark.slow
def test_t09_logs_at_debug_hold_no_token_code_or_secret(app, auth, client, sandbox, caplog, test_env, tmp_path):
    from wizard import syncing
    from wizard.extensions import db
    from wizard.models import Connection, SyncRun
    from wizard.xero.tokens import access_token

    caplog.set_level(logging.DEBUG)
    auth.as_new("admin")
    callback_url, connection_id, _ = connect_via_wizard(app, client, sandbox)
    code = parse_qs(urlsplit(callback_url).query)["code"][0]
    secrets = {CLIENT_SECRET, code, *stored_tokens(app)}

    worker = WorkerProcess({**test_env, "LOG_LEVEL": "DEBUG"}, tmp_path / "worker.log").start()
    try:
        with app.app_context():
            first = db.session.scalar(db.select(SyncRun.id).where(SyncRun.connection_id == connection_id))
        assert wait_for_run(app, first) == "succeeded", worker.output()[-2000:]
        # A refresh on the web side...
        expire_access_tokens(app)
        with app.app_context():
            access_token(db.session.get(Connection, connection_id).token_set_id)
        secrets |= set(stored_tokens(app))
        # ...and one in the worker, in the middle of a sync.
        expire_access_tokens(app)
        calls = token_calls(sandbox)
        with app.app_context():
            second = syncing.start_sync(db.session.get(Connection, connection_id)).id
        assert wait_for_run(app, second) == "succeeded", worker.output()[-2000:]
        assert token_calls(sandbox) == calls + 1, "the worker did not refresh"
        secrets |= set(stored_tokens(app))
    finally:
        worker.stop()
    with sandbox.state.store.lock:
        secrets |= set(sandbox.state.store.refresh_tokens)

    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(NOT_OURS))
    worker_log = worker.output()
    assert "DEBUG" in worker_log and len(ours) > 0, "nothing was logged at DEBUG: the test proves nothing"
    for where, text in (("web app", ours), ("worker", worker_log)):
        leaked = sorted(s[:10] + "..." for s in secrets if s and s in text)
        assert not leaked, f"{where} log holds secrets: {leaked}"
        assert not holds_jwt(text) and "Bearer " not in text, f"{where} log holds a JWT or Authorization header"


@pytest.fixture
def oauth_libraries_at_debug():
    """What a careless logging config does: open requests-oauthlib's and oauthlib's loggers at DEBUG."""
    names = ("requests_oauthlib", "requests_oauthlib.oauth2_session", "oauthlib")
    before = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield
    for name, level in before.items():
        logging.getLogger(name).setLevel(level)


def test_t09_code_exchange_and_refresh_through_requests_oauthlib_log_no_token_at_debug(
    app, auth, client, sandbox, caplog, oauth_libraries_at_debug
):
    """requests-oauthlib prints request and response bodies at DEBUG; none of it may reach a log."""
    import base64

    from tests.conftest import CLIENT_ID
    from tests.reliability.flows import callback, consent, start_login
    from wizard.extensions import db
    from wizard.models import TokenSet
    from wizard.xero.tokens import access_token

    caplog.set_level(logging.DEBUG)
    auth.as_new("admin")
    url = consent(start_login(client))
    assert callback(client, url).status_code == 303
    secrets = {CLIENT_SECRET, parse_qs(urlsplit(url).query)["code"][0], *stored_tokens(app)}
    secrets.add(base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode())
    calls = token_calls(sandbox)
    expire_access_tokens(app)
    with app.app_context():
        access_token(db.session.scalar(db.select(TokenSet.id)))
    assert token_calls(sandbox) == calls + 1, "no refresh happened: the test proves nothing"
    secrets |= set(stored_tokens(app))

    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(NOT_OURS))
    assert "/connect/token" in ours, "the token calls were not logged at DEBUG at all: the test proves nothing"
    leaked = sorted(s[:10] + "..." for s in secrets if s and s in ours)
    assert not leaked, f"the log holds secrets: {leaked}"
    assert not holds_jwt(ours) and "refresh_token" not in ours
