"""T-20: a refresh Xero answered but we never committed (the process died in between): within
Xero's 30-minute grace the next attempt succeeds with the stored old refresh token; after it, the
connection needs re-authorising, admins see it, and nothing retries in a loop. Also: a rotated
token is stored even when the response's id_token cannot be checked."""

from __future__ import annotations

import pytest

from tests.reliability.flows import expire_access_tokens, token_calls
from tests.sync.helpers import connect_org, start_sync


class Crash(RuntimeError):
    """The process dying between Xero's answer and our COMMIT."""


@pytest.fixture
def crash_after_refresh(monkeypatch):
    from wizard.xero import oauth

    real = oauth.refresh

    def refresh_then_die(refresh_token):
        real(refresh_token)  # Xero rotated the token...
        raise Crash("killed before COMMIT")  # ...and we never stored the new one

    def arm():
        monkeypatch.setattr(oauth, "refresh", refresh_then_die)

    def disarm():
        monkeypatch.setattr(oauth, "refresh", real)

    arm.disarm = disarm
    return arm


def _token_set_id(app, connection_id):
    from wizard.extensions import db
    from wizard.models import Connection

    with app.app_context():
        return db.session.get(Connection, connection_id).token_set_id


def test_t20_within_the_grace_the_old_refresh_token_still_works(app, sandbox, crash_after_refresh):
    from wizard.xero.tokens import access_token

    org = connect_org(app, sandbox, records=20)
    token_set_id = _token_set_id(app, org.connection_id)
    expire_access_tokens(app)
    crash_after_refresh()
    with app.app_context(), pytest.raises(Crash):
        access_token(token_set_id)
    crash_after_refresh.disarm()
    sandbox.state.advance(10 * 60)
    with app.app_context():
        assert access_token(token_set_id)
    assert sandbox.state.requests(path="/connect/token")[-1]["status"] == 200


def test_t20_after_the_grace_the_connection_needs_reauth_and_nothing_loops(
    app, sandbox, auth, client, crash_after_refresh
):
    from wizard.extensions import db
    from wizard.models import Connection, User
    from wizard.xero.errors import InvalidGrant
    from wizard.xero.tokens import access_token
    from workers.sync.engine import SyncEngine

    org = connect_org(app, sandbox, records=20)
    token_set_id = _token_set_id(app, org.connection_id)
    expire_access_tokens(app)
    crash_after_refresh()
    with app.app_context(), pytest.raises(Crash):
        access_token(token_set_id)
    crash_after_refresh.disarm()
    sandbox.state.advance(31 * 60)
    before = token_calls(sandbox)
    with app.app_context(), pytest.raises(InvalidGrant):
        access_token(token_set_id)
    assert token_calls(sandbox) == before + 1
    for _ in range(5):  # callers keep asking: Xero is not asked again
        with app.app_context(), pytest.raises(InvalidGrant):
            access_token(token_set_id)
    assert token_calls(sandbox) == before + 1
    # The token layer only reports the dead login; the sync (the service) marks the connection.
    run_id = start_sync(app, org.connection_id)
    with app.app_context():
        assert SyncEngine(run_id).run() == {"failed": "token_dead"}
    assert token_calls(sandbox) == before + 1
    with app.app_context():
        assert db.session.get(Connection, org.connection_id).state == "needs_reauth"
        admin = User(email="boss@example.test", name="boss", role="admin", workspace_id=org.workspace_id)
        admin.set_password("pw")
        db.session.add(admin)
        db.session.commit()
    auth.login("boss@example.test")
    assert "Needs re-authorising" in client.get("/data").get_data(as_text=True)


def test_t20_a_rotated_token_is_kept_even_if_the_id_token_cannot_be_checked(app, sandbox, monkeypatch):
    from wizard.extensions import db
    from wizard.models import TokenSet
    from wizard.xero import oauth
    from wizard.xero.errors import XeroUnavailable
    from wizard.xero.tokens import access_token

    def jwks_down():
        raise XeroUnavailable("OpenID discovery document unavailable")

    org = connect_org(app, sandbox, records=20)
    token_set_id = _token_set_id(app, org.connection_id)
    monkeypatch.setattr(oauth, "_jwks_client", jwks_down)
    sandbox.state.advance(5 * 60)  # Xero's clock ahead of ours: its id_token looks issued in the future
    expire_access_tokens(app)
    with app.app_context():
        assert access_token(token_set_id)
        assert db.session.get(TokenSet, token_set_id).version == 2
