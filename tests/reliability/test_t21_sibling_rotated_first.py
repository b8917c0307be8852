"""T-21: invalid_grant while the database already holds a newer token (a sibling rotated it, e.g.
after our lock lease ran out): the caller re-reads, carries on with the sibling's token, and the
connection is not flagged for reconnect."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.reliability.flows import expire_access_tokens
from tests.sync.helpers import connect_org


def test_t21_invalid_grant_after_a_sibling_rotation_is_not_a_dead_connection(app, sandbox, monkeypatch):
    from sqlalchemy import update

    from wizard.clock import utcnow
    from wizard.extensions import db
    from wizard.models import Connection, TokenSet
    from wizard.xero import oauth
    from wizard.xero.tokens import access_token, token_values

    org = connect_org(app, sandbox, records=20)
    with app.app_context():
        token_set_id = db.session.get(Connection, org.connection_id).token_set_id
    expire_access_tokens(app)
    real = oauth.refresh
    sibling_token = {}

    def sibling_rotates_first(refresh_token):
        def sibling():
            with app.app_context():
                token_set = db.session.get(TokenSet, token_set_id)
                response = real(refresh_token)  # the sibling holds the same token and rotates it
                db.session.execute(
                    update(TokenSet)
                    .where(TokenSet.id == token_set_id)
                    .values(**token_values(token_set, response), version=token_set.version + 1, refreshed_at=utcnow())
                )
                db.session.commit()
                sibling_token["access"] = response.access_token

        with ThreadPoolExecutor(1) as pool:
            pool.submit(sibling).result()
        sandbox.state.advance(31 * 60)  # our copy of the old token is now past Xero's grace
        return real(refresh_token)  # -> invalid_grant from Xero

    monkeypatch.setattr(oauth, "refresh", sibling_rotates_first)
    with app.app_context():
        token = access_token(token_set_id)
    assert token == sibling_token["access"]
    assert sandbox.state.requests(path="/connect/token")[-1]["status"] == 400
    with app.app_context():
        connection = db.session.get(Connection, org.connection_id)
        assert connection.state != "needs_reauth" and not connection.token_set.dead
        assert connection.token_set.refresh_failures == 0
