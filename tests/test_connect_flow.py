"""The whole connect flow through the Flask test client against the sandbox Xero."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, update

from tests.conftest import REDIRECT_URI
from tests.helpers.xero_login import XeroBrowser, query_of
from wizard.extensions import db
from wizard.models import Connection, SyncRun, TokenSet, XeroLogin

ADMIN = "xero.admin@demo.test"
ADVISER = "xero.adviser@demo.test"
READONLY = "xero.readonly@demo.test"


def start_login(client) -> str:
    response = client.get("/connect/xero/authorize")
    assert response.status_code == 303
    return response.headers["Location"]


def xero_login(client, sandbox, email=ADVISER, organisations=None, consent="Allow access") -> str | None:
    url = start_login(client)
    assert url.startswith(sandbox.url)
    browser = XeroBrowser()
    return browser.authorize(url, email, redirect_prefix=REDIRECT_URI, organisations=organisations, consent=consent)


def callback(client, callback_url):
    parts = urlsplit(callback_url)
    return client.get(parts.path + "?" + parts.query)


def token_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(TokenSet))


def test_authorize_redirect_has_state_pkce_and_exact_redirect_uri(app, auth, client, test_env):
    auth.make_user()
    forged = "http://evil.example"  # a request arriving with a forged Host header
    client.post("/login", data={"email": "admin@example.test", "password": "pw"}, base_url=forged)
    response = client.get("/connect/xero/authorize", base_url=forged)
    query = query_of(response.headers["Location"])
    assert len(query["state"]) >= 43
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["redirect_uri"] == test_env["XERO_REDIRECT_URI"]
    assert query["response_type"] == "code" and "offline_access" in query["scope"].split()
    assert response.headers["Cache-Control"] == "no-store"


def test_full_flow_connects_an_organisation_and_enqueues_the_initial_sync(app, auth, client, sandbox):
    auth.as_new("admin")
    cb = xero_login(client, sandbox, ADVISER)
    assert cb and "code=" in cb
    response = callback(client, cb)
    assert response.status_code == 303 and response.headers["Location"] == "/connect/xero/organisations"
    assert response.headers["Referrer-Policy"] == "no-referrer"

    page = client.get("/connect/xero/organisations").get_data(as_text=True)
    assert 'type="radio"' in page
    with app.app_context():
        token_set = db.session.scalars(select(TokenSet)).one()
        assert token_set.xero_user_email == ADVISER
    tenant_ids = [v for v in _radio_values(page)]
    assert tenant_ids, page
    response = client.post("/connect/xero/organisations", data={"tenant_id": tenant_ids[0]})
    assert response.status_code == 303 and response.headers["Location"] == "/connect/xero/confirm"
    confirm = client.get("/connect/xero/confirm").get_data(as_text=True)
    assert "Connect organisation" in confirm
    response = client.post("/connect/xero/connections")
    assert response.status_code == 303 and response.headers["Location"].startswith("/connect/xero/complete/")
    with app.app_context():
        connection = db.session.scalars(select(Connection)).one()
        assert connection.tenant_id == tenant_ids[0]
        run = db.session.scalars(select(SyncRun)).one()
        assert run.rq_job_id.startswith(f"sync-run-{run.id}") and run.kind == "initial"
    complete = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "is connected" in complete


def _radio_values(html: str) -> list[str]:
    import re

    return [m for m in re.findall(r'name="tenant_id" value="([^"]+)"(?![^>]*disabled)', html)]


def test_cancel_at_consent_shows_hint_and_stores_nothing(app, auth, client, sandbox):
    auth.as_new("admin")
    cb = xero_login(client, sandbox, ADVISER, consent="Cancel")
    assert cb and "error=access_denied" in cb
    response = callback(client, cb)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Xero access was not granted" in html and 'data-hint="access_denied"' in html
    assert token_rows(app) == 0


def test_replayed_callback_is_refused_and_exchanges_nothing(app, auth, client, sandbox):
    auth.as_new("admin")
    cb = xero_login(client, sandbox, ADVISER)
    assert callback(client, cb).status_code == 303
    sandbox.state.clear_requests()
    replay = callback(client, cb)
    assert replay.status_code == 400
    assert "expired or was already used" in replay.get_data(as_text=True)
    assert not [r for r in sandbox.state.requests() if r["path"].endswith("/connect/token")]


@pytest.mark.parametrize("state", ["", "forged-state-value", "x" * 5000])
def test_callback_with_a_state_not_issued_here_is_refused(app, auth, client, sandbox, state):
    auth.as_new("admin")
    start_login(client)
    sandbox.state.clear_requests()
    response = client.get("/connect/xero/callback", query_string={"code": "abc", "state": state})
    assert response.status_code == 400
    assert token_rows(app) == 0
    assert not [r for r in sandbox.state.requests() if r["path"].endswith("/connect/token")]


def test_read_only_xero_user_gets_a_clear_hint_and_nothing_is_stored(app, auth, client, sandbox):
    auth.as_new("admin")
    url = start_login(client)
    browser = XeroBrowser()
    cb = browser.authorize(url, READONLY, redirect_prefix=REDIRECT_URI, consent="Cancel")
    assert cb and "error=access_denied" in cb
    html = callback(client, cb).get_data(as_text=True)
    assert "Standard" in html and "Adviser" in html
    assert token_rows(app) == 0


def test_already_connected_organisation_is_marked_and_cannot_be_added_twice(app, auth, client, sandbox):
    auth.as_new("admin")
    callback(client, xero_login(client, sandbox, ADVISER))
    page = client.get("/connect/xero/organisations").get_data(as_text=True)
    first = _radio_values(page)[0]
    client.post("/connect/xero/organisations", data={"tenant_id": first})
    client.post("/connect/xero/connections")
    callback(client, xero_login(client, sandbox, ADVISER, organisations=["*"]))
    page = client.get("/connect/xero/organisations").get_data(as_text=True)
    assert "Already connected" in page
    assert first not in _radio_values(page)
    refused = client.post("/connect/xero/organisations", data={"tenant_id": first})
    assert refused.status_code == 200 and b"Choose one of the organisations listed" in refused.data


@pytest.mark.parametrize("path", ["/connect/xero", "/connect/xero/login"])
def test_steps_render_full_page_or_fragment(auth, client, htmx, path):
    auth.as_new("admin")
    full = client.get(path)
    fragment = client.get(path, headers=htmx)
    assert full.status_code == fragment.status_code == 200
    assert b"<html" in full.data and b"<html" not in fragment.data
    assert "HX-Request" in fragment.headers["Vary"]


def test_start_step_explains_what_is_needed(auth, client):
    auth.as_new("admin")
    html = client.get("/connect/xero").get_data(as_text=True)
    assert "Login to connect" in html and "Standard" in html and "Adviser" in html and "MFA" in html


def test_choose_without_login_sends_user_back_with_a_hint(auth, client):
    auth.as_new("admin")
    html = client.get("/connect/xero/organisations").get_data(as_text=True)
    assert 'data-hint="state_invalid"' in html


def test_expired_code_shows_token_exchange_hint_and_stores_nothing(app, auth, client, sandbox):
    auth.as_new("admin")
    cb = xero_login(client, sandbox, ADVISER)
    sandbox.state.advance(6 * 60)  # Xero's codes live 5 minutes
    html = callback(client, cb).get_data(as_text=True)
    assert 'data-hint="token_exchange_failed"' in html
    assert token_rows(app) == 0


def test_xero_down_at_the_organisation_step_shows_xero_unavailable(app, auth, client, sandbox):
    auth.as_new("admin")
    callback(client, xero_login(client, sandbox, ADVISER))
    sandbox.state.faults.maintenance(120)
    html = client.get("/connect/xero/organisations").get_data(as_text=True)
    assert 'data-hint="xero_unavailable"' in html and "Xero is not answering" in html
    sandbox.state.faults.clear()
    assert 'name="tenant_id"' in client.get("/connect/xero/organisations").get_data(as_text=True)


def test_connections_filter_empty_falls_back_to_all_of_the_users_organisations(app, auth, client, sandbox):
    auth.as_new("admin")
    callback(client, xero_login(client, sandbox, ADVISER))
    with app.app_context():
        db.session.execute(update(XeroLogin).values(auth_event_id="00000000-0000-0000-0000-000000000000"))
        db.session.commit()
    page = client.get("/connect/xero/organisations").get_data(as_text=True)
    assert len(_radio_values(page)) >= 1


def test_reconnect_must_authorise_the_same_organisation(app, auth, client, sandbox):
    auth.as_new("admin")
    callback(client, xero_login(client, sandbox, ADVISER))
    page = client.get("/connect/xero/organisations").get_data(as_text=True)
    client.post("/connect/xero/organisations", data={"tenant_id": _radio_values(page)[0]})
    client.post("/connect/xero/connections")
    with app.app_context():
        connection_id = db.session.scalars(select(Connection)).one().id
        db.session.get(Connection, connection_id).tenant_id = "some-other-tenant"
        db.session.commit()
    response = client.get(f"/connect/xero/authorize?reconnect={connection_id}")
    cb = XeroBrowser().authorize(response.headers["Location"], ADVISER, redirect_prefix=REDIRECT_URI)
    html = callback(client, cb).get_data(as_text=True)
    assert 'data-hint="reconnect_wrong_organisation"' in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Connection)) == 1


@pytest.fixture
def proxy_error_page():
    """A token endpoint that answers 200 with an HTML page (what a captive proxy or a misrouted URL does)."""
    import threading

    from werkzeug.serving import make_server
    from werkzeug.wrappers import Response

    def page(environ, start_response):
        return Response("<html><body>Gateway says hello</body></html>", 200, mimetype="text/html")(
            environ, start_response
        )

    server = make_server("127.0.0.1", 0, page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_token_endpoint_answering_an_html_page_shows_a_hint_and_stores_nothing(
    app, auth, client, sandbox, proxy_error_page
):
    auth.as_new("admin")
    cb = xero_login(client, sandbox, ADVISER)
    app.config["XERO_IDENTITY_URL"] = proxy_error_page
    response = callback(client, cb)
    assert response.status_code == 200
    assert 'data-hint="token_exchange_failed"' in response.get_data(as_text=True)
    assert token_rows(app) == 0
