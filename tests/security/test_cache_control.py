"""Issue 11 item 6: every response to a signed-in user carries `Cache-Control: no-store`, set in
one place (wizard.security); pages of other users' accounts must never sit in a shared cache."""

from __future__ import annotations

from tests.support_access.world import build_world, login


def _get_routes(app, world) -> list[str]:
    ids = {"connection_id": world.connections["active"], "grant_id": world.grants["active"]}
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" in rule.methods and rule.endpoint != "static":
                urls.append(rule.build({name: ids[name] for name in rule.arguments}, append_unknown=False)[1])
    return sorted(urls)


def test_every_page_a_signed_in_user_gets_is_no_store(app):
    with app.app_context():
        world = build_world()
    urls = _get_routes(app, world)
    assert {"/data", "/notifications", f"/books/{world.connections['active']}"} <= set(urls)
    for persona in ("admin", "viewer", "support"):
        client = app.test_client()
        login(client, world.emails[persona])
        for url in urls:
            response = client.get(url)
            # Pages, fragments, redirects and refusals alike (a 403 page still names the user).
            assert response.headers.get("Cache-Control") == "no-store", f"{persona} GET {url} ({response.status_code})"
        sign_out = client.post("/logout")
        assert sign_out.headers.get("Cache-Control") == "no-store"


def test_public_pages_and_static_files_stay_cacheable_for_visitors(client):
    assert "no-store" not in client.get("/help/xero").headers.get("Cache-Control", "")
    assert "no-store" not in client.get("/static/css/app.css").headers.get("Cache-Control", "")
