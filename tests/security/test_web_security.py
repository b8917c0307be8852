"""Web session, CSRF, cookies, headers and the production guard (reliability.md T-07, T-10..T-14)."""

from __future__ import annotations

import re
import secrets

import pytest
from cryptography.fernet import Fernet

from wizard import create_app

PRODUCTION = {
    "PRODUCTION": True,
    "SECRET_KEY": secrets.token_urlsafe(32),
    "XERO_REDIRECT_URI": "https://app.example.com/connect/xero/callback",
    "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_NAME": "__Host-session",
    "XERO_LOGIN_URL": "https://login.xero.com",
    "XERO_IDENTITY_URL": "https://identity.xero.com",
    "XERO_API_URL": "https://api.xero.com",
}


@pytest.mark.parametrize(
    ("override", "env", "message"),
    [
        ({"SECRET_KEY": "dev-only-secret-key-change-me"}, {}, "SECRET_KEY"),
        ({"SECRET_KEY": "a"}, {}, "SECRET_KEY is shorter than 32 bytes"),
        ({"SECRET_KEY": "a-long-random-production-secret"}, {}, "SECRET_KEY is shorter than 32 bytes"),
        ({"SECRET_KEY": "x" * 64}, {}, "SECRET_KEY looks predictable"),
        ({"SECRET_KEY": "password" * 8}, {}, "SECRET_KEY looks predictable"),
        ({}, {"OAUTHLIB_INSECURE_TRANSPORT": "1"}, "OAUTHLIB_INSECURE_TRANSPORT"),
        ({"XERO_REDIRECT_URI": "http://app.example.com/connect/xero/callback"}, {}, "not https"),
        ({"TOKEN_ENCRYPTION_KEY": None}, {}, "TOKEN_ENCRYPTION_KEY"),
    ],
)
def test_t07_production_refuses_unsafe_settings(test_env, monkeypatch, override, env, message):
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(RuntimeError, match=message):
        create_app({**PRODUCTION, **override})


def test_t07_production_starts_with_safe_settings(test_env, monkeypatch):
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    assert create_app(PRODUCTION).config["PRODUCTION"] is True


def _csrf_app(test_env):
    return create_app({"TESTING": True, "RATELIMIT_ENABLED": False})


def test_t12_every_state_changing_route_refuses_a_missing_csrf_token(app, test_env, auth):
    auth.make_user()
    csrf_app = _csrf_app(test_env)
    client = csrf_app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
    signed_in = client.post("/login", data={"email": "admin@example.test", "password": "pw", "csrf_token": token})
    assert signed_in.status_code == 303
    checked = 0
    for rule in csrf_app.url_map.iter_rules():
        for method in rule.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            url = re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule)
            response = client.open(url, method=method, data={})
            # 401: /webhooks/xero is authenticated by Xero's signature instead of a form token.
            assert response.status_code in (400, 401, 403), f"{method} {rule.rule} answered {response.status_code}"
            checked += 1
    assert checked >= 5


def test_t13_session_is_renewed_on_login_and_dead_after_logout(app, auth, client):
    auth.make_user()
    client.get("/login")
    with client.session_transaction() as s:
        s["oauth_state"] = "planted"
    before = client.get_cookie("session").value
    auth.login()
    after = client.get_cookie("session").value
    assert before != after
    with client.session_transaction() as s:
        assert "oauth_state" not in s
    assert client.get("/data").status_code == 200
    client.post("/logout")
    # Replaying the signed-in cookie after logout must not sign anyone in.
    client.set_cookie("session", after)
    response = client.get("/data")
    assert response.status_code == 303 and "/login" in response.headers["Location"]


def test_t14_cookie_flags_and_security_headers_in_production(test_env, monkeypatch, auth, app):
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    auth.make_user()
    prod = create_app({**PRODUCTION, "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False})
    client = prod.test_client()
    response = client.post(
        "/login", data={"email": "admin@example.test", "password": "pw"}, base_url="https://app.example.com"
    )
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Domain" not in cookie
    page = client.get("/data", base_url="https://app.example.com")
    csp = page.headers["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "script-src 'self'"):
        assert directive in csp
    assert int(re.search(r"max-age=(\d+)", page.headers["Strict-Transport-Security"]).group(1)) >= 31536000
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_t10_oauth_responses_are_not_cached_and_send_no_referrer(auth, client):
    auth.as_new("admin")
    for path in ("/connect/xero/authorize", "/connect/xero/callback?state=x&code=y"):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"
