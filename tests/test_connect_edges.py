"""Connecting's refusals off the main paths (wizard/connecting.py): Xero's callback carrying an
error other than a cancel or no code, and the defence-in-depth checks that keep one workspace's
Xero login and connections out of another's steps."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.helpers.xero_login import query_of
from wizard.extensions import db
from wizard.models import Connection, TokenSet, User, Workspace, XeroLogin


def _state(client) -> str:
    response = client.get("/connect/xero/authorize")
    assert response.status_code == 303
    return query_of(response.headers["Location"])["state"]


def _token_sets(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(TokenSet))


@pytest.mark.parametrize(
    "answer",
    [
        "error=invalid_scope&error_description=unknown+scope",  # Xero refused, not the user
        "error=server_error",
        "",  # Xero came back with the state and neither a code nor an error
    ],
)
def test_a_callback_without_a_usable_code_says_sign_in_did_not_finish(app, auth, client, answer):
    auth.as_new("admin")
    state = _state(client)
    response = client.get(f"/connect/xero/callback?state={state}&{answer}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "We could not finish signing in to Xero" in page and "Start again" in page
    assert "choose Allow access" not in page, "not the cancel hint: the user did not cancel"
    assert _token_sets(app) == 0
    # the login was claimed: the same callback cannot be replayed
    again = client.get(f"/connect/xero/callback?state={state}&code=late")
    assert again.status_code == 400 and _token_sets(app) == 0


@pytest.fixture
def user(app, auth):
    user_id = auth.make_user()
    with app.test_request_context():
        yield db.session.get(User, user_id)


def _other_workspace_token_set() -> TokenSet:
    other = Workspace(name="Someone Else Ltd")
    db.session.add(other)
    db.session.flush()
    from wizard.clock import utcnow

    token_set = TokenSet(
        workspace_id=other.id, xero_userid="their-user", access_token_enc=b"", access_expires_at=utcnow()
    )
    db.session.add(token_set)
    db.session.commit()
    return token_set


def test_a_login_without_tokens_is_never_sent_to_xero(user):
    from wizard.connecting import ConnectError, _xero_tenants

    with pytest.raises(ConnectError) as refused:
        _xero_tenants(XeroLogin(token_set_id=None))
    assert refused.value.cause == "state_invalid"


def test_another_workspaces_xero_login_is_never_used(user):
    from wizard.connecting import ConnectError, _own_token_set

    theirs = _other_workspace_token_set()
    for token_set_id in (theirs.id, None, theirs.id + 1000):
        with pytest.raises(ConnectError) as refused:
            _own_token_set(user, token_set_id)
        assert (refused.value.cause, refused.value.status) == ("state_invalid", 400)


def test_reconnecting_a_connection_of_another_workspace_or_none_is_refused(user):
    from wizard.connecting import ConnectError, reconnect

    theirs = _other_workspace_token_set()
    connection = Connection(workspace_id=theirs.workspace_id, tenant_id="t-theirs", tenant_name="Theirs")
    connection.move_to("needs_reauth", "token_dead")
    db.session.add(connection)
    db.session.commit()
    for connection_id in (connection.id, connection.id + 1000):
        with pytest.raises(ConnectError) as refused:
            reconnect(user, connection_id)
        assert refused.value.cause == "state_invalid"
    db.session.refresh(connection)
    assert connection.state == "needs_reauth", "left as it was"


def test_without_a_finished_login_there_is_no_other_organisation_to_offer(user):
    from wizard.connecting import other_authorised

    assert other_authorised(user) == []


def _popup_done_next(response) -> str:
    import html
    import re

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="popup-done"' in page, "the pop-up hands control back to the wizard window"
    return html.unescape(re.search(r'data-next-url="([^"]*)"', page).group(1))


def test_a_popup_login_cancelled_at_xero_sends_the_wizard_window_to_the_hint(app, auth, client):
    auth.as_new("admin")
    response = client.get("/connect/xero/authorize?mode=popup")
    state = query_of(response.headers["Location"])["state"]
    next_url = _popup_done_next(client.get(f"/connect/xero/callback?state={state}&error=access_denied"))
    assert next_url == "/connect/xero/login?problem=access_denied"
    page = client.get(next_url).get_data(as_text=True)
    assert "Xero access was not granted" in page and _token_sets(app) == 0


def test_a_popup_login_that_finishes_sends_the_wizard_window_to_step_3(app, auth, client, sandbox):
    from tests.conftest import REDIRECT_URI
    from tests.helpers.xero_login import XeroBrowser
    from tests.test_connect_flow import ADVISER, callback

    auth.as_new("admin")
    authorize = client.get("/connect/xero/authorize?mode=popup").headers["Location"]
    answer = XeroBrowser().authorize(authorize, ADVISER, redirect_prefix=REDIRECT_URI)
    assert _popup_done_next(callback(client, answer)) == "/connect/xero/organisations"
    assert 'type="radio"' in client.get("/connect/xero/organisations").get_data(as_text=True)


def test_step_3_answers_a_missing_or_unknown_choice_on_the_same_page(app, auth, client, sandbox):
    from tests.test_connect_paths import KOWHAI, _login, _text

    auth.as_new("admin")
    _login(client, sandbox, [KOWHAI])
    empty = _text(client.post("/connect/xero/organisations", data={}).get_data(as_text=True))
    assert "Choose an organisation to connect." in empty and KOWHAI in empty
    unknown = _text(client.post("/connect/xero/organisations", data={"tenant_id": "not-ours"}).get_data(as_text=True))
    assert "Choose one of the organisations listed." in unknown
    # nothing chosen (a second tab after the first connected): confirm sends back to the choice, and
    # Connect shows step 3 again with the reason and the organisation still to choose
    assert client.get("/connect/xero/confirm").headers["Location"] == "/connect/xero/organisations"
    again = client.post("/connect/xero/connections")  # was a 500 (the step 3 page without its counts)
    page = _text(again.get_data(as_text=True))
    assert again.status_code == 200 and "No organisation was authorised" in page
    assert KOWHAI in page and "Continue" in page
    assert _connections(app) == 0


def test_an_organisation_another_admin_connected_meanwhile_is_refused_on_step_3(app, auth, client, sandbox):
    """Both organisations ticked, Kowhai chosen; before Connect is pressed a colleague connects
    Kowhai to the same workspace: step 3 says it is already connected and still offers Thames."""
    from tests.test_connect_paths import KOWHAI, THAMES, _login, _text

    auth.as_new("admin")
    _login(client, sandbox, ["*"])
    kowhai = sandbox.state.tenant_id(KOWHAI)
    client.post("/connect/xero/organisations", data={"tenant_id": kowhai})
    with app.app_context():
        user = db.session.scalars(select(User)).one()
        colleague = Connection(workspace_id=user.workspace_id, tenant_id=kowhai, tenant_name=KOWHAI)
        colleague.move_to("connecting", "created")
        db.session.add(colleague)
        db.session.commit()
    response = client.post("/connect/xero/connections")  # was a 500 (the step 3 page without its counts)
    page = _text(response.get_data(as_text=True))
    assert response.status_code == 200 and "This organisation is already connected" in page
    assert f"{KOWHAI} Already connected" in page and THAMES in page
    assert _connections(app) == 1


def test_connect_all_when_every_organisation_is_already_here_says_so(app, auth, client, sandbox):
    from tests.test_connect_paths import KOWHAI, _connect, _login, _text

    auth.as_new("admin")
    _connect(client, sandbox, KOWHAI)
    _login(client, sandbox, [KOWHAI])
    page = _text(client.post("/connect/xero/connections/all").get_data(as_text=True))
    assert "This organisation is already connected" in page
    assert _connections(app) == 1


def test_step_4_of_a_connection_without_a_sync_is_not_found(app, auth, client):
    from tests.helpers.connections import connection_in_state

    auth.as_new("admin")
    connection_id = connection_in_state(app, "connecting", "created")
    response = client.get(f"/connect/xero/complete/{connection_id}")
    assert response.status_code == 404 and "Page not found" in response.get_data(as_text=True)


def _connections(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Connection))
