import time

from tests.conftest import wait_until
from tests.faults.invariants import assert_rows_exact, assert_runs_finished
from tests.faults.test_run_lock import _lock_key, _streams
from tests.sync.helpers import connect_org, run_state, start_sync, wait_for_run


def test_tmp_left_to_owner_then_revived(app, sandbox, fault_workers):
    from rq.job import Job
    from wizard.extensions import db
    from wizard.models import StreamCursor, SyncRun
    redis = app.extensions["rq"].redis
    sandbox.state.limits.configure(minute=100_000)
    worker = fault_workers(SYNC_RUN_LOCK_SECONDS=3, SYNC_PAGE_SIZE=40, SYNC_THREADS=1, XERO_CALLS_PER_MINUTE=100_000)
    org = connect_org(app, sandbox, records=1200)
    sandbox.state.faults.set_latency(0.1, org.tenant_id)
    run_id = start_sync(app, org.connection_id)
    wait_until(lambda: "done" in _streams(app, run_id).values(), timeout=30)
    redis.set(_lock_key(run_id), "another-execution", px=60_000)
    wait_until(lambda: "sync.left_to_owner" in worker.output(), timeout=30)
    time.sleep(1)
    assert run_state(app, run_id) == "running"
    streams = _streams(app, run_id)
    print(streams)
    assert "running" in streams.values()
    with app.app_context():
        run = db.session.get(SyncRun, run_id)
        job = Job.fetch(run.rq_job_id, connection=redis)
        print("job", job.get_status(), job.return_value())
        assert job.return_value()["stopped"] == "owned_elsewhere"
        cps = [c.checkpoint for c in db.session.query(StreamCursor).filter_by(connection_id=org.connection_id) if c.checkpoint]
        print("checkpoints", cps)
    sandbox.state.faults.set_latency(0, org.tenant_id)
    redis.delete(_lock_key(run_id))  # the phantom owner is gone
    with app.app_context():
        from workers.tasks import _revive_lost_runs
        from wizard.clock import utcnow
        from datetime import timedelta
        assert _revive_lost_runs(utcnow() + timedelta(minutes=5)) == 1
    assert wait_for_run(app, run_id, timeout=90) == "succeeded"
    assert_runs_finished(app, [run_id])
    assert_rows_exact(app, sandbox, org)
    assert "Traceback" not in worker.output()


def test_tmp_t26_exact(app, sandbox, fault_workers):
    from tests.reliability.test_t26_voids_are_tombstoned import _forget_watermarks
    from tests.sync.helpers import sandbox_ids, stored_ids
    from workers.sync.streams import TOMBSTONE_STATUSES
    fault_workers()
    org = connect_org(app, sandbox, records=300)
    assert wait_for_run(app, start_sync(app, org.connection_id)) == "succeeded"
    before = set(stored_ids(app, org.connection_id, "Invoices"))
    sandbox.state.resize_org(org.tenant_id, 150)
    _forget_watermarks(app, org.connection_id)
    assert wait_for_run(app, start_sync(app, org.connection_id)) == "succeeded"
    books = sandbox.state.books(org.tenant_id)
    with books.lock:
        status = {books.record_id("invoices", r.idx): r.status for r in books.invoices}
    live = set(stored_ids(app, org.connection_id, "Invoices", tombstoned=False))
    dead = set(stored_ids(app, org.connection_id, "Invoices", tombstoned=True))
    alive_in_xero = {i for i, s in status.items() if s not in TOMBSTONE_STATUSES}
    print(len(before), len(status), len(live), len(dead), len(before - set(status)))
    assert live == alive_in_xero
    assert dead == (before - set(status)) | (set(status) - alive_in_xero)
