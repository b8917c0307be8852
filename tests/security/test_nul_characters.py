"""A NUL character in a query string or form value is refused with the app's 400 page.

PostgreSQL text cannot hold NUL: the support console's search with `q=%00` reached the database
and answered 500 there (found by tests/fuzz on PostgreSQL). Every GET route, for every persona that
can open it, answers 400 instead, and so does a form POST.
"""

from __future__ import annotations

import re

from tests.support_access.world import build_world, login


def _get_routes(app) -> list[str]:
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith("/static")
    )


def test_every_page_refuses_a_nul_in_its_query_string_with_the_apps_400(app):
    with app.app_context():
        world = build_world()
    routes = _get_routes(app)
    assert "/support" in routes and "/data" in routes
    for persona in ("admin", "support"):
        client = app.test_client()
        login(client, world.emails[persona])
        for rule in routes:
            response = client.get(rule, query_string={"q": "\x00"})
            assert response.status_code == 400, f"{persona} GET {rule}?q=%00 answered {response.status_code}"
            assert "could not be used" in response.get_data(as_text=True), rule  # our page, not werkzeug's


def test_the_support_search_still_works_without_nul(app):
    with app.app_context():
        world = build_world()
    client = app.test_client()
    login(client, world.emails["support"])
    assert client.get("/support", query_string={"q": "zz-nothing"}).status_code == 200


def test_a_form_value_with_nul_is_refused_before_it_reaches_a_view(app):
    with app.app_context():
        world = build_world()
    client = app.test_client()
    login(client, world.emails["admin"])
    page = client.get("/settings/workspace").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/settings/workspace", data={"csrf_token": token, "time_zone": "Europe/London\x00"})
    assert response.status_code == 400
