"""A signed webhook delivery while Redis is unreachable (wizard/webhooks/intake.py): every event is
kept (no dedupe: a sync is idempotent), the change is noted in the database and the run recorded
as queued for the sweep, and Xero still gets its 200 so it does not retry for a day."""

from __future__ import annotations

import logging

from sqlalchemy import select

from tests.conftest import _free_port
from tests.fleet.webhook_helpers import deliver, event, payload
from tests.sync.helpers import bare_connection
from wizard.extensions import db
from wizard.jobs import QueueHolder
from wizard.models import Connection, ConnectionWebhook, SyncRun


def test_a_delivery_while_redis_is_away_is_taken_and_its_sync_left_to_the_sweep(app, client, caplog):
    caplog.set_level(logging.INFO)
    with app.app_context():
        connection = db.session.get(Connection, bare_connection("Webhook Redis down"))
        connection.move_to("syncing", "initial")
        connection.move_to("synced", "")
        db.session.commit()
        tenant_id, connection_id = connection.tenant_id, connection.id
    working = app.extensions["rq"]
    down = QueueHolder(app)
    down.url = f"redis://127.0.0.1:{_free_port()}/0"
    app.extensions["rq"] = down
    try:
        same = event(tenant_id, resource_id="inv-1")
        response = deliver(
            client, payload([same, dict(same), event(tenant_id, "CONTACT"), event(tenant_id, "SUBSCRIPTION")])
        )
    finally:
        app.extensions["rq"] = working
    assert response.status_code == 200
    assert "webhooks.dedupe_unavailable error=ConnectionError" in caplog.text
    assert "webhooks.count_unavailable error=ConnectionError" in caplog.text
    # without Redis the repeated event is not recognised: counted as new, harmless
    assert "received=4 duplicates=0 unknown_tenant=0 ignored=1 connections=1 syncs_queued=1" in caplog.text
    with app.app_context():
        run = db.session.scalars(select(SyncRun).where(SyncRun.connection_id == connection_id)).one()
        assert (run.kind, run.state) == ("webhook", "queued"), "the ledger row the sweep enqueues later"
        pending = db.session.get(ConnectionWebhook, connection_id)
        assert set(pending.pending_streams.split(",")) == {"Invoices", "Contacts"}
