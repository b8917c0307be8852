"""T-19: after 20 concurrent callers shared one refresh, the database holds the newest refresh
token: once Xero's 30-minute grace for the old one is over, the stored one still refreshes.
(Exactly one token call for 20 threads and for separate processes, same access token for all:
tests/sync/test_tokens.py::test_twenty_threads_refresh_once_and_share_the_new_token and
::test_separate_processes_refresh_once.)"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.reliability.flows import expire_access_tokens, token_calls
from tests.sync.helpers import connect_org


def test_t19_the_stored_refresh_token_is_the_newest_one(app, sandbox):
    from wizard.extensions import db
    from wizard.models import Connection
    from wizard.xero.tokens import access_token

    org = connect_org(app, sandbox, records=20)
    with app.app_context():
        token_set_id = db.session.get(Connection, org.connection_id).token_set_id
    expire_access_tokens(app)
    before = token_calls(sandbox)

    def call(_):
        with app.app_context():
            return access_token(token_set_id)

    with ThreadPoolExecutor(20) as pool:
        assert len(set(pool.map(call, range(20)))) == 1
    assert token_calls(sandbox) == before + 1
    sandbox.state.advance(31 * 60)  # the superseded refresh token is now dead at Xero
    expire_access_tokens(app)
    with app.app_context():
        fresh = access_token(token_set_id)
    assert token_calls(sandbox) == before + 2
    assert sandbox.state.requests(path="/connect/token")[-1]["status"] == 200
    with app.app_context():
        connection = db.session.get(Connection, org.connection_id)
        assert connection.state != "needs_reauth" and not connection.token_set.dead
        assert connection.token_set.version == 3 and fresh
