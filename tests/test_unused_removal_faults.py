"""Removing at Xero the organisations ticked there but not connected here, when Xero fails or
already removed one (wizard/unused_xero_connections.py)."""

from __future__ import annotations

from tests.test_connect_paths import KOWHAI, THAMES, _login, _text


def _connected_kowhai_with_thames_unused(client, sandbox) -> str:
    _login(client, sandbox, ["*"])
    client.post("/connect/xero/organisations", data={"tenant_id": sandbox.state.tenant_id(KOWHAI)})
    done = client.post("/connect/xero/connections")
    complete = _text(client.get(done.headers["Location"]).get_data(as_text=True))
    assert "Remove it at Xero" in complete and THAMES in complete
    return done.headers["Location"]


def test_xero_unavailable_while_removing_says_so_and_removes_nothing(app, auth, client, sandbox):
    auth.as_new("admin")
    complete = _connected_kowhai_with_thames_unused(client, sandbox)
    sandbox.state.faults.maintenance(60)
    response = client.post("/connect/xero/unused/remove")
    sandbox.state.faults.clear()
    page = _text(response.get_data(as_text=True))
    assert response.status_code == 200 and "Xero is not answering right now" in page
    assert sorted(c["tenantName"] for c in sandbox.state.connections()) == [KOWHAI, THAMES]
    assert "Remove it at Xero" in _text(client.get(complete).get_data(as_text=True)), "still offered"


def test_an_organisation_already_removed_at_xero_counts_as_removed(app, auth, client, sandbox):
    """Someone removed it in Xero's Connected apps meanwhile: Xero answers 404, the goal is reached."""
    auth.as_new("admin")
    complete = _connected_kowhai_with_thames_unused(client, sandbox)
    thames = next(c for c in sandbox.state.connections() if c["tenantName"] == THAMES)
    sandbox.state.remove_connection(thames["id"])
    assert client.post("/connect/xero/unused/remove").status_code == 303
    assert f"Removed at Xero, not connected here: {THAMES}." in _text(client.get("/data").get_data(as_text=True))
    assert "In your last Xero login you ticked" not in _text(client.get(complete).get_data(as_text=True))
