"""Every error the app returns is its own page (issue 12 item 7): the layout, what happened, a way back.

Under htmx it is a fragment retargeted at #main, never a whole document swapped into #wizard.
"""

from __future__ import annotations

import pytest

from tests.helpers.connections import connection_in_state

WERKZEUG_DEFAULT = "<title>4"  # Werkzeug's pages: <title>404 Not Found</title> and no layout


def _assert_app_page(response, status: int, title: str) -> str:
    page = response.get_data(as_text=True)
    assert response.status_code == status
    assert '<header class="topbar">' in page and '<main id="error">' in page, page[:300]
    assert f'<h1 tabindex="-1">{title}</h1>' in page
    assert WERKZEUG_DEFAULT not in page and "The requested URL" not in page
    assert "HX-Retarget" not in response.headers
    return page


def _assert_htmx_fragment(response, status: int, title: str) -> str:
    page = response.get_data(as_text=True)
    assert response.status_code == status
    assert "<html" not in page and "<header" not in page
    assert response.headers["HX-Retarget"] == "#main" and response.headers["HX-Reswap"] == "innerHTML"
    assert "HX-Request" in response.headers["Vary"]
    assert title in page and "Go to your start page" in page
    return page


def test_unknown_address_is_our_404_with_a_way_back(auth, client):
    auth.as_new("admin")
    page = _assert_app_page(client.get("/no/such/page"), 404, "Page not found")
    assert 'href="/">Go to your start page</a>' in page


def test_unknown_connection_id_is_our_404_and_htmx_gets_a_retargeted_fragment(auth, client, htmx):
    auth.as_new("admin")
    _assert_app_page(client.get("/data/connections/999999"), 404, "Page not found")
    _assert_htmx_fragment(client.get("/data/connections/999999/status", headers=htmx), 404, "Page not found")


def test_anonymous_404_offers_sign_in(client):
    page = _assert_app_page(client.get("/nowhere"), 404, "Page not found")
    assert ">Sign in</a>" in page and "Go to your start page" not in page


def test_viewer_is_not_offered_the_picker_and_opening_it_is_our_403(auth, client):
    auth.as_new("viewer")
    data_page = client.get("/data").get_data(as_text=True)
    assert "/data/new" not in data_page and "Only workspace admins can connect" in data_page
    page = _assert_app_page(
        client.get("/data/new", headers={"Referer": "http://localhost/data"}), 403, "You cannot open this page"
    )
    assert 'href="/data">Back to the previous page</a>' in page


def test_wrong_method_is_our_405_and_keeps_allow(auth, client):
    auth.as_new("admin")
    response = client.delete("/data")
    _assert_app_page(response, 405, "This page cannot be used that way")
    assert "GET" in response.headers["Allow"]


def test_a_foreign_referrer_is_not_offered_as_the_way_back(auth, client):
    auth.as_new("admin")
    page = _assert_app_page(client.get("/nope", headers={"Referer": "https://evil.example/x"}), 404, "Page not found")
    assert "evil.example" not in page and "Back to the previous page" not in page


def test_expired_csrf_token_on_an_htmx_post_is_a_fragment_for_main_and_changes_nothing(app, auth, client, htmx):
    from wizard.extensions import db
    from wizard.models import Connection

    auth.as_new("admin")
    connection_id = connection_in_state(app, "synced")
    app.config["WTF_CSRF_ENABLED"] = True
    url = f"/data/connections/{connection_id}/disconnect"
    page = _assert_htmx_fragment(
        client.post(url, data={"data": "keep", "csrf_token": "expired"}, headers=htmx), 400, "This form has expired"
    )
    assert "Nothing was changed" in page
    _assert_app_page(client.post(url, data={"data": "keep", "csrf_token": "expired"}), 400, "This form has expired")
    with app.app_context():
        assert db.session.get(Connection, connection_id).state == "synced"


def test_too_many_sign_ins_is_our_429_with_retry_after(test_env, _schema):
    from wizard import create_app

    # Explicitly on: flask-limiter's extension object keeps the last app's RATELIMIT_ENABLED as its default.
    settings = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}
    # Ten failures allowed per minute here, so the eleventh is the one refused (the defaults are stricter).
    limits = {"LOGIN_LIMIT_PER_ACCOUNT": "10 per minute", "LOGIN_LIMIT_PER_ADDRESS": "10 per minute"}
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, **settings, **limits})
    client = app.test_client()
    responses = [client.post("/login", data={"email": "x@example.test", "password": "no"}) for _ in range(11)]
    assert [r.status_code for r in responses[:10]] == [401] * 10  # the sign-in page says the password is wrong
    page = _assert_app_page(responses[10], 429, "Too many attempts")
    assert "Wait a minute" in page and responses[10].headers["Retry-After"]


@pytest.mark.parametrize("htmx_request", [False, True])
def test_an_unexpected_error_is_our_500(app, auth, client, monkeypatch, htmx_request):
    import wizard.data.views

    auth.as_new("admin")
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: Flask turns the exception into a 500

    def broken(workspace_id):
        raise RuntimeError("database gone")

    monkeypatch.setattr(wizard.data.views, "workspace_rows", broken)
    if htmx_request:
        page = _assert_htmx_fragment(client.get("/data", headers={"HX-Request": "true"}), 500, "Something went wrong")
    else:
        page = _assert_app_page(client.get("/data"), 500, "Something went wrong on our side")
    assert "database gone" not in page
