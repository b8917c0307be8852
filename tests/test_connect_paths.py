"""Issue 12 items 2, 3, 4 and 6: every way off the happy path of step 3 and reconnect ends well.

Through the Flask test client against the sandbox Xero; what the admin sees is read from the pages.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.test_connect_flow import ADVISER, callback, xero_login
from wizard.extensions import db
from wizard.models import Connection, Notification, SyncRun, TokenSet

KOWHAI, THAMES = "Kowhai Outdoor Supplies", "Thames Bicycle Works Ltd"


def _login(client, sandbox, organisations) -> str:
    response = callback(client, xero_login(client, sandbox, ADVISER, organisations=organisations))
    assert response.status_code == 303, response.status_code
    return client.get("/connect/xero/organisations").get_data(as_text=True)


def _connect(client, sandbox, name: str) -> None:
    page = _login(client, sandbox, [name])
    tenant = re.search(r'name="tenant_id" value="([^"]+)"', page).group(1)
    client.post("/connect/xero/organisations", data={"tenant_id": tenant})
    assert client.post("/connect/xero/connections").status_code == 303


def _connection(app, name: str) -> Connection:
    with app.app_context():
        return db.session.scalars(select(Connection).where(Connection.tenant_name == name)).one()


def _consent_at(client, authorize_path: str, organisation: str) -> str:
    """Open our authorize URL, then log in at Xero as the adviser and tick one organisation."""
    from tests.conftest import REDIRECT_URI
    from tests.helpers.xero_login import XeroBrowser

    location = client.get(authorize_path).headers["Location"]
    return XeroBrowser().authorize(location, ADVISER, redirect_prefix=REDIRECT_URI, organisations=[organisation])


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_only_already_connected_organisations_explains_links_and_offers_another_login(app, auth, client, sandbox):
    auth.as_new("admin")
    _connect(client, sandbox, KOWHAI)
    page = _login(client, sandbox, [KOWHAI])
    text = _text(page)
    assert "This organisation is already connected here" in text
    assert f"Xero authorised only an organisation this workspace already has: {KOWHAI}" in text
    connection = _connection(app, KOWHAI)
    assert f'href="/data/connections/{connection.id}"' in page
    assert "Log in again and choose another organisation" in text
    assert 'href="/connect/xero/authorize?mode=redirect"' in page
    assert "Continue" not in text and 'type="radio"' not in page  # no dead control left


def test_one_new_organisation_starts_selected(app, auth, client, sandbox):
    auth.as_new("admin")
    page = _login(client, sandbox, [THAMES])
    assert re.search(r'name="tenant_id" value="[^"]+"\s+checked', page), "the one organisation is not preselected"
    assert "Connect all" not in page


def test_connect_all_connects_every_new_organisation_and_starts_their_syncs(app, auth, client, sandbox):
    auth.as_new("admin")
    page = _login(client, sandbox, ["*"])
    assert "Connect all 2" in _text(page) and "checked" not in page
    response = client.post("/connect/xero/connections/all")
    assert response.status_code == 303 and response.headers["Location"] == "/data"
    data = _text(client.get("/data").get_data(as_text=True))
    assert f"Connected 2 organisations: {KOWHAI}, {THAMES}." in data
    with app.app_context():
        assert sorted(db.session.scalars(select(Connection.tenant_name))) == [KOWHAI, THAMES]
        assert sorted(db.session.scalars(select(SyncRun.kind))) == ["initial", "initial"]


def test_organisations_ticked_at_xero_but_not_connected_are_named_and_can_be_removed_there(app, auth, client, sandbox):
    auth.as_new("admin")
    page = _login(client, sandbox, ["*"])
    kowhai = sandbox.state.tenant_id(KOWHAI)
    assert kowhai in page
    client.post("/connect/xero/organisations", data={"tenant_id": kowhai})
    done = client.post("/connect/xero/connections")
    complete = _text(client.get(done.headers["Location"]).get_data(as_text=True))
    assert f"In your last Xero login you ticked {THAMES} on Xero's consent screen." in complete
    assert "Xero keeps it connected to our app" in complete and "Remove it at Xero" in complete
    assert len(sandbox.state.connections()) == 2

    removed = client.post("/connect/xero/unused/remove")
    assert removed.status_code == 303
    assert f"Removed at Xero, not connected here: {THAMES}." in _text(client.get("/data").get_data(as_text=True))
    assert [c["tenantName"] for c in sandbox.state.connections()] == [KOWHAI]
    assert "In your last Xero login you ticked" not in _text(
        client.get(done.headers["Location"]).get_data(as_text=True)
    )


def test_removing_unused_keeps_an_organisation_another_workspace_uses_through_the_same_xero_user(
    app, auth, client, sandbox
):
    auth.as_new("admin", "b-admin@example.test", workspace="Workspace B")
    _connect(client, sandbox, THAMES)  # workspace B uses Thames through the adviser's Xero login
    client.get("/logout")
    other = app.test_client()
    auth.make_user("a-admin@example.test", "admin", "Workspace A")
    other.post("/login", data={"email": "a-admin@example.test", "password": "pw"})
    _connect(other, sandbox, KOWHAI)
    page = _login(other, sandbox, ["*"])
    assert "Thames" in page
    with app.app_context():
        kowhai = db.session.scalars(select(Connection).where(Connection.tenant_name == KOWHAI)).one().id
    complete = _text(other.get(f"/connect/xero/complete/{kowhai}").get_data(as_text=True))
    assert "In your last Xero login you ticked" not in complete  # Thames is B's: not offered for removal
    other.post("/connect/xero/unused/remove")
    assert sorted(c["tenantName"] for c in sandbox.state.connections()) == [KOWHAI, THAMES]


def test_reconnect_wrong_organisation_keeps_the_reconnect_in_start_again_and_back(app, auth, client, sandbox):

    auth.as_new("admin")
    _connect(client, sandbox, KOWHAI)
    connection = _connection(app, KOWHAI)
    html = callback(client, _consent_at(client, f"/connect/xero/authorize?reconnect={connection.id}", THAMES))
    html = html.get_data(as_text=True)
    assert 'data-hint="reconnect_wrong_organisation"' in html
    assert f"Reconnect {KOWHAI}" in _text(html)
    start_again = re.search(r'<a class="button primary" href="([^"]+)"[^>]*>Start again</a>', html).group(1)
    assert start_again == f"/connect/xero/authorize?mode=redirect&amp;reconnect={connection.id}"
    assert f'<a href="/connect/xero/reconnect/{connection.id}">Back</a>' in html
    # Following "Start again" really starts a reconnect (not a new connection).
    cb = _consent_at(client, start_again.replace("&amp;", "&"), KOWHAI)
    assert callback(client, cb).headers["Location"] == f"/connect/xero/complete/{connection.id}"


def _break_the_login(app) -> None:
    """Xero stops accepting the adviser's refresh token (e.g. 60 days unused): every connection of it breaks."""
    from wizard.connection_health import mark_login_dead
    from wizard.xero.tokens import mark_dead

    with app.app_context():
        token_set = db.session.scalars(select(TokenSet)).one()
        mark_dead(token_set, "invalid_grant")  # the token layer only records it ...
        mark_login_dead(token_set.id)  # ... the caller decides what its connections become
        db.session.commit()


def test_a_new_login_offers_reconnect_it_now_which_revives_siblings_and_resolves_notifications(
    app, auth, client, sandbox
):
    auth.as_new("admin")
    _login(client, sandbox, ["*"])
    client.post("/connect/xero/connections/all")
    _break_the_login(app)
    data = client.get("/data").get_data(as_text=True)
    assert data.count(">Reconnect</a>") == 2 and f'aria-label="Reconnect {KOWHAI}"' in data
    notices = client.get("/notifications").get_data(as_text=True)
    assert notices.count(">Reconnect</a>") == 2

    page = _login(client, sandbox, [KOWHAI])  # a plain "connect" login that ticks Kowhai again
    text = _text(page)
    assert f"{KOWHAI} (needs re-authorising)" in text
    assert f"{KOWHAI} is connected here but needs re-authorising, and this Xero login authorised it." in text
    kowhai = _connection(app, KOWHAI)
    response = client.post(f"/connect/xero/reconnect/{kowhai.id}")
    assert response.status_code == 303 and response.headers["Location"] == f"/connect/xero/complete/{kowhai.id}"
    complete = _text(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "1 more organisation(s) of the same Xero login were reconnected too." in complete

    with app.app_context():
        states = dict(db.session.execute(select(Connection.tenant_name, Connection.state)).all())
        assert states[KOWHAI] != "needs_reauth" and states[THAMES] != "needs_reauth", states
        assert db.session.scalar(select(Notification).where(Notification.resolved_at.is_(None))) is None
    notices = client.get("/notifications").get_data(as_text=True)
    assert _text(notices).count("Resolved") == 2 and ">Reconnect</a>" not in notices
    assert "New:" not in _text(notices)
    assert ">Reconnect</a>" not in client.get("/data").get_data(as_text=True)


def test_callback_reconnect_revives_the_sibling_too(app, auth, client, sandbox):

    auth.as_new("admin")
    _login(client, sandbox, ["*"])
    client.post("/connect/xero/connections/all")
    _break_the_login(app)
    kowhai = _connection(app, KOWHAI)
    cb = _consent_at(client, f"/connect/xero/authorize?reconnect={kowhai.id}", KOWHAI)
    assert callback(client, cb).status_code == 303
    with app.app_context():
        from wizard.syncing import active_run

        connections = db.session.scalars(select(Connection)).all()
        assert all(c.state in ("connecting", "syncing") for c in connections), [c.state for c in connections]
        assert all(active_run(c.id) is not None for c in connections)


def test_cancel_at_consent_offers_the_role_hint_for_a_user_xero_listed_no_organisation_for(auth, client, sandbox):
    from tests.conftest import REDIRECT_URI
    from tests.helpers.xero_login import XeroBrowser

    auth.as_new("admin")
    url = client.get("/connect/xero/authorize").headers["Location"]
    cb = XeroBrowser().authorize(url, "xero.readonly@demo.test", redirect_prefix=REDIRECT_URI, consent="Cancel")
    html = callback(client, cb).get_data(as_text=True)
    link = re.search(r'href="([^"]+)">Xero listed no organisation for me</a>', html).group(1)
    role = _text(client.get(link.replace("&amp;", "&")).get_data(as_text=True))
    assert "Your Xero role cannot connect apps" in role and "choose Allow access" not in role


def test_closed_window_hint_does_not_blame_mfa_alone(auth, client):
    auth.as_new("admin")
    text = _text(client.get("/connect/xero/login?problem=window_closed").get_data(as_text=True))
    assert "The Xero window was closed before you finished" in text
    assert "password page" in text and "multi-factor authentication (MFA)" in text


def test_leaving_step_3_without_connecting_is_told_on_the_data_page_with_connect_and_remove(app, auth, client, sandbox):
    auth.as_new("admin")
    _login(client, sandbox, [THAMES])  # step 3 shown, then the admin walks away to the Data page
    data = client.get("/data").get_data(as_text=True)
    text = _text(data)
    assert f"In your last Xero login you ticked {THAMES} on Xero's consent screen." in text
    assert 'href="/connect/xero/organisations">Connect it here</a>' in data and "Remove it at Xero" in text
    assert client.post("/connect/xero/unused/remove").status_code == 303
    assert sandbox.state.connections() == []
    assert "In your last Xero login" not in _text(client.get("/data").get_data(as_text=True))


def test_pages_with_the_unused_at_xero_note_read_the_xero_login_and_its_tokens_once(app, auth, client, sandbox):
    """Step 4 and the Data page check the session's Xero login in several places (the step, the
    "connect another" offer, the unused-at-Xero note): the login and its tokens are read once."""
    from tests.test_data_page import statements_of

    auth.as_new("admin")
    _login(client, sandbox, ["*"])
    client.post("/connect/xero/organisations", data={"tenant_id": sandbox.state.tenant_id(KOWHAI)})
    step4 = client.post("/connect/xero/connections").headers["Location"]
    for path in (step4, "/data"):
        assert f"In your last Xero login you ticked {THAMES}" in _text(client.get(path).get_data(as_text=True))
        reads = [" ".join(s.split()[:40]) for s in statements_of(app, client, path)]
        logins = [s for s in reads if re.search(r"FROM xero_login\b", s)]
        tokens = [s for s in reads if re.search(r"FROM token_set\b", s) and "JOIN" not in s]
        assert len(logins) == 1 and len(tokens) <= 1, (path, reads)  # the tokens may come with the login
