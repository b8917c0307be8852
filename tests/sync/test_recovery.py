"""The sweep takes over what no worker will finish: a started job whose worker died (no run lock
past one lease) and a retry or resume RQ's scheduler left overdue. Each worker enqueues the sweep
on its own RQ cron; a tick another worker's sweep just covered is skipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rq.executions import Execution
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry

from tests.conftest import wait_until
from tests.sync.helpers import connect_org, start_sync
from wizard import jobs
from wizard.extensions import db
from wizard.models import SyncRun
from wizard.run_watch import run_lock_name


def _as_left_by_a_dead_worker(run: SyncRun, started_ago: float) -> Job:
    """What RQ holds after `kill -9` of the worker running the job: started, in the started registry."""
    queue = jobs.queue()
    job = Job.fetch(run.rq_job_id, connection=jobs.redis())
    queue.remove(job)
    with jobs.redis().pipeline() as pipeline:
        Execution.create(job, ttl=90, pipeline=pipeline, worker_name="dead-worker")
        job.set_status(JobStatus.STARTED, pipeline=pipeline)
        job.started_at = datetime.now(UTC) - timedelta(seconds=started_ago)
        job.save(pipeline=pipeline)
        pipeline.execute()
    run.start()
    db.session.commit()
    return job


@pytest.fixture
def sync_run(app, sandbox):
    org = connect_org(app, sandbox, records=50)
    run_id = start_sync(app, org.connection_id)
    with app.app_context():
        yield db.session.get(SyncRun, run_id)


def test_sweep_takes_over_a_run_whose_worker_died(app, sync_run):
    from workers.tasks import sweep

    lost = _as_left_by_a_dead_worker(sync_run, started_ago=app.config["SYNC_RUN_LOCK_SECONDS"] + 1)
    assert sweep()["revived"] == 1
    db.session.refresh(sync_run)
    assert sync_run.rq_job_id != lost.id and sync_run.rq_job_id in jobs.queue().get_job_ids()
    assert not jobs.redis().exists(lost.key), "RQ's own cleanup would retry the abandoned job a second time"
    assert [e["kind"] for e in sync_run.errors] == ["worker_lost"]


def test_sweep_leaves_a_started_run_whose_lock_is_held_or_just_started(app, sync_run):
    from workers.tasks import SWEEP_GUARD, sweep

    lost = _as_left_by_a_dead_worker(sync_run, started_ago=app.config["SYNC_RUN_LOCK_SECONDS"] + 1)
    jobs.redis().set(run_lock_name(sync_run.id), "horse", ex=30)
    assert sweep()["revived"] == 0
    jobs.redis().delete(run_lock_name(sync_run.id), SWEEP_GUARD)
    lost.started_at = datetime.now(UTC) - timedelta(seconds=1)  # the horse has yet to take the lock
    lost.save()
    assert sweep()["revived"] == 0
    assert jobs.redis().exists(lost.key) and not sync_run.errors


def test_an_overdue_retry_is_queued_without_any_scheduler(app, sync_run):
    from workers.tasks import sweep

    queue = jobs.queue()
    queue.remove(sync_run.rq_job_id)
    Job.fetch(sync_run.rq_job_id, connection=jobs.redis()).delete()
    sync_run.start()  # the engine started it; a failed attempt left a retry in RQ's scheduled registry
    sync_run.rq_job_id = "sync-run-retry"
    db.session.commit()
    queue.enqueue_at(
        datetime.now(UTC) - timedelta(seconds=30), "workers.tasks.run_sync", sync_run.id, job_id="sync-run-retry"
    )
    assert "sync-run-retry" in ScheduledJobRegistry(queue=queue)
    sweep()
    assert "sync-run-retry" in queue.get_job_ids() and "sync-run-retry" not in ScheduledJobRegistry(queue=queue)


def test_a_second_sweep_within_the_interval_is_skipped(app):
    from workers.tasks import sweep

    with app.app_context():
        assert "skipped" not in sweep()
        assert sweep() == {"skipped": 1}


def test_every_worker_process_enqueues_the_sweep_on_its_own_cron(app):
    from workers.duties import CronThread, build_cron, duty_queue

    queue = duty_queue(app)
    cron = CronThread(build_cron(app, "test-cron")).start()
    try:
        queued = wait_until(
            lambda: {j.func_name: j for j in queue.get_jobs()} if queue.count >= 2 else None, timeout=10
        )
    finally:
        cron.stop()
    assert set(queued) == {"workers.tasks.sweep", "workers.tasks.support_duties"}
    assert queued["workers.tasks.sweep"].ttl == app.config["SYNC_SWEEP_SECONDS"]


def test_a_second_delivery_leaves_a_run_another_execution_owns_without_failing_it(app, sync_run):
    from workers.tasks import run_sync

    sync_run.start()
    db.session.commit()
    jobs.redis().set(run_lock_name(sync_run.id), "the-owner", ex=30)
    assert run_sync(sync_run.id) == {"skipped": "owned_elsewhere"}
    db.session.refresh(sync_run)
    assert sync_run.state == "running" and not sync_run.errors and sync_run.attempts == 1


def test_a_queued_run_is_enqueued_again_only_once_its_job_is_gone(app, sync_run):
    from workers.tasks import SWEEP_GUARD, sweep

    sync_run.created_at -= timedelta(seconds=app.config["SYNC_REVIVE_AFTER_SECONDS"] + 1)
    db.session.commit()
    assert sweep()["revived"] == 0  # its job waits in the queue
    Job.fetch(sync_run.rq_job_id, connection=jobs.redis()).delete()  # what Redis restarted empty leaves
    jobs.redis().delete(SWEEP_GUARD)
    assert sweep()["revived"] == 1
    assert jobs.queue().get_job_position(sync_run.rq_job_id) == 0
