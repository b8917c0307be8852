"""Authorize, login, MFA and consent pages behave as Xero's do."""

from __future__ import annotations

import pytest

from .conftest import (
    ADMIN,
    ADVISER,
    DEMO_AU,
    HARBOUR,
    KOWHAI,
    READ_SCOPES,
    READONLY,
    REDIRECT,
    THAMES,
    query,
)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"client_id": "nobody"}, "unauthorized_client : Unknown client"),
        (
            {"redirect_uri": "http://127.0.0.1:5000/connect/xero/callback/"},
            "unauthorized_client : Invalid redirect_uri",
        ),
        ({"redirect_uri": "http://127.0.0.1:5001/connect/xero/callback"}, "unauthorized_client : Invalid redirect_uri"),
        ({"scope": "openid accounting.transactions.read"}, "unauthorized_client : Invalid scope for client"),
        ({"scope": "openid accounting.reports.read"}, "unauthorized_client : Invalid scope for client"),
        ({"scope": "openid accounting.everything"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge": "abc", "code_challenge_method": "plain"}, "invalid_request"),
    ],
)
def test_bad_authorize_request_shows_sandbox_error_page_and_never_redirects(xero, overrides, message):
    response = xero.authorize(**overrides)
    assert response.status_code == 400
    assert "Location" not in response.headers
    body = response.get_data(as_text=True)
    assert message in body and "Xero sandbox" in body


def test_broad_scopes_are_accepted_for_a_client_created_before_march_2026(xero):
    response = xero.authorize(client_id="legacy-client", scope="openid offline_access accounting.transactions.read")
    assert response.status_code == 302 and "/identity/login" in response.headers["Location"]


def test_login_page_has_fields_and_rejects_a_wrong_password(xero):
    location = xero.authorize().headers["Location"]
    page = xero.http.get(location).get_data(as_text=True)
    assert 'name="email"' in page and 'name="password"' in page and "Log in</button>" in page
    response = xero.http.post(location, data={"email": ADVISER, "password": "wrong"})
    assert response.status_code == 200
    assert "Your email or password is incorrect" in response.get_data(as_text=True)


def test_mfa_user_must_enter_a_valid_code_and_page_shows_the_sandbox_code(xero):
    location = xero.authorize().headers["Location"]
    response = xero.http.post(location, data={"email": ADMIN, "password": "xero"})
    assert response.status_code == 303 and "/identity/mfa" in response.headers["Location"]
    mfa_url = response.headers["Location"]
    page = xero.http.get(mfa_url).get_data(as_text=True)
    assert 'name="code"' in page and "Confirm</button>" in page and "Sandbox only" in page
    assert xero.state.totp_code(ADMIN) in page
    wrong = f"{(int(xero.state.totp_code(ADMIN)) + 1) % 1_000_000:06d}"
    response = xero.http.post(mfa_url, data={"code": wrong})
    assert response.status_code == 200 and "That code didn&#39;t work" in response.get_data(as_text=True)
    # consent is not reachable before MFA passes
    assert xero.http.get(mfa_url.replace("/mfa", "/consent")).status_code == 400
    response = xero.http.post(mfa_url, data={"code": xero.state.totp_code(ADMIN)})
    assert response.status_code == 303 and "/identity/consent" in response.headers["Location"]


def test_consent_lists_only_orgs_where_the_user_may_connect_apps(xero):
    page = xero.login_page(ADMIN).get_data(as_text=True)
    for name in (HARBOUR, KOWHAI, DEMO_AU):
        assert name in page
    assert THAMES not in page
    assert 'name="tenant"' in page and "Allow access" in page and "Cancel" in page
    assert "View your invoices" in page


def test_read_only_user_is_told_they_cannot_connect_and_can_only_cancel(xero):
    page = xero.login_page(READONLY)
    html = page.get_data(as_text=True)
    assert "You don't have permission to connect apps to any organisation" in html
    assert 'name="tenant"' not in html and 'value="allow"' not in html
    response = xero.consent(page, [], action="cancel")
    assert query(response.headers["Location"]) == {"error": "access_denied", "state": "st-123"}


def test_cancel_redirects_with_access_denied_and_untouched_state(xero):
    page = xero.login_page(ADVISER, state="a b&c=d")
    response = xero.consent(page, [KOWHAI], action="cancel")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(REDIRECT + "?")
    assert query(response.headers["Location"]) == {"error": "access_denied", "state": "a b&c=d"}
    assert xero.state.connections() == []


def test_allow_redirects_with_code_and_state_and_creates_one_connection_per_org(xero):
    callback = xero.code_for(ADVISER, [KOWHAI, THAMES], state="xyz")
    assert callback["state"] == "xyz" and len(callback["code"]) > 20
    conns = xero.state.connections()
    assert sorted(c["tenantName"] for c in conns) == [KOWHAI, THAMES]
    assert len({c["authEventId"] for c in conns}) == 1


def test_allow_without_choosing_an_org_stays_on_the_page(xero):
    page = xero.login_page(ADVISER)
    response = xero.consent(page, [])
    assert response.status_code == 200
    assert "Select at least one organisation" in response.get_data(as_text=True)


def test_reconnect_marks_already_connected_and_keeps_connection_id(xero):
    xero.code_for(ADVISER, [KOWHAI])
    first = xero.state.connections()[0]
    xero.state.advance(3600)
    page = xero.login_page(ADVISER)
    html = page.get_data(as_text=True)
    assert "already connected" in html
    xero.consent(page, [KOWHAI])
    again = xero.state.connections()[0]
    assert again["id"] == first["id"] and again["createdDateUtc"] == first["createdDateUtc"]
    assert again["updatedDateUtc"] > first["updatedDateUtc"] and again["authEventId"] != first["authEventId"]


def test_login_is_remembered_by_the_sandbox_cookie_until_logout(xero):
    xero.code_for(ADVISER, [KOWHAI])
    response = xero.authorize()
    assert "/identity/consent" in response.headers["Location"]
    xero.http.get("/identity/logout")
    assert "/identity/login" in xero.authorize().headers["Location"]


def test_starter_tier_refuses_a_sixth_organisation_on_the_consent_page(xero):
    for n in range(6):
        xero.state.create_org(f"Starter Org {n}", records=30, users={ADVISER: "Adviser"})
    page = xero.login_page(ADVISER, client_id="starter-client")
    response = xero.consent(page, [f"Starter Org {n}" for n in range(5)])
    assert response.status_code == 302 and "code=" in response.headers["Location"]
    page = xero.login_page(ADVISER, client_id="starter-client")
    response = xero.consent(page, ["Starter Org 5"])
    assert response.status_code == 200
    assert "reached its limit of 5 connected organisations" in response.get_data(as_text=True)
    # demo companies do not count against the cap
    xero.http.get("/identity/logout")
    page = xero.login_page(ADMIN, client_id="starter-client")
    response = xero.consent(page, [DEMO_AU])
    assert response.status_code == 302 and "code=" in response.headers["Location"]


def test_sign_in_only_scopes_skip_the_organisation_picker(xero):
    page = xero.login_page(ADVISER, scope="openid profile email")
    html = page.get_data(as_text=True)
    assert 'name="tenant"' not in html
    response = xero.consent(page, [])
    assert "code=" in response.headers["Location"]
    assert xero.state.connections() == []


def test_expired_authorize_request_shows_error(xero):
    location = xero.authorize().headers["Location"]
    xero.state.advance(3601)
    response = xero.http.post(location, data={"email": ADVISER, "password": "xero"})
    assert response.status_code == 400
    assert "This sign-in link has expired. Start again from the app." in response.get_data(as_text=True)
    assert "Location" not in response.headers


def test_scope_parameter_must_be_present(xero):
    refused = xero.authorize(scope="")
    assert refused.status_code == 400 and "Location" not in refused.headers
    # The same request with the scopes the app asks for goes on to Xero's login page.
    accepted = xero.authorize(scope=READ_SCOPES)
    assert accepted.status_code == 302 and "/identity/login" in accepted.headers["Location"]
