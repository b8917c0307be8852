"""A worker killed (kill -9) in the middle of deleting a disconnected organisation's data: the
connection stays `disconnecting`, the committed batches stay deleted, and once the killed worker's
lease lapses the sweep queues the job again; another worker finishes it without asking Xero twice."""

from __future__ import annotations

import psutil
import pytest
from sqlalchemy import insert, select

from tests.conftest import wait_until
from tests.helpers.connections import fresh_connection, stored_records, synced_with_records, workspace_name
from tests.sync.helpers import kill_worker_tree

RECORDS = 60_000
SETTINGS = {
    "DISCONNECT_DELETE_BATCH": 100,
    "SYNC_RUN_LOCK_SECONDS": 3,
    "SYNC_SWEEP_SECONDS": 2,
    "SYNC_REVIVE_AFTER_SECONDS": 1,
}


@pytest.mark.slow
def test_killed_mid_delete_the_disconnect_is_finished_by_another_worker(app, auth, client, sandbox, fault_workers):
    from wizard.extensions import db
    from wizard.models import AuditEvent, XeroRecord

    org = synced_with_records(app, sandbox, 0)
    with app.app_context():
        record = {"connection_id": org.connection_id, "stream": "Invoices", "payload": "{}"}
        rows = [{**record, "xero_id": f"i-{i}"} for i in range(RECORDS)]
        db.session.execute(insert(XeroRecord), rows)
        db.session.commit()
    auth.as_new("admin", "owner@example.test", workspace=workspace_name(app, org.workspace_id))
    first = fault_workers(**SETTINGS)
    response = client.post(f"/data/connections/{org.connection_id}/disconnect", data={"data": "delete"})
    assert response.status_code == 303
    wait_until(lambda: 0 < stored_records(app, org.connection_id) < RECORDS - 500, timeout=60, interval=0.05)
    kill_worker_tree(psutil.Process(first.proc.pid))
    left = stored_records(app, org.connection_id)
    assert 0 < left < RECORDS
    connection = fresh_connection(app, org.connection_id)
    assert (connection.state, connection.xero_connection_id) == ("disconnecting", "")  # Xero done, data half gone
    assert sandbox.state.connections() == []

    fault_workers(**SETTINGS)
    wait_until(lambda: fresh_connection(app, org.connection_id).state == "disconnected", timeout=90, interval=0.2)
    assert stored_records(app, org.connection_id) == 0
    assert len([r for r in sandbox.state.requests() if r.get("method") == "DELETE"]) == 1
    with app.app_context():
        actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["connection.disconnect_requested", "connection.disconnected"]
