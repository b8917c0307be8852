"""Refresh-token rotation under concurrency: exactly one token call, the rotated token stored first."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import func, select

from tests.conftest import ROOT
from tests.sync.helpers import connect_org

CALL = (
    "from wizard import create_app; from wizard.xero.tokens import access_token; app = create_app(); "
    "ctx = app.app_context(); ctx.push(); import hashlib; "
    "print(hashlib.sha256(access_token({id}).encode()).hexdigest())"
)


def _expire(app, connection_id: int) -> int:
    from wizard.clock import utcnow
    from wizard.extensions import db
    from wizard.models import Connection

    with app.app_context():
        token_set = db.session.get(Connection, connection_id).token_set
        token_set.access_expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        return token_set.id


def _token_calls(sandbox) -> int:
    return len([r for r in sandbox.state.requests(path="/connect/token")])


def test_twenty_threads_refresh_once_and_share_the_new_token(app, sandbox):
    from wizard.extensions import db
    from wizard.models import TokenSet
    from wizard.xero.tokens import access_token

    org = connect_org(app, sandbox, records=20)
    token_set_id = _expire(app, org.connection_id)
    before = _token_calls(sandbox)

    def call(_):
        with app.app_context():
            return access_token(token_set_id)

    with ThreadPoolExecutor(20) as pool:
        tokens = set(pool.map(call, range(20)))
    assert len(tokens) == 1
    assert _token_calls(sandbox) - before == 1
    with app.app_context():
        assert db.session.get(TokenSet, token_set_id).version == 2


def test_separate_processes_refresh_once(app, sandbox, test_env):
    org = connect_org(app, sandbox, records=20)
    token_set_id = _expire(app, org.connection_id)
    before = _token_calls(sandbox)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CALL.format(id=token_set_id)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-500:] for _, err in outputs]
    assert len({out.strip() for out, _ in outputs}) == 1
    assert _token_calls(sandbox) - before == 1


def test_refused_token_is_replaced_and_a_dead_grant_needs_reauth(app, sandbox):
    import pytest

    from wizard.connection_health import mark_login_dead
    from wizard.extensions import db
    from wizard.models import Connection, Notification, TokenSet
    from wizard.xero.errors import InvalidGrant
    from wizard.xero.tokens import access_token

    org = connect_org(app, sandbox, records=20)
    with app.app_context():
        first = access_token(db.session.get(Connection, org.connection_id).token_set_id)
        token_set_id = db.session.get(Connection, org.connection_id).token_set_id
        assert access_token(token_set_id, refused=first) != first
        # A second organisation connected with the same Xero login shares the token set.
        sibling = Connection(
            workspace_id=org.workspace_id, token_set_id=token_set_id, tenant_id="sibling", tenant_name="Sibling Ltd"
        )
        db.session.add(sibling)
        db.session.commit()
        sibling_id = sibling.id
    sandbox.state.revoke_user_tokens("xero.adviser@demo.test")
    _expire(app, org.connection_id)
    with app.app_context(), pytest.raises(InvalidGrant):
        access_token(token_set_id)
    with app.app_context():
        # The client layer records the dead login and reports it; it changes no connection and tells nobody.
        assert db.session.get(TokenSet, token_set_id).dead
        assert {c.state for c in db.session.scalars(select(Connection))} == {"connecting"}
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
        # The service layer decides: every connection on that login needs the admin to log in again.
        mark_login_dead(token_set_id)
        db.session.commit()
        assert db.session.get(Connection, org.connection_id).state == "needs_reauth"
        assert db.session.get(Connection, sibling_id).state == "needs_reauth"
