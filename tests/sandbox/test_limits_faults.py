"""Rate limits (429 + X-Rate-Limit-Problem + Retry-After), faults, request log."""

from __future__ import annotations

import threading

import requests

from xero_sandbox import create_app

from .conftest import ADVISER, KOWHAI, THAMES, Xero, sandbox_config


def org(xero, token):
    return xero.api("Organisation", token["access_token"], xero.tenant(KOWHAI))


def test_minute_limit_429_with_retry_after_then_recovers(xero, adviser_token):
    for n in range(60):
        response = org(xero, adviser_token)
        assert response.status_code == 200
        assert response.headers["X-MinLimit-Remaining"] == str(59 - n)
    limited = org(xero, adviser_token)
    assert limited.status_code == 429
    assert limited.headers["X-Rate-Limit-Problem"] == "minute"
    assert limited.headers["Retry-After"] == "60"
    # other tenants have their own allowance
    assert xero.api("Organisation", adviser_token["access_token"], xero.tenant(THAMES)).status_code == 200
    xero.state.advance(30)
    assert org(xero, adviser_token).headers["Retry-After"] == "30"
    xero.state.advance(30)
    assert org(xero, adviser_token).status_code == 200


def test_day_limit_and_starter_tier(xero):
    token = xero.connect(ADVISER, [KOWHAI], client_id="starter-client")
    assert org(xero, token).headers["X-DayLimit-Remaining"] == "999"
    xero.state.limits.configure(minute=10_000)
    for _ in range(999):
        org(xero, token)
    limited = org(xero, token)
    assert limited.status_code == 429 and limited.headers["X-Rate-Limit-Problem"] == "day"
    assert 0 < int(limited.headers["Retry-After"]) <= 86400
    xero.state.advance(86400)
    fresh = xero.refresh(token["refresh_token"], auth=("starter-client", "starter-secret")).get_json()
    assert org(xero, fresh).status_code == 200


def test_app_minute_limit_counts_connections_calls(xero, adviser_token):
    xero.state.limits.configure(app_minute=3)
    assert org(xero, adviser_token).headers["X-AppMinLimit-Remaining"] == "2"
    assert xero.connections(adviser_token["access_token"]).headers["X-AppMinLimit-Remaining"] == "1"
    org(xero, adviser_token)
    limited = xero.connections(adviser_token["access_token"])
    assert limited.status_code == 429 and limited.headers["X-Rate-Limit-Problem"] == "appminute"
    assert org(xero, adviser_token).headers["X-Rate-Limit-Problem"] == "appminute"


def test_limits_can_be_switched_off(xero, adviser_token):
    xero.state.limits.configure(enabled=False)
    for _ in range(70):
        assert org(xero, adviser_token).status_code == 200


def test_time_scale_shrinks_the_minute(xero, adviser_token):
    xero.state.limits.configure(time_scale=60, minute=2)
    org(xero, adviser_token)
    org(xero, adviser_token)
    limited = org(xero, adviser_token)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    xero.state.advance(1)
    assert org(xero, adviser_token).status_code == 200


def test_concurrent_limit_over_real_http(live):
    live.state.reset()
    token = Xero(live.app).connect(ADVISER, [KOWHAI])
    tenant = live.state.tenant_id(KOWHAI)
    live.state.faults.set_latency(0.4)
    statuses: list[tuple[int, str | None]] = []

    def one():
        r = requests.get(
            f"{live.url}/api.xro/2.0/Organisation",
            timeout=10,
            headers={"Authorization": f"Bearer {token['access_token']}", "xero-tenant-id": tenant},
        )
        statuses.append((r.status_code, r.headers.get("X-Rate-Limit-Problem")))

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    live.state.faults.clear()
    assert statuses.count((200, None)) == 5
    assert statuses.count((429, "concurrent")) == 3
    assert max(e["in_flight"] for e in live.state.requests(path="/api.xro/2.0/Organisation")) >= 4


def test_org_offline_503_plain_text_for_a_period(xero, adviser_token):
    xero.state.faults.org_offline(xero.tenant(KOWHAI), 120)
    response = org(xero, adviser_token)
    assert response.status_code == 503 and response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "Organisation offline"
    assert xero.api("Organisation", adviser_token["access_token"], xero.tenant(THAMES)).status_code == 200
    xero.state.advance(121)
    assert org(xero, adviser_token).status_code == 200


def test_maintenance_503_for_whole_api(xero, adviser_token):
    xero.state.faults.maintenance(60)
    assert org(xero, adviser_token).status_code == 503
    response = xero.connections(adviser_token["access_token"])
    assert response.status_code == 503 and "offline for maintenance" in response.get_data(as_text=True)
    xero.state.advance(61)
    assert org(xero, adviser_token).status_code == 200


def test_random_500_rate_and_fail_next(xero, adviser_token):
    xero.state.faults.set_error_rate(1.0)
    response = org(xero, adviser_token)
    assert response.status_code == 500 and response.get_json()["Status"] == 500
    xero.state.faults.set_error_rate(0.5, seed=7)
    statuses = [org(xero, adviser_token).status_code for _ in range(40)]
    assert 5 < statuses.count(500) < 35
    xero.state.faults.clear()
    xero.state.faults.fail_next_requests(2, status=502)
    assert [org(xero, adviser_token).status_code for _ in range(3)] == [502, 502, 200]


def test_latency_fault_delays_responses(xero, adviser_token):
    xero.state.faults.set_latency(0.2)
    org(xero, adviser_token)
    assert xero.state.requests(path="/api.xro/2.0/Organisation")[-1]["duration_ms"] >= 200


def test_token_revoked_fault_and_role_downgrade_and_daily_exhaustion(xero, adviser_token):
    xero.state.exhaust_daily_limit(xero.tenant(KOWHAI))
    response = org(xero, adviser_token)
    assert response.status_code == 429 and response.headers["X-Rate-Limit-Problem"] == "day"
    xero.state.set_role(ADVISER, xero.tenant(THAMES), "READONLY")
    assert xero.api("Organisation", adviser_token["access_token"], xero.tenant(THAMES)).status_code == 403
    xero.state.revoke_user_tokens(ADVISER)
    assert org(xero, adviser_token).status_code == 401
    assert xero.refresh(adviser_token["refresh_token"]).get_json() == {"error": "invalid_grant"}


def test_request_log_records_calls(xero, adviser_token):
    xero.state.clear_requests()
    xero.api("Invoices", adviser_token["access_token"], xero.tenant(KOWHAI), page=2, pageSize=10)
    xero.api("Journals", adviser_token["access_token"], xero.tenant(KOWHAI), offset=100)
    entries = xero.state.requests()
    assert [e["path"] for e in entries] == ["/api.xro/2.0/Invoices", "/api.xro/2.0/Journals"]
    inv, jr = entries
    assert inv["status"] == 200 and inv["page"] == 2 and inv["page_size"] == 10 and inv["rows"] == 10
    assert inv["tenant"] == xero.tenant(KOWHAI) and inv["in_flight"] == 0 and inv["method"] == "GET"
    assert inv["query"] == "page=2&pageSize=10" and inv["timestamp"].startswith("2026-05-15T")
    assert jr["offset"] == 100 and jr["rows"] == 100
    over_http = xero.http.get("/sandbox/requests", query_string={"path": "/api.xro/2.0/Journals"}).get_json()
    assert len(over_http) == 1
    assert xero.http.delete("/sandbox/requests").status_code == 204 and xero.state.requests() == []


def test_limits_from_config():
    app = create_app(sandbox_config(LIMITS={"minute": 1}))
    xero = Xero(app)
    token = xero.connect(ADVISER, [KOWHAI])
    assert org(xero, token).status_code == 200
    assert org(xero, token).status_code == 429
