"""The production guard, completed (T-07 and OA-R10/OA-W4/OA-W7): besides the dev secret key,
OAUTHLIB_INSECURE_TRANSPORT, a non-https redirect URI and a missing token key
(tests/security/test_web_security.py), production refuses plain-http Xero endpoints, weak session
cookie settings, DEBUG and demo mode; and the settings production gets from its environment
alone pass the guard and give the cookie every flag."""

from __future__ import annotations

import secrets

import pytest
from cryptography.fernet import Fernet

from tests.security.test_web_security import PRODUCTION
from wizard import create_app


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"XERO_IDENTITY_URL": "http://identity.example"}, "XERO_IDENTITY_URL is not https"),
        ({"XERO_API_URL": "http://api.example"}, "XERO_API_URL is not https"),
        ({"XERO_LOGIN_URL": "http://login.example"}, "XERO_LOGIN_URL is not https"),
        ({"SESSION_COOKIE_SECURE": False}, "SESSION_COOKIE_SECURE"),
        ({"SESSION_COOKIE_HTTPONLY": False}, "SESSION_COOKIE_HTTPONLY"),
        ({"SESSION_COOKIE_SAMESITE": "Strict"}, "SAMESITE"),
        ({"SESSION_COOKIE_SAMESITE": None}, "SAMESITE"),
        ({"SESSION_COOKIE_NAME": "session"}, "__Host-"),
        ({"SESSION_COOKIE_DOMAIN": "example.com"}, "DOMAIN"),
        ({"DEBUG": True}, "DEBUG"),
        ({"DEMO_MODE": True}, "DEMO_MODE"),
    ],
)
def test_production_refuses_unsafe_transport_cookies_debug_and_demo(test_env, monkeypatch, override, message):
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    with pytest.raises(RuntimeError, match=message):
        create_app({**PRODUCTION, **override})


def test_production_from_the_environment_alone_is_safe(test_env, monkeypatch):
    """WIZARD_ENV=production plus the documented variables: starts, and the cookie is locked down."""
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    for name in ("XERO_LOGIN_URL", "XERO_IDENTITY_URL", "XERO_API_URL", "DEMO_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WIZARD_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", secrets.token_hex(32))
    monkeypatch.setenv("XERO_CLIENT_ID", "real-client")
    monkeypatch.setenv("XERO_REDIRECT_URI", "https://app.example.com/connect/xero/callback")
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEY", Fernet.generate_key().decode())
    app = create_app()
    assert app.config["PRODUCTION"] and not app.config["DEBUG"]
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax" and app.config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert app.config["XERO_IDENTITY_URL"] == "https://identity.xero.com"
    monkeypatch.setenv("FLASK_SESSION_COOKIE_SECURE", "false")  # an override slipped into the environment
    with pytest.raises(RuntimeError, match="SESSION_COOKIE_SECURE"):
        create_app()


def test_oauth_and_login_responses_are_never_cached_in_production(test_env, monkeypatch):
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    client = create_app({**PRODUCTION, "RATELIMIT_ENABLED": False}).test_client()
    for path in ("/login", "/connect/xero/callback?state=x&code=y", "/connect/xero/authorize"):
        response = client.get(path, base_url="https://app.example.com")
        assert response.headers["Cache-Control"] == "no-store", path
        assert response.headers["Referrer-Policy"] == "no-referrer", path
