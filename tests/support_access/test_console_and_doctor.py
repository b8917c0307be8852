"""Support staff's side: the console lists granted connections only; the doctor diagnoses one."""

from __future__ import annotations

import base64

import pytest
from markupsafe import escape
from sqlalchemy import select

from tests.support_access.world import ACCESS_TOKEN, REFRESH_TOKEN, TENANTS
from wizard.extensions import db
from wizard.hints import HINTS
from wizard.models import AuditEvent, SyncRun
from wizard.xero.api import XeroApi


def doctor_url(world, state: str, action: str = "") -> str:
    return f"/support/connections/{world.connections[state]}" + (f"/{action}" if action else "")


def test_console_lists_only_connections_under_an_active_grant(as_persona, world):
    page = as_persona("support").get("/support").get_data(as_text=True)
    assert "Acme Active Ltd" in page and TENANTS["active"] in page and "ticket active" in page
    for hidden in (
        "Acme None Ltd",
        "Acme Expired Ltd",
        "Acme Revoked Ltd",
        "Rival",
        TENANTS["none"],
    ):
        assert hidden not in page


@pytest.mark.parametrize("search", ["acme plan", "ACTIVE LTD", TENANTS["active"][:14]])
def test_console_search_by_workspace_organisation_or_tenant_finds_granted_ones(as_persona, world, search):
    page = as_persona("support").get("/support", query_string={"q": search}).get_data(as_text=True)
    assert "Acme Active Ltd" in page


@pytest.mark.parametrize("search", ["Rival", "Acme None", TENANTS["revoked"][:16], "%", "_"])
def test_console_search_never_reveals_what_is_not_granted(as_persona, world, search):
    page = as_persona("support").get("/support", query_string={"q": search}).get_data(as_text=True)
    assert "Acme Active Ltd" not in page  # wildcards are literal: "%" matches nothing here
    assert "Rival Books" not in page and "Acme None Ltd" not in page and "Acme Revoked Ltd" not in page


def test_console_search_is_an_htmx_fragment_too(as_persona, world):
    response = as_persona("support").get("/support", query_string={"q": "acme"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and b"<html" not in response.data and b"Acme Active Ltd" in response.data


@pytest.mark.parametrize("target", ["none", "expired", "revoked", "missing"])
def test_without_an_active_grant_the_doctor_is_404_not_403(as_persona, world, target):
    url = "/support/connections/999999" if target == "missing" else doctor_url(world, target)
    support = as_persona("support")
    assert support.get(url).status_code == 404
    assert support.post(url + "/sync").status_code == 404
    assert support.post(url + "/recheck").status_code == 404


def test_doctor_shows_state_history_runs_limits_and_the_xero_user(as_persona, world):
    response = as_persona("support").get(doctor_url(world, "active"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "<strong data-state>failed</strong>" in page and "<code>xero_unavailable</code>" in page
    assert "Xero answered 503 three times." in page  # ConnectionEvent detail
    assert "connecting" in page and "syncing" in page  # the history
    assert "Xena Admin &lt;xero.admin@demo.test&gt;" in page
    assert "Refresh failures</dt><dd>1 · last error <code>XeroUnavailable</code>" in page
    assert "<code>accounting.settings.read</code>" in page
    assert '<code class="state-bad">accounting.invoices.read</code>' in page  # needed, not granted
    assert "57 calls left" in page and "4890 calls left" in page and "9990 calls left" in page
    assert f'data-run-id="{world.runs["active"]}"' in page and "7 calls · 120 records" in page
    assert "<code>corr-invoices-2</code>" in page and "503 Service Unavailable" in page and "20 of 400" in page


def test_doctor_shows_the_hints_in_the_words_the_customer_saw(as_persona, world):
    customer = as_persona("admin").get(f"/data/connections/{world.connections['active']}").get_data(as_text=True)
    support = as_persona("support").get(doctor_url(world, "active")).get_data(as_text=True)
    unavailable = HINTS["xero_unavailable"]
    for words in map(str, map(escape, (unavailable.title, unavailable.cause, unavailable.action))):
        assert words in customer and words in support
    assert HINTS["insufficient_scope"].title in support  # token-side hint: a scope is missing


def test_diagnostics_never_contain_a_token_or_secret(app, as_persona, world):
    support = as_persona("support")
    pages = [
        support.get(doctor_url(world, "active")),
        support.get("/support"),
        support.post(doctor_url(world, "active", "sync"), follow_redirects=True),
        support.post(doctor_url(world, "active", "recheck"), follow_redirects=True),
        support.get(doctor_url(world, "active"), headers={"HX-Request": "true"}),
    ]
    secrets = [
        ACCESS_TOKEN,
        REFRESH_TOKEN,
        app.config["XERO_CLIENT_SECRET"],
        app.config["TOKEN_ENCRYPTION_KEY"],
        app.config["SECRET_KEY"],
    ]
    secrets += [c.decode() for c in world.token_ciphertexts]
    secrets += [base64.urlsafe_b64decode(c).hex()[:32] for c in world.token_ciphertexts]
    for response in pages:
        assert response.status_code == 200
        body = response.get_data(as_text=True) + str(response.headers)
        for secret in secrets:
            assert secret not in body
    with app.app_context():
        details = " ".join(e.detail for e in db.session.scalars(select(AuditEvent)))
    assert ACCESS_TOKEN not in details and REFRESH_TOKEN not in details


def test_rerun_sync_queues_a_run_on_supports_behalf(app, as_persona, world):
    response = as_persona("support").post(doctor_url(world, "active", "sync"))
    assert response.status_code == 303 and response.headers["Location"].endswith(doctor_url(world, "active"))
    with app.app_context():
        run = db.session.scalars(
            select(SyncRun).where(SyncRun.connection_id == world.connections["active"]).order_by(SyncRun.id.desc())
        ).first()
        assert run.id != world.runs["active"] and run.state == "queued" and run.kind == "support"
        assert run.requested_by_id == world.user_ids["support"]
        from wizard.jobs import queue

        assert queue().fetch_job(run.rq_job_id) is not None


def test_rerun_sync_is_refused_when_the_customer_must_reconnect(app, as_persona, world):
    from wizard.models import Connection

    with app.app_context():
        db.session.get(Connection, world.connections["active"]).move_to("needs_reauth", "token_dead")
        db.session.commit()
    page = as_persona("support").post(doctor_url(world, "active", "sync"), follow_redirects=True).get_data(as_text=True)
    assert "cannot sync until the customer reconnects" in page
    with app.app_context():
        assert db.session.scalar(select(SyncRun).where(SyncRun.state == "queued")) is None


def test_recheck_with_a_login_xero_refuses_records_the_problem(app, as_persona, world):
    """The sandbox does not know the world's made-up token: Xero says 401 and that is recorded."""
    page = as_persona("support").post(doctor_url(world, "active", "recheck"), follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "Re-check: problem:" in text and "data-recheck>problem:" in text
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "connection.recheck")).one()
        assert event.detail.startswith("problem:") and event.allowed


def test_recheck_with_a_dead_xero_login_marks_its_connections_for_reconnect(app, as_persona, world):
    """Xero refuses the refresh token (invalid_grant): as after a sync, the connection needs the
    customer to log in again, and support sees why."""
    from datetime import timedelta

    from wizard.clock import utcnow
    from wizard.models import Connection

    with app.app_context():
        connection = db.session.get(Connection, world.connections["active"])
        connection.token_set.access_expires_at = utcnow() - timedelta(minutes=1)  # forces a refresh
        db.session.commit()
    page = as_persona("support").post(doctor_url(world, "active", "recheck"), follow_redirects=True)
    assert "Re-check: problem: token_dead" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Connection, world.connections["active"]).state == "needs_reauth"


def test_recheck_asks_xero_with_the_live_token_and_records_ok(app, as_persona, world, monkeypatch):
    seen = []

    def get_connections(self, access_token, auth_event_id=None):
        seen.append(access_token)
        return [{"tenantId": TENANTS["active"], "tenantName": "Acme Active Ltd"}]

    monkeypatch.setattr(XeroApi, "get_connections", get_connections)
    text = (
        as_persona("support").post(doctor_url(world, "active", "recheck"), follow_redirects=True).get_data(as_text=True)
    )
    assert seen == [ACCESS_TOKEN]
    assert "ok: Xero lists this organisation as connected" in text


def test_recheck_reports_an_organisation_xero_no_longer_lists(app, as_persona, world, monkeypatch):
    monkeypatch.setattr(XeroApi, "get_connections", lambda self, token, auth_event_id=None: [])
    text = (
        as_persona("support").post(doctor_url(world, "active", "recheck"), follow_redirects=True).get_data(as_text=True)
    )
    assert "problem: disconnected_in_xero" in text
