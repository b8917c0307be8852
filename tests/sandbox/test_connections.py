"""GET /connections (+ authEventId) and DELETE /connections/{id}."""

from __future__ import annotations

from .conftest import ADMIN, ADVISER, HARBOUR, KOWHAI, THAMES


def test_connections_list_shape(xero, adviser_token):
    response = xero.connections(adviser_token["access_token"])
    assert response.status_code == 200
    rows = response.get_json()
    assert sorted(r["tenantName"] for r in rows) == [KOWHAI, THAMES]
    for row in rows:
        assert set(row) == {
            "id",
            "authEventId",
            "tenantId",
            "tenantType",
            "tenantName",
            "createdDateUtc",
            "updatedDateUtc",
        }
        assert row["tenantType"] == "ORGANISATION" and row["id"] != row["tenantId"]
    assert response.headers["Xero-Correlation-Id"]
    assert "X-AppMinLimit-Remaining" in response.headers
    assert "X-MinLimit-Remaining" not in response.headers and "X-DayLimit-Remaining" not in response.headers


def test_auth_event_filter_returns_only_that_consent_round(xero, adviser_token):
    xero.state.advance(10)
    second = xero.connect(ADVISER, [KOWHAI])  # reconnect Kowhai only
    event = xero.claims(second["access_token"])["authentication_event_id"]
    rows = xero.connections(second["access_token"], authEventId=event).get_json()
    assert [r["tenantName"] for r in rows] == [KOWHAI]
    assert len(xero.connections(second["access_token"]).get_json()) == 2
    assert xero.connections(second["access_token"], authEventId="00000000-0000-0000-0000-000000000000").get_json() == []


def test_connections_are_per_user(xero, adviser_token):
    xero.http.get("/identity/logout")
    admin = xero.connect(ADMIN, [HARBOUR, KOWHAI])
    assert sorted(r["tenantName"] for r in xero.connections(admin["access_token"]).get_json()) == [HARBOUR, KOWHAI]
    assert len(xero.connections(adviser_token["access_token"]).get_json()) == 2


def test_delete_connection_by_id_then_404(xero, adviser_token):
    token = adviser_token["access_token"]
    rows = xero.connections(token).get_json()
    kowhai = next(r for r in rows if r["tenantName"] == KOWHAI)
    headers = {"Authorization": f"Bearer {token}"}
    assert xero.http.delete(f"/connections/{kowhai['id']}", headers=headers).status_code == 204
    assert [r["tenantName"] for r in xero.connections(token).get_json()] == [THAMES]
    assert xero.http.delete(f"/connections/{kowhai['id']}", headers=headers).status_code == 404
    assert xero.api("Organisation", token, kowhai["tenantId"]).status_code == 403


def test_tenant_id_or_auth_event_id_is_not_a_connection_id(xero, adviser_token):
    token = adviser_token["access_token"]
    row = xero.connections(token).get_json()[0]
    headers = {"Authorization": f"Bearer {token}"}
    assert xero.http.delete(f"/connections/{row['tenantId']}", headers=headers).status_code == 404
    assert xero.http.delete(f"/connections/{row['authEventId']}", headers=headers).status_code == 404
    assert len(xero.connections(token).get_json()) == 2


def test_connections_need_a_bearer_token(xero):
    response = xero.http.get("/connections")
    assert response.status_code == 401 and response.get_json()["Title"] == "Unauthorized"


def test_role_downgrade_hides_connection_and_forbids_calls(xero, adviser_token):
    token = adviser_token["access_token"]
    tenant = xero.tenant(KOWHAI)
    xero.state.set_role(ADVISER, tenant, "Read only")
    assert [r["tenantName"] for r in xero.connections(token).get_json()] == [THAMES]
    response = xero.api("Organisation", token, tenant)
    assert response.status_code == 403 and response.get_json()["Detail"] == "AuthenticationUnsuccessful"
