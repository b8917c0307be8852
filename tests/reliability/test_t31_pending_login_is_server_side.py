"""T-31..T-34 (issue 11 item 1): a Xero login in progress lives in the database, bound to one user and
workspace, its callback used once across every cookie; the cookie only names it.

The attacker here knows the development SECRET_KEY (the tests' key), so can sign any session cookie.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select, update

from tests.reliability.flows import callback, consent, start_login, token_calls, token_rows
from wizard.extensions import db
from wizard.models import Connection, TokenSet, XeroLogin

KOWHAI = "Kowhai Outdoor Supplies"


def _sign_in(app, email: str, workspace: str, auth):
    auth.make_user(email, "admin", workspace)
    client = app.test_client()
    assert client.post("/login", data={"email": email, "password": "pw"}).status_code == 303
    return client


def _victims_finished_login(app, auth):
    """Workspace A's admin finished a Xero login (step 3 is open in their browser)."""
    victim = _sign_in(app, "a-admin@example.test", "Workspace A", auth)
    assert callback(victim, consent(start_login(victim))).status_code == 303
    assert KOWHAI in victim.get("/connect/xero/organisations").get_data(as_text=True)
    with app.app_context():
        login = db.session.scalars(select(XeroLogin)).one()
        return victim, login.id, login.token_set_id


def _forge(client, **keys) -> None:
    """Sign a session cookie with the app's SECRET_KEY carrying whatever the attacker wants."""
    with client.session_transaction() as session:
        session.update(keys)


def _connections(app) -> list[tuple[int, str]]:
    with app.app_context():
        return list(db.session.execute(select(Connection.workspace_id, Connection.tenant_name)).all())


def test_t31_forged_cookie_naming_another_workspaces_login_is_refused_and_changes_nothing(app, auth, sandbox):
    _, login_id, token_set_id = _victims_finished_login(app, auth)
    attacker = _sign_in(app, "b-admin@example.test", "Workspace B", auth)
    # Every name the wizard ever trusted from the cookie, pointing at workspace A's login and tokens.
    _forge(
        attacker,
        xero_login=login_id,
        xero_authorised={"token_set_id": token_set_id, "auth_event_id": "", "reconnect_id": None},
        xero_chosen_tenant=sandbox.state.tenant_id(KOWHAI),
    )
    sandbox.state.clear_requests()

    page = attacker.get("/connect/xero/organisations").get_data(as_text=True)
    assert KOWHAI not in page and 'data-hint="state_invalid"' in page
    chosen = attacker.post("/connect/xero/organisations", data={"tenant_id": sandbox.state.tenant_id(KOWHAI)})
    assert KOWHAI not in chosen.get_data(as_text=True)
    attacker.get("/connect/xero/confirm")
    created = attacker.post("/connect/xero/connections")
    assert created.status_code == 200 and 'data-hint="state_invalid"' in created.get_data(as_text=True)

    assert _connections(app) == []
    assert not sandbox.state.requests(path="/connections"), "A's token was used for B"
    with app.app_context():
        login = db.session.get(XeroLogin, login_id)
        assert login.chosen_tenant_id == "" and login.token_set_id == token_set_id


def test_t31_forged_cookie_naming_another_workspaces_waiting_login_cannot_take_its_callback(app, auth, sandbox):
    victim = _sign_in(app, "a-admin@example.test", "Workspace A", auth)
    victims_callback = consent(start_login(victim))  # Xero answered; the callback is not yet delivered
    with app.app_context():
        login_id = db.session.scalars(select(XeroLogin.id)).one()
    attacker = _sign_in(app, "b-admin@example.test", "Workspace B", auth)
    _forge(attacker, xero_login=login_id)
    before = token_calls(sandbox)

    response = callback(attacker, victims_callback)
    assert response.status_code == 400
    assert token_calls(sandbox) == before and token_rows(app) == 0
    # The victim's own login is untouched and still finishes.
    assert callback(victim, victims_callback).status_code == 303
    with app.app_context():
        assert db.session.scalars(select(TokenSet.workspace_id)).all() == [
            db.session.scalar(select(XeroLogin.workspace_id))
        ]


def test_t32_restored_older_cookie_cannot_replay_the_callback(app, auth, client, sandbox):
    auth.as_new("admin")
    url = consent(start_login(client))
    older = client.get_cookie("session").value  # the cookie as it was before the callback
    assert callback(client, url).status_code == 303
    before = token_calls(sandbox)

    client.set_cookie("session", older)
    replay = callback(client, url)
    assert replay.status_code == 400
    assert "expired or was already used" in replay.get_data(as_text=True)
    assert token_calls(sandbox) == before
    # A second browser holding a copy of that cookie is refused the same way.
    other = app.test_client()
    other.set_cookie("session", older)
    assert callback(other, url).status_code == 400 and token_calls(sandbox) == before


def test_t33_two_simultaneous_callbacks_exchange_the_code_once(app, auth, client, sandbox):
    auth.as_new("admin")
    url = consent(start_login(client))
    cookie = client.get_cookie("session").value
    browsers = [app.test_client() for _ in range(4)]
    for browser in browsers:
        browser.set_cookie("session", cookie)
    gate = threading.Barrier(len(browsers))
    statuses: list[int] = []

    def deliver(browser) -> None:
        gate.wait()
        statuses.append(callback(browser, url).status_code)

    threads = [threading.Thread(target=deliver, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [303, 400, 400, 400]
    assert token_calls(sandbox) == 1 and token_rows(app) == 1


def test_t34_a_login_row_pointing_at_another_workspaces_tokens_is_not_used(app, auth, client, sandbox):
    """Defence in depth: even if a login row named a foreign token set, no step would use it."""
    _, _, foreign_token_set = _victims_finished_login(app, auth)
    attacker = _sign_in(app, "b-admin@example.test", "Workspace B", auth)
    assert callback(attacker, consent(start_login(attacker), email="xero.admin@demo.test")).status_code == 303
    with app.app_context():
        b_workspace = db.session.scalar(select(TokenSet.workspace_id).where(TokenSet.id != foreign_token_set))
        db.session.execute(
            update(XeroLogin).where(XeroLogin.workspace_id == b_workspace).values(token_set_id=foreign_token_set)
        )
        db.session.commit()
    sandbox.state.clear_requests()
    page = attacker.get("/connect/xero/organisations").get_data(as_text=True)
    assert KOWHAI not in page and 'data-hint="state_invalid"' in page
    assert attacker.post("/connect/xero/connections").status_code == 200
    assert not sandbox.state.requests(path="/connections")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Connection)) == 0
