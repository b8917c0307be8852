"""Signing in and out of our app."""

from __future__ import annotations

import pytest


def test_login_page_renders(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert b"<html" in response.data and b'name="email"' in response.data


def test_login_clears_session_and_redirects(auth, client):
    auth.make_user()
    with client.session_transaction() as s:
        s["xero_login"] = "planted-before-login"
    response = auth.login()
    assert response.status_code == 303
    with client.session_transaction() as s:
        assert "xero_login" not in s
        assert "_user_id" in s


def test_wrong_password_and_unknown_account_get_the_same_message(auth, client):
    auth.make_user()
    wrong = client.post("/login", data={"email": "admin@example.test", "password": "nope"})
    unknown = client.post("/login", data={"email": "nobody@example.test", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert b"did not match an account" in wrong.data and b"did not match an account" in unknown.data


@pytest.mark.parametrize("target", ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)"])
def test_next_parameter_never_leaves_our_host(auth, client, target):
    auth.make_user()
    response = client.post("/login?next=" + target, data={"email": "admin@example.test", "password": "pw"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_next_parameter_keeps_local_paths(auth, client):
    auth.make_user()
    response = client.post("/login?next=/data", data={"email": "admin@example.test", "password": "pw"})
    assert response.headers["Location"] == "/data"


def test_logout_ends_the_session(auth, client):
    auth.as_new("admin")
    assert client.get("/data").status_code == 200
    assert client.post("/logout").status_code == 303
    response = client.get("/data")
    assert response.status_code == 303 and "/login" in response.headers["Location"]


def test_unauthenticated_htmx_request_gets_hx_redirect_not_a_login_fragment(client, htmx):
    response = client.get("/data", headers=htmx)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login")
