"""Enqueueing a run or its resume (wizard/syncing.py) when RQ already has the job or Redis cannot
be reached: the committed run row is the ledger, nothing is raised to the request, and the sweep
enqueues the run once Redis is back."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from rq.job import Job

from tests.conftest import _free_port
from tests.sync.helpers import bare_connection
from wizard import jobs, syncing
from wizard.clock import utcnow
from wizard.extensions import db
from wizard.jobs import QueueHolder
from wizard.models import Connection, SyncRun


@pytest.fixture
def run(app):
    with app.app_context():
        connection = db.session.get(Connection, bare_connection("Enqueue edges"))
        connection.move_to("syncing", "manual")
        sync_run = SyncRun(connection_id=connection.id, kind="manual", attempts=0)
        db.session.add(sync_run)
        db.session.commit()
        yield sync_run


@pytest.fixture
def redis_down(app):
    """The app's Redis, as configured, cannot be reached (stopped, or the network is down)."""
    working = app.extensions["rq"]
    down = QueueHolder(app)
    down.url = f"redis://127.0.0.1:{_free_port()}/0"
    app.extensions["rq"] = down
    yield
    app.extensions["rq"] = working


def test_enqueueing_a_run_rq_already_has_keeps_the_one_job(app, run, caplog):
    caplog.set_level(logging.INFO, logger="wizard.syncing")
    syncing.enqueue_run(run)
    syncing.enqueue_run(run)  # a double click, a retried request: same attempt, same job id
    assert f"sync.enqueue_duplicate run={run.id} job={run.rq_job_id}" in caplog.text
    queue = jobs.queue_named(Job.fetch(run.rq_job_id, connection=jobs.redis()).origin)
    assert queue.get_job_ids().count(run.rq_job_id) == 1


def test_a_run_redis_cannot_take_stays_queued_and_the_sweep_enqueues_it_later(app, run, redis_down, caplog):
    caplog.set_level(logging.WARNING, logger="wizard.syncing")
    syncing.enqueue_run(run)  # no exception reaches the request
    assert f"sync.enqueue_deferred run={run.id} job={run.rq_job_id} error=ConnectionError" in caplog.text
    db.session.refresh(run)
    assert run.state == "queued" and run.rq_job_id == f"sync-run-{run.id}-0"


def test_the_sweep_enqueues_a_run_whose_enqueue_redis_refused(app, run, caplog):
    from workers.tasks import SWEEP_GUARD, sweep

    run.rq_job_id = f"sync-run-{run.id}-0"  # what enqueue_run committed before Redis refused the job
    run.created_at = utcnow() - timedelta(seconds=app.config["SYNC_REVIVE_AFTER_SECONDS"] + 1)
    db.session.commit()
    jobs.redis().delete(SWEEP_GUARD)
    assert sweep()["revived"] == 1
    assert Job.fetch(run.rq_job_id, connection=jobs.redis()).get_status() == "queued"


def test_a_resume_scheduled_twice_is_one_job(app, run, caplog):
    caplog.set_level(logging.INFO, logger="wizard.syncing")
    run.start()
    db.session.commit()
    when = utcnow() + timedelta(minutes=10)
    syncing.schedule_resume(run, when)
    syncing.schedule_resume(run, when)
    assert f"sync.resume_duplicate run={run.id} job=sync-run-{run.id}-resume-1" in caplog.text


def test_a_resume_redis_cannot_take_is_left_to_the_sweep(app, run, redis_down, caplog):
    caplog.set_level(logging.WARNING, logger="wizard.syncing")
    run.start()
    run.pause(utcnow() + timedelta(minutes=10), "rate_limited")
    db.session.commit()
    syncing.schedule_resume(run, run.paused_until)
    assert f"sync.resume_deferred run={run.id} job=sync-run-{run.id}-resume-1 error=ConnectionError" in caplog.text
    db.session.refresh(run)
    assert run.state == "paused" and run.rq_job_id == f"sync-run-{run.id}-resume-1"


def test_promoting_a_run_while_redis_is_away_leaves_it_where_it_waits(app, run, redis_down, caplog):
    """ "Sync now" on a scheduled run waiting in the low queue: without Redis nothing moves, nothing is raised."""
    from wizard import priorities

    caplog.set_level(logging.WARNING, logger="wizard.priorities")
    assert priorities.promote_run("sync-run-waiting", "manual") is False
    assert "sync.promote_failed job=sync-run-waiting error=ConnectionError" in caplog.text
