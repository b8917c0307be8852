"""The database connection drops in the middle of a page (PostgreSQL: pg_terminate_backend on the
worker's sessions; SQLite: a COMMIT that fails like a dropped connection). The engine reconnects
and writes the page again in-process: the job does not fail, no RQ retry (and so no scheduler) is
needed, and the mirror ends exact."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from tests.conftest import wait_until
from tests.faults.invariants import assert_no_secret_in, assert_rows_exact, assert_runs_finished, secrets_seen
from tests.faults.recovery import FaultClock
from tests.sync.helpers import connect_org, start_sync, wait_for_run


def _records(app, connection_id: int) -> int:
    from wizard.extensions import db
    from wizard.models import XeroRecord

    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(XeroRecord).where(XeroRecord.connection_id == connection_id)
        )


def _drop_connections(app, fault_file) -> str:
    """Cut the worker's database connections as the database or network would."""
    from wizard.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as conn:
                killed = conn.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).scalar()
            assert killed, "no worker connection to terminate"
            return "pg_terminate_backend"
    fault_file.write_text("drop")
    return "failing commit"


@pytest.mark.slow
def test_database_connection_dropped_mid_page_recovers_exactly(app, sandbox, fault_workers, tmp_path, debug_logs):
    from wizard.extensions import db
    from wizard.models import SyncRun

    fault_file = tmp_path / "drop-next-commit"
    sandbox.state.limits.configure(minute=100_000)
    with app.app_context():
        on_postgresql = db.engine.dialect.name == "postgresql"
    worker = fault_workers(
        # PostgreSQL: the worker exactly as the README starts it; SQLite: with the commit-fault hook.
        module="workers" if on_postgresql else "tests.faults.faulty_worker",
        env={"FAULT_COMMIT_FILE": str(fault_file)},
        SYNC_PAGE_SIZE=40,
        SYNC_THREADS=1,
        XERO_CALLS_PER_MINUTE=100_000,
    )
    org = connect_org(app, sandbox, records=1200)
    sandbox.state.faults.set_latency(0.1, org.tenant_id)
    run_id = start_sync(app, org.connection_id)
    wait_until(lambda: _records(app, org.connection_id) >= 80, timeout=60)
    how = _drop_connections(app, fault_file)
    clock = FaultClock(app, sandbox, run_id, f"database connections dropped ({how})")
    if how == "failing commit":
        wait_until(lambda: not fault_file.exists(), timeout=30)
    clock.settle(0.5)
    sandbox.state.faults.set_latency(0, org.tenant_id)
    clock.wait_until_moving(60)
    assert wait_for_run(app, run_id, timeout=120) == "succeeded", worker.output()[-3000:]
    clock.finished()
    with app.app_context():
        run = db.session.get(SyncRun, run_id)
        assert run.attempts == 1, f"the {how} failed the job: {run.errors}"
        assert not run.errors
    if how == "failing commit":
        assert "sync.db_reconnecting step=write_page attempt=1" in worker.output()
    assert_runs_finished(app, [run_id])
    assert_rows_exact(app, sandbox, org)
    refetched, in_flight = clock.refetched()
    assert refetched <= in_flight, f"committed pages fetched again: {sorted(refetched - in_flight)}"
    clock.report(refetched=len(refetched), in_flight=len(in_flight))
    secrets = secrets_seen(app, sandbox)
    assert_no_secret_in(worker.output(), secrets)
    assert_no_secret_in(debug_logs.text, secrets)
