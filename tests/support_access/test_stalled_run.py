"""A running sync that has made no progress for longer than SYNC_STALL_SECONDS says so on the Data
page and at step 4 ("No progress for 3 minutes; we are retrying"), and the connection doctor shows
why: the run's RQ job state, its last heartbeat, the run lock and who holds RQ's scheduler."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rq.scheduler import RQScheduler

from wizard.clock import utcnow
from wizard.extensions import db
from wizard.models import Connection, SyncRun

NOTICE = "No progress for 4 minutes; we are retrying."


def _running(app, world, idle: timedelta) -> str:
    """Make the connection's latest run a running one that last moved `idle` ago; its RQ job id."""
    with app.app_context():
        run = db.session.get(SyncRun, world.runs["active"])
        run.state, run.finished_at, run.started_at = "running", None, utcnow() - idle - timedelta(minutes=5)
        run.progressed_at = utcnow() - idle
        db.session.commit()
        return run.rq_job_id


@pytest.fixture
def admin(as_persona):
    return as_persona("admin")


def test_a_stalled_run_says_so_on_the_data_page_and_at_step_4(app, world, admin, htmx):
    _running(app, world, timedelta(minutes=4, seconds=10))
    connection_id = world.connections["active"]
    polled = admin.get(f"/data/connections/{connection_id}/status", headers=htmx).get_data(as_text=True)
    assert NOTICE in polled and 'hx-trigger="every 1s"' in polled  # and it keeps polling
    assert NOTICE in admin.get(f"/data/connections/{connection_id}").get_data(as_text=True)
    assert NOTICE in admin.get(f"/connect/xero/complete/{connection_id}").get_data(as_text=True)


def test_a_run_that_moved_within_the_threshold_shows_no_notice(app, world, admin):
    _running(app, world, timedelta(minutes=2, seconds=50))
    page = admin.get(f"/data/connections/{world.connections['active']}").get_data(as_text=True)
    assert "Syncing your Xero data" in page and "No progress" not in page


def test_a_run_waiting_between_time_slices_still_says_syncing_not_stalled(app, world, admin, htmx):
    """A sliced run's next job waits its turn behind other syncs (SYNC_SLICE_SECONDS): it is still
    syncing, and the wait is not a stall, however long the queue."""
    _running(app, world, timedelta(minutes=4, seconds=10))
    with app.app_context():
        run = db.session.get(SyncRun, world.runs["active"])
        run.end_slice()
        run.progressed_at = utcnow() - timedelta(minutes=4, seconds=10)  # a long queue since the slice ended
        db.session.get_one(Connection, run.connection_id).state = "syncing"
        db.session.commit()
    connection_id = world.connections["active"]
    polled = admin.get(f"/data/connections/{connection_id}/status", headers=htmx).get_data(as_text=True)
    assert "Syncing your Xero data" in polled and 'hx-trigger="every 1s"' in polled
    assert "No progress" not in polled and "Waiting to start" not in polled
    assert "No progress" not in admin.get(f"/data/connections/{connection_id}").get_data(as_text=True)
    rows = admin.get("/data").get_data(as_text=True)
    assert "Syncing" in rows and "No progress" not in rows


def test_the_doctor_shows_job_state_heartbeat_lock_and_scheduler_holder(app, world, as_persona):
    job_id = _running(app, world, timedelta(minutes=4, seconds=10))
    doctor = as_persona("support")
    page = doctor.get(f"/support/connections/{world.connections['active']}").get_data(as_text=True)
    assert "<strong>none for 4 min</strong>" in page
    assert f"<code>{job_id or 'none'}</code>: not in Redis" in page
    assert "Last heartbeat</dt><dd>none" in page and "free: no worker is on this run" in page
    assert "nobody holds the lock; the workers&#39; sweep queues due retries and resumes" in page

    redis = app.extensions["rq"].redis
    scheduler = RQScheduler([app.config["RQ_QUEUE"]], connection=redis)
    scheduler.acquire_locks()
    scheduler.register_birth()
    try:
        page = doctor.get(f"/support/connections/{world.connections['active']}").get_data(as_text=True)
    finally:
        scheduler.release_locks()
        scheduler.register_death()
    assert f"RQ scheduler</dt><dd>{scheduler.hostname} pid {scheduler.pid}" in page
