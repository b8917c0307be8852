"""T-16: an admin of workspace B asking for workspace A's connection, run or grant by id gets 404
and changes nothing; a viewer cannot connect, disconnect or sync (403) and changes nothing.
(Status codes for every route and persona: tests/test_policy_matrix.py.)"""

from __future__ import annotations

from tests.reliability.snapshots import database_snapshot
from tests.support_access.world import build_world, login


def _requests(world) -> list[tuple[str, str, dict]]:
    c, g = world.connections["active"], world.grants["active"]
    return [
        ("GET", f"/data/connections/{c}", {}),
        ("GET", f"/data/connections/{c}/status", {}),
        ("POST", f"/data/connections/{c}/sync", {}),
        ("GET", f"/data/connections/{c}/disconnect", {}),
        ("POST", f"/data/connections/{c}/disconnect", {"data": "delete"}),
        ("GET", f"/connect/xero/reconnect/{c}", {}),
        ("GET", f"/connect/xero/authorize?reconnect={c}", {}),
        ("GET", f"/connect/xero/complete/{c}", {}),
        ("GET", f"/books/{c}", {}),
        ("GET", f"/settings/support-access/{g}", {}),
        ("POST", f"/settings/support-access/{g}/revoke", {}),
        ("POST", "/settings/support-access", {"scope": str(c), "hours": "24", "reason": "not mine"}),
    ]


def test_t16_admin_of_another_workspace_gets_404_and_changes_nothing(app):
    with app.app_context():
        world = build_world()
    client = app.test_client()
    login(client, world.emails["other_admin"])
    before = database_snapshot(app)
    for method, url, form in _requests(world):
        response = client.open(url, method=method, data=form)
        if url == "/settings/support-access":  # the form comes back with an error; no grant is made
            assert response.status_code == 200
            continue
        assert response.status_code == 404, f"{method} {url}: {response.status_code}"
    assert database_snapshot(app) == before


def test_t16_viewer_cannot_connect_disconnect_or_sync(app):
    with app.app_context():
        world = build_world()
    client = app.test_client()
    login(client, world.emails["viewer"])
    before = database_snapshot(app)
    c = world.connections["active"]
    for method, url in (
        ("GET", "/connect/xero"),
        ("GET", "/connect/xero/authorize"),
        ("POST", "/connect/xero/connections"),
        ("POST", f"/data/connections/{c}/sync"),
        ("POST", f"/data/connections/{c}/disconnect"),
        ("GET", f"/connect/xero/reconnect/{c}"),
    ):
        assert client.open(url, method=method, data={"data": "delete"}).status_code == 403, f"{method} {url}"
    assert database_snapshot(app) == before
