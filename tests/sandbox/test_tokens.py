"""Token endpoint, revocation, access-token rules, discovery and JWKS (all on the sandbox clock)."""

from __future__ import annotations

import jwt
import pytest

from .conftest import ADVISER, CLIENT, KOWHAI, REDIRECT, pkce_pair


def test_code_exchange_returns_xero_token_response_with_verifiable_jwts(xero):
    callback = xero.code_for(ADVISER, [KOWHAI], nonce="n-42")
    response = xero.exchange(callback["code"])
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["expires_in"] == 1800 and body["token_type"] == "Bearer"
    assert isinstance(body["scope"], str) and "accounting.invoices.read" in body["scope"].split()
    jwks = xero.http.get("/.well-known/openid-configuration/jwks").get_json()
    header = jwt.get_unverified_header(body["access_token"])
    key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == header["kid"]))
    issuer = xero.http.get("/.well-known/openid-configuration").get_json()["issuer"]
    access = jwt.decode(
        body["access_token"],
        key.key,
        algorithms=["RS256"],
        audience=f"{issuer}/resources",
        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )
    assert access["iss"] == issuer and access["client_id"] == CLIENT[0]
    assert access["xero_userid"] == xero.state.user_id(ADVISER)
    assert access["exp"] - access["iat"] == 1800 and isinstance(access["scope"], list)
    assert access["authentication_event_id"] == xero.state.connections()[0]["authEventId"]
    for claim in ("nbf", "sub", "global_session_id", "jti"):
        assert claim in access
    ident = jwt.decode(
        body["id_token"],
        key.key,
        algorithms=["RS256"],
        audience=CLIENT[0],
        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )
    assert ident["nonce"] == "n-42" and ident["email"] == ADVISER
    assert ident["given_name"] == "Ada" and ident["family_name"] == "Adviser"
    assert ident["xero_userid"] == access["xero_userid"] and "authentication_event_id" not in ident


def test_client_credentials_in_the_form_body_work_too(xero):
    code = xero.code_for(ADVISER, [KOWHAI])["code"]
    response = xero.token(
        None,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        client_id=CLIENT[0],
        client_secret=CLIENT[1],
    )
    assert response.status_code == 200


@pytest.mark.parametrize("auth", [("sandbox-client-id", "wrong"), ("nobody", "x"), None])
def test_bad_client_credentials_give_invalid_client(xero, auth):
    code = xero.code_for(ADVISER, [KOWHAI])["code"]
    response = xero.exchange(code, auth=auth)
    assert response.status_code == 400 and response.get_json() == {"error": "invalid_client"}


def test_unknown_grant_type_is_unsupported(xero):
    response = xero.token(grant_type="password", username="a", password="b")
    assert response.status_code == 400 and response.get_json() == {"error": "unsupported_grant_type"}
    assert xero.token().get_json() == {"error": "unsupported_grant_type"}


def test_code_is_single_use(xero):
    code = xero.code_for(ADVISER, [KOWHAI])["code"]
    assert xero.exchange(code).status_code == 200
    again = xero.exchange(code)
    assert again.status_code == 400 and again.get_json() == {"error": "invalid_grant"}


def test_code_expires_after_five_minutes_on_the_sandbox_clock(xero):
    code = xero.code_for(ADVISER, [KOWHAI])["code"]
    xero.state.advance(300)
    assert xero.exchange(code).get_json() == {"error": "invalid_grant"}
    code = xero.code_for(ADVISER, [KOWHAI])["code"]
    xero.state.advance(299)
    assert xero.exchange(code).status_code == 200


def test_redirect_uri_must_match_the_authorize_one(xero):
    code = xero.code_for(ADVISER, [KOWHAI])["code"]
    response = xero.exchange(code, redirect_uri="http://localhost:5000/connect/xero/callback")
    assert response.get_json() == {"error": "invalid_grant"}


def test_code_of_another_client_is_refused(xero):
    code = xero.code_for(ADVISER, [KOWHAI])["code"]
    assert xero.exchange(code, auth=("legacy-client", "legacy-secret")).get_json() == {"error": "invalid_grant"}


def test_pkce_verifier_is_checked_when_a_challenge_was_sent(xero):
    verifier, challenge = pkce_pair()
    code = xero.code_for(ADVISER, [KOWHAI], code_challenge=challenge, code_challenge_method="S256")["code"]
    assert xero.exchange(code, code_verifier=pkce_pair()[0]).get_json() == {"error": "invalid_grant"}
    code = xero.code_for(ADVISER, [KOWHAI], code_challenge=challenge, code_challenge_method="S256")["code"]
    assert xero.exchange(code).get_json() == {"error": "invalid_grant"}
    code = xero.code_for(ADVISER, [KOWHAI], code_challenge=challenge, code_challenge_method="S256")["code"]
    assert xero.exchange(code, code_verifier=verifier).status_code == 200


def test_public_pkce_client_exchanges_with_client_id_only(xero):
    verifier, challenge = pkce_pair()
    assert xero.authorize(client_id="pkce-client").status_code == 400  # challenge required
    code = xero.code_for(
        ADVISER, [KOWHAI], client_id="pkce-client", code_challenge=challenge, code_challenge_method="S256"
    )["code"]
    response = xero.token(
        None,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        client_id="pkce-client",
        code_verifier=verifier,
    )
    assert response.status_code == 200


def test_no_refresh_token_without_offline_access(xero):
    callback = xero.code_for(ADVISER, [KOWHAI], scope="openid accounting.settings.read")
    body = xero.exchange(callback["code"]).get_json()
    assert "refresh_token" not in body and "id_token" in body


def test_refresh_rotates_and_previous_token_has_a_30_minute_grace(xero, adviser_token):
    first = adviser_token["refresh_token"]
    response = xero.refresh(first)
    assert response.status_code == 200
    second = response.get_json()
    assert second["refresh_token"] != first and second["access_token"] != adviser_token["access_token"]
    xero.state.advance(29 * 60)
    replay = xero.refresh(first)
    assert replay.status_code == 200 and replay.get_json()["refresh_token"] == second["refresh_token"]
    xero.state.advance(61)
    assert xero.refresh(first).get_json() == {"error": "invalid_grant"}
    third = xero.refresh(second["refresh_token"])
    assert third.status_code == 200 and third.get_json()["refresh_token"] not in (first, second["refresh_token"])


def test_refresh_keeps_the_authentication_event_id(xero, adviser_token):
    new = xero.refresh(adviser_token["refresh_token"]).get_json()
    assert (
        xero.claims(new["access_token"])["authentication_event_id"]
        == xero.claims(adviser_token["access_token"])["authentication_event_id"]
    )


def test_unused_refresh_token_expires_after_60_days(xero, adviser_token):
    xero.state.advance(60 * 86400 - 1)
    fresh = xero.refresh(adviser_token["refresh_token"])
    assert fresh.status_code == 200
    xero.state.advance(60 * 86400)
    assert xero.refresh(fresh.get_json()["refresh_token"]).get_json() == {"error": "invalid_grant"}


def test_refresh_by_another_client_is_refused(xero, adviser_token):
    response = xero.refresh(adviser_token["refresh_token"], auth=("legacy-client", "legacy-secret"))
    assert response.get_json() == {"error": "invalid_grant"}


def test_revocation_kills_the_token_set_and_all_connections(xero, adviser_token):
    assert len(xero.state.connections()) == 2
    response = xero.http.post(
        "/connect/revocation",
        data={"token": adviser_token["refresh_token"], "client_id": CLIENT[0], "client_secret": CLIENT[1]},
    )
    assert response.status_code == 200
    assert xero.state.connections() == []
    assert xero.refresh(adviser_token["refresh_token"]).get_json() == {"error": "invalid_grant"}
    api = xero.api("Organisation", adviser_token["access_token"], xero.tenant(KOWHAI))
    assert api.status_code == 401 and api.get_json()["Detail"] == "AuthenticationUnsuccessful"


def test_revocation_needs_client_authentication(xero, adviser_token):
    response = xero.http.post("/connect/revocation", data={"token": adviser_token["refresh_token"]})
    assert response.status_code == 400 and response.get_json() == {"error": "invalid_client"}
    assert len(xero.state.connections()) == 2


def test_refresh_fails_once_every_connection_is_gone(xero, adviser_token):
    for conn in xero.state.connections():
        xero.state.remove_connection(conn["id"])
    assert xero.refresh(adviser_token["refresh_token"]).get_json() == {"error": "invalid_grant"}


def test_access_token_expires_after_30_minutes_with_xero_401_body(xero, adviser_token):
    tenant = xero.tenant(KOWHAI)
    xero.state.advance(1799)
    assert xero.api("Organisation", adviser_token["access_token"], tenant).status_code == 200
    xero.state.advance(1)
    response = xero.api("Organisation", adviser_token["access_token"], tenant)
    body = response.get_json()
    assert response.status_code == 401
    assert body["Title"] == "Unauthorized" and body["Status"] == 401 and body["Type"] is None
    assert body["Detail"].startswith("TokenExpired: token expired at ") and body["Extensions"] == {}
    assert body["Instance"]


def test_tampered_or_missing_token_is_unauthorized(xero, adviser_token):
    tenant = xero.tenant(KOWHAI)
    assert xero.api("Organisation", None, tenant).status_code == 401
    forged = jwt.encode(xero.claims(adviser_token["access_token"]), "s" * 40, algorithm="HS256")
    assert xero.api("Organisation", forged, tenant).status_code == 401


def test_discovery_document_points_at_the_sandbox(xero):
    doc = xero.http.get("/.well-known/openid-configuration").get_json()
    assert doc["issuer"] == "http://localhost"
    assert doc["token_endpoint"] == "http://localhost/connect/token"
    assert doc["authorization_endpoint"] == "http://localhost/identity/connect/authorize"
    assert doc["revocation_endpoint"].endswith("/connect/revocation")
    assert doc["jwks_uri"].endswith("/.well-known/openid-configuration/jwks")
    assert doc["userinfo_endpoint"].endswith("/connect/userinfo")


def test_userinfo_returns_profile_for_a_live_token(xero, adviser_token):
    response = xero.http.get("/connect/userinfo", headers={"Authorization": f"Bearer {adviser_token['access_token']}"})
    assert response.get_json()["email"] == ADVISER
