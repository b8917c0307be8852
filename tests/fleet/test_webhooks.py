"""POST /webhooks/xero (issue 17 item 3): signature, intent to receive, dedupe, unknown tenants,
coalescing into incremental syncs of just the changed data types, and what the Data page says."""

from __future__ import annotations

import base64
import json
import re

import pytest
from sqlalchemy import select

from tests.conftest import wait_until
from tests.fleet.webhook_helpers import KEY, deliver, event, payload
from wizard.extensions import db
from wizard.models import Connection, ConnectionWebhook, SyncRun, Workspace


@pytest.fixture
def hooked(app):
    """The app as configured for the tests (XERO_WEBHOOK_KEY in the environment), CSRF protection on."""
    from wizard import create_app

    hooked = create_app({"TESTING": True, "RATELIMIT_ENABLED": False})
    assert hooked.config["XERO_WEBHOOK_KEY"] == KEY
    return hooked


@pytest.fixture
def hook(hooked):
    return hooked.test_client()


def _connection(app, tenant_id: str = "4d2b9d0e-1111-4c2d-9c3a-000000000001", state: str = "synced") -> int:
    with app.app_context():
        workspace = Workspace(name=f"WS {tenant_id[-4:]}")
        db.session.add(workspace)
        db.session.flush()
        connection = Connection(workspace_id=workspace.id, tenant_id=tenant_id, tenant_name="Demo Ltd", state=state)
        db.session.add(connection)
        db.session.commit()
        return connection.id


def _runs(app, connection_id: int) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.scalars(select(SyncRun).where(SyncRun.connection_id == connection_id).order_by(SyncRun.id))
        return [(r.kind, r.state) for r in rows]


def _coverage(app, connection_id: int) -> ConnectionWebhook | None:
    with app.app_context():
        row = db.session.get(ConnectionWebhook, connection_id)
        if row is not None:
            db.session.expunge(row)
        return row


def _counts(app) -> dict[str, int]:
    with app.app_context():
        from wizard.webhooks.intake import counts

        return counts()


def test_intent_to_receive_200_when_signed_401_otherwise_always_empty_and_without_cookies(hook):
    body = payload([])
    signed = deliver(hook, body)
    assert (signed.status_code, signed.data) == (200, b"")
    assert "Set-Cookie" not in signed.headers
    for bad in (
        deliver(hook, body, signature="not-base64-at-all"),
        deliver(hook, body, key="another-key"),
        deliver(hook, body, signature=""),
        deliver(hook, body, signature=base64.b64encode(b"x" * 32).decode()),
    ):
        assert (bad.status_code, bad.data) == (401, b"")
        assert "Set-Cookie" not in bad.headers
    # A signature of one body does not pass for another (the same shape, different entropy).
    from wizard.webhooks.signature import sign

    other = deliver(hook, payload([]), signature=sign(KEY, body))
    assert other.status_code == 401


def test_no_webhook_key_no_endpoint(app):
    from wizard import create_app

    unhooked = create_app({"TESTING": True, "XERO_WEBHOOK_KEY": None})
    response = deliver(unhooked.test_client(), payload([]))
    assert response.status_code == 404


def test_signed_body_that_is_not_a_payload_gets_a_clear_400(hook):
    response = deliver(hook, b"{not json")
    assert response.status_code == 400 and b"Not a Xero webhook payload" in response.data
    response = deliver(hook, json.dumps({"events": [{"resourceId": "x"}]}).encode())
    assert response.status_code == 400 and b"tenantId" in response.data


def test_a_storm_of_10000_events_for_one_organisation_becomes_one_incremental_sync(app, hook):
    tenant = "4d2b9d0e-1111-4c2d-9c3a-00000000aaaa"
    connection_id = _connection(app, tenant)
    for batch in range(10):
        events = [
            event(tenant, "INVOICE" if n % 3 else "CONTACT", when=f"2026-12-02T06:{batch:02d}:00.{n:03d}")
            for n in range(1000)
        ]
        response = deliver(hook, payload(events, first=batch * 1000 + 1))
        assert (response.status_code, response.data) == (200, b"")
    assert _runs(app, connection_id) == [("webhook", "queued")]
    coverage = _coverage(app, connection_id)
    assert coverage.events == 10_000 and coverage.pending == {"Invoices", "Contacts"}
    assert coverage.last_event_at.strftime("%H:%M:%S") == "06:09:00"
    assert _counts(app)["received"] == 10_000


def test_redelivered_events_are_recognised_and_ignored(app, hook):
    tenant = "4d2b9d0e-1111-4c2d-9c3a-00000000bbbb"
    connection_id = _connection(app, tenant)
    events = [event(tenant, "CREDITNOTE", when=f"2026-12-02T06:00:0{n}.000") for n in range(5)]
    assert deliver(hook, payload(events)).status_code == 200
    assert deliver(hook, payload(events)).status_code == 200  # Xero's retry of the same delivery
    assert _coverage(app, connection_id).events == 5
    counts = _counts(app)
    assert counts["received"] == 10 and counts["duplicates"] == 5
    assert _runs(app, connection_id) == [("webhook", "queued")]


def test_events_for_unknown_tenants_are_counted_and_start_nothing(app, hook):
    known = _connection(app, "4d2b9d0e-1111-4c2d-9c3a-00000000cccc")
    gone = _connection(app, "4d2b9d0e-1111-4c2d-9c3a-00000000dddd", state="disconnected")
    events = [event("9f9f9f9f-0000-4000-8000-000000000000") for _ in range(3)]
    events += [event("4d2b9d0e-1111-4c2d-9c3a-00000000dddd")]
    events += [event("4d2b9d0e-1111-4c2d-9c3a-00000000cccc", "SUBSCRIPTION", tenantType="APPLICATION")]
    assert deliver(hook, payload(events)).status_code == 200
    counts = _counts(app)
    assert counts["unknown_tenant"] == 4 and counts["ignored"] == 1
    assert _runs(app, known) == [] and _runs(app, gone) == []
    with app.app_context():
        assert db.session.scalars(select(ConnectionWebhook)).all() == []


def test_events_during_a_running_sync_wait_for_it_then_the_sweep_starts_one_more(app, hook):
    from wizard.webhooks.intake import start_followups

    tenant = "4d2b9d0e-1111-4c2d-9c3a-00000000eeee"
    connection_id = _connection(app, tenant)
    assert deliver(hook, payload([event(tenant)])).status_code == 200
    with app.app_context():
        run = db.session.scalar(select(SyncRun).where(SyncRun.connection_id == connection_id))
        from wizard.webhooks.intake import claim_streams

        assert claim_streams(connection_id, run.kind) == {"Invoices"}  # what the engine does at start
        run.start()
        db.session.commit()
        run_id = run.id
    assert deliver(hook, payload([event(tenant, "CONTACT")])).status_code == 200
    assert _runs(app, connection_id) == [("webhook", "running")]  # absorbed: no second run beside it
    with app.app_context():
        assert start_followups() == 0  # still running
        run = db.session.get(SyncRun, run_id)
        run.succeed()
        db.session.commit()
        assert start_followups() == 1
        assert start_followups() == 0
    assert _runs(app, connection_id) == [("webhook", "succeeded"), ("webhook", "queued")]
    assert _coverage(app, connection_id).pending == {"Contacts"}


def test_data_page_says_the_connection_is_kept_up_to_date_by_webhooks(app, hook, hooked, auth, client):
    tenant = "4d2b9d0e-1111-4c2d-9c3a-00000000ffff"
    connection_id = _connection(app, tenant)
    with app.app_context():
        workspace_id = db.session.get(Connection, connection_id).workspace_id
        workspace_name = db.session.get(Workspace, workspace_id).name
    auth.as_new("viewer", workspace=workspace_name)
    page = client.get("/data").get_data(as_text=True)
    assert "Demo Ltd" in page and "Kept up to date by Xero webhooks" not in page
    assert deliver(hook, payload([event(tenant, when="2026-12-02T05:43:10.123")])).status_code == 200
    page = client.get("/data").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", "", page)  # the time is a <time> element (UTC on hover)
    assert "Kept up to date by Xero webhooks · last changed in Xero 02 Dec 2026 05:43 UTC" in text
    detail = client.get(f"/data/connections/{connection_id}").get_data(as_text=True)
    assert "last changed in Xero 02 Dec 2026 05:43 UTC" in re.sub(r"<[^>]+>", "", detail)
    assert "Invoices, contacts and credit notes sync when Xero reports a change" in detail


@pytest.mark.slow
def test_a_webhook_syncs_just_the_changed_data_type_into_the_database(app, sandbox, hook, worker):
    from tests.sync.helpers import connect_org, start_sync, stored_ids, wait_for_run

    org = connect_org(app, sandbox, records=200)
    assert wait_for_run(app, start_sync(app, org.connection_id), timeout=90) == "succeeded"
    before = stored_ids(app, org.connection_id, "Invoices")
    changed = sandbox.state.modify_records(org.tenant_id, "invoices", 2)
    seen = len(sandbox.state.requests())
    events = [event(org.tenant_id, "INVOICE", resource_id=rid) for rid in changed]
    assert deliver(hook, payload(events)).status_code == 200
    wait_until(lambda: _runs(app, org.connection_id)[-1] == ("webhook", "succeeded"), timeout=60)
    calls = {r["path"].rsplit("/", 1)[-1] for r in sandbox.state.requests()[seen:] if "/api.xro/" in r["path"]}
    assert calls == {"Invoices"}
    stored = stored_ids(app, org.connection_id, "Invoices")
    assert len(stored) == len(before)
    for rid in changed:  # the changed invoices are stored with Xero's new version
        assert stored[rid]["UpdatedDateUTC"] != before[rid]["UpdatedDateUTC"]
