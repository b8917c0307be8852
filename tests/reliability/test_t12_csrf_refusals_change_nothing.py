"""T-12: every POST/PUT/PATCH/DELETE route without a CSRF token answers 400/403 and changes no
row; the disconnect is not reachable by GET. (Status codes for every state-changing route:
tests/security/test_web_security.py::test_t12_every_state_changing_route_refuses_a_missing_csrf_token.)"""

from __future__ import annotations

import re

from tests.reliability.snapshots import database_snapshot
from tests.support_access.world import PASSWORD, build_world
from wizard import create_app

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def _signed_in(app, email: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303
    return client


def _values(world, arguments) -> dict:
    known = {
        "connection_id": world.connections["active"],
        "grant_id": world.grants["active"],
        "run_id": world.runs["active"],
        "sync_run_id": world.runs["active"],
    }
    return {name: known.get(name, 1) for name in arguments}


def test_t12_requests_without_csrf_token_change_nothing(app, test_env):
    with app.app_context():
        world = build_world()
    csrf_app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False})
    clients = {persona: _signed_in(csrf_app, world.emails[persona]) for persona in ("admin", "support")}
    before = database_snapshot(app)
    tried = 0
    for rule in csrf_app.url_map.iter_rules():
        for method in sorted(rule.methods & STATE_CHANGING):
            with csrf_app.test_request_context():
                url = rule.build(_values(world, rule.arguments), append_unknown=False)[1]
            for persona, client in clients.items():
                response = client.open(
                    url,
                    method=method,
                    data={"data": "delete", "hours": "24", "scope": "all", "reason": "csrf test", "tenant_id": "x"},
                )
                # 401: /webhooks/xero is authenticated by Xero's signature instead of a form token.
                assert response.status_code in (400, 401, 403), f"{persona} {method} {url}: {response.status_code}"
                tried += 1
    assert tried >= 10
    assert database_snapshot(app) == before


def test_t12_get_never_disconnects(app, auth, client):
    from wizard.extensions import db
    from wizard.models import Connection

    with app.app_context():
        world = build_world()
    auth.login(world.emails["admin"], PASSWORD)
    before = database_snapshot(app)
    connection_id = world.connections["active"]
    disconnect = f"/data/connections/{connection_id}/disconnect"
    for path in (disconnect, disconnect + "?data=delete"):
        response = client.get(path)
        assert response.status_code == 200 and b'method="post"' in response.data  # a confirmation form, no action
    assert client.delete(f"/data/connections/{connection_id}/disconnect").status_code == 405
    assert client.put(f"/data/connections/{connection_id}/disconnect").status_code == 405
    assert database_snapshot(app) == before
    with app.app_context():
        assert db.session.get(Connection, connection_id).state != "disconnected"
