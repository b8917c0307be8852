"""Redis restarts mid-sync and comes back empty (no persistence, as in CI): the run being synced
and a sync requested while Redis was down both end in the database ledger, with exact rows, no
duplicates and no secret in any log. The workers' sweep re-enqueues what Redis forgot."""

from __future__ import annotations

import time

import pytest

from tests.conftest import wait_until
from tests.faults.invariants import assert_no_secret_in, assert_rows_exact, assert_runs_finished, secrets_seen
from tests.sync.helpers import connect_org, run_state, start_sync, wait_for_run
from wizard import create_app

RECOVERY = {
    "SYNC_SWEEP_SECONDS": 2,
    "SYNC_REVIVE_AFTER_SECONDS": 2,
    "SYNC_RUN_LOCK_SECONDS": 6,
    "SYNC_PAGE_SIZE": 40,
    "SYNC_THREADS": 1,
    "XERO_CALLS_PER_MINUTE": 100_000,
}


def _committed_records(app, connection_id: int) -> int:
    from sqlalchemy import func, select

    from wizard.extensions import db
    from wizard.models import XeroRecord

    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(XeroRecord).where(XeroRecord.connection_id == connection_id)
        )


@pytest.mark.slow
def test_redis_restart_mid_sync_loses_no_run(app, auth, client, sandbox, fault_workers, redis_control, debug_logs):
    from wizard.extensions import db
    from wizard.models import User

    sandbox.state.limits.configure(minute=100_000)
    worker = fault_workers("--maintenance-interval", "2", **RECOVERY)
    org = connect_org(app, sandbox, records=1200)
    other = connect_org(app, sandbox, records=100)
    with app.app_context():
        admin = User(email="ops@example.test", name="ops", role="admin", workspace_id=other.workspace_id)
        admin.set_password("pw")
        db.session.add(admin)
        db.session.commit()
    auth.login("ops@example.test")
    sandbox.state.faults.set_latency(0.25, org.tenant_id)
    first = start_sync(app, org.connection_id)
    wait_until(lambda: _committed_records(app, org.connection_id) >= 40, timeout=60)

    throttled = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}).test_client()  # rate limits on
    args = redis_control.stop()
    assert run_state(app, first) == "running", "the run ended before Redis went down: slow it down"
    # While Redis is down the web app still answers (sign-in's throttle counts in memory), and a
    # requested sync is kept in the ledger.
    assert throttled.post("/login", data={"email": "ops@example.test", "password": "pw"}).status_code == 303
    assert client.get("/data").status_code == 200
    response = client.post(f"/data/connections/{other.connection_id}/sync")
    assert response.status_code == 303, response.status_code
    time.sleep(2)  # long enough for the run's next governor call to meet the outage
    redis_control.start(args)
    time.sleep(1)
    sandbox.state.faults.set_latency(0, org.tenant_id)

    from wizard import syncing

    with app.app_context():
        second = syncing.latest_run(other.connection_id).id
    assert wait_for_run(app, first, timeout=90) == "succeeded", worker.output()[-3000:]
    assert wait_for_run(app, second, timeout=60) == "succeeded", worker.output()[-3000:]
    assert_runs_finished(app, [first, second])
    assert_rows_exact(app, sandbox, org)
    assert_rows_exact(app, sandbox, other)
    secrets = secrets_seen(app, sandbox)
    assert_no_secret_in(worker.output(), secrets)
    assert_no_secret_in(debug_logs.text, secrets)
