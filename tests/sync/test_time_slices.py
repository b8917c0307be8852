"""Time slices (issue 17): a sync job that has worked SYNC_SLICE_SECONDS ends at a page boundary
with its checkpoint committed and queues the rest of its run at the back of its queue, so a
watched initial sync gets a worker within one slice and organisations take turns on the workers.

The slices here are 1 ms long, so every job ends after the pages it has in hand: the most
boundaries a run can have, with nothing timed."""

from __future__ import annotations

import re

from tests.sync.helpers import (
    SANDBOX_STREAMS,
    assert_row_counts_match,
    connect_org,
    sandbox_ids,
    start_sync,
    stored_ids,
    wait_for_run,
)
from wizard.extensions import db
from wizard.models import SyncRun

TINY_SLICE = "0.001"


def _jobs_of(output: str, run_id: int) -> tuple[int, int]:
    """(jobs that started the run, jobs that ended a slice of it), from the worker's log."""
    starts = len(re.findall(rf"sync\.start run={run_id} ", output))
    slices = len(re.findall(rf"sync\.slice_end run={run_id} ", output))
    return starts, slices


def _stored(connection_id: int) -> int:
    from sqlalchemy import func, select

    from wizard.models import XeroRecord

    return db.session.scalar(select(func.count()).where(XeroRecord.connection_id == connection_id))


def test_a_sliced_sync_is_several_jobs_with_the_same_records_and_calls_as_one(app, sandbox, workers):
    unsliced = workers(SYNC_SLICE_SECONDS="0")
    whole = connect_org(app, sandbox, records=2500)
    whole_run = start_sync(app, whole.connection_id)
    assert wait_for_run(app, whole_run) == "succeeded", unsliced.output()[-3000:]
    unsliced.stop()

    # The sweep runs every second and may revive at once: it must never run a sliced run twice.
    sliced = workers(SYNC_SLICE_SECONDS=TINY_SLICE, SYNC_SWEEP_SECONDS="1", SYNC_REVIVE_AFTER_SECONDS="0")
    parts = connect_org(app, sandbox, records=2500)
    sliced_run = start_sync(app, parts.connection_id)
    assert wait_for_run(app, sliced_run) == "succeeded", sliced.output()[-3000:]

    starts, slices = _jobs_of(sliced.output(), sliced_run)
    assert slices >= 3 and starts == slices + 1, (starts, slices)
    assert "owned_elsewhere" not in sliced.output() and "worker_lost" not in sliced.output()
    assert _jobs_of(unsliced.output(), whole_run) == (1, 0)
    for sandbox_stream, (ours, _key) in SANDBOX_STREAMS.items():
        assert set(stored_ids(app, parts.connection_id, ours)) == sandbox_ids(sandbox, parts.tenant_id, sandbox_stream)
    assert_row_counts_match(app, sandbox, parts)
    calls = {
        org.tenant_id: [r for r in sandbox.state.requests(tenant=org.tenant_id) if r["path"].startswith("/api.xro/")]
        for org in (whole, parts)
    }
    # Same books size, same calls: a slice boundary never repeats or wastes a call (every call
    # made before the fetchers stop is written), and the unsliced run is at the floor
    # (tests/sync/test_full_sync.py).
    assert len(calls[parts.tenant_id]) == len(calls[whole.tenant_id])
    assert sorted(r["path"] for r in calls[parts.tenant_id]) == sorted(r["path"] for r in calls[whole.tenant_id])
    with app.app_context():
        one, split = db.session.get(SyncRun, whole_run), db.session.get(SyncRun, sliced_run)
        assert split.calls == one.calls == len(calls[whole.tenant_id])
        # Records received: what is stored, no page written twice (the two books differ a little).
        assert split.records == _stored(parts.connection_id) and one.records == _stored(whole.connection_id)
        assert split.attempts == 1 and not split.errors  # slices are not retries
        assert [s.state for s in split.streams] == [s.state for s in one.streams]


def _watched_sync_during_a_long_scheduled_one(app, sandbox, worker):
    """A long scheduled sync of 3,000 records is running when a watched initial sync of 100 starts;
    the watched one must finish while the long one still runs. Returns both organisations and the
    scheduled run."""
    big = connect_org(app, sandbox, records=3000)
    small = connect_org(app, sandbox, records=100)
    scheduled = start_sync(app, big.connection_id, kind="scheduled")
    assert wait_for_run(app, scheduled, states=("running",)) == "running"
    initial = start_sync(app, small.connection_id, kind="initial")
    assert wait_for_run(app, initial) == "succeeded", worker.output()[-3000:]
    assert _run(app, scheduled).state == "running", "the watched sync waited for the whole scheduled one"
    return big, small, scheduled


def test_a_watched_initial_sync_gets_the_worker_at_the_next_slice_of_a_long_scheduled_one(app, sandbox, workers):
    worker = workers(SYNC_SLICE_SECONDS=TINY_SLICE)
    big, small, scheduled = _watched_sync_during_a_long_scheduled_one(app, sandbox, worker)
    assert wait_for_run(app, scheduled) == "succeeded", worker.output()[-3000:]
    assert_row_counts_match(app, sandbox, big)
    assert_row_counts_match(app, sandbox, small)


def _queued_jobs(run_id: int) -> list[str]:
    from wizard.priorities import priority_queues

    return [j for q in priority_queues() for j in q.job_ids if j.startswith(f"sync-run-{run_id}-")]


def test_the_sweep_leaves_a_run_between_slices_alone_and_requeues_it_once_if_its_job_was_lost(app, sandbox):
    """Between slices the run is `running` with no worker on it: the sweep must see its queued
    next job as alive (no second job), and must queue it again, exactly once, when Redis lost it,
    even when that happens twice in one attempt (the attempt's earlier jobs still exist)."""
    from wizard import syncing
    from wizard.clock import utcnow
    from wizard.priorities import queue_for
    from workers.tasks import _revive_lost_runs

    org = connect_org(app, sandbox, records=40)
    run_id = start_sync(app, org.connection_id, kind="scheduled")
    with app.app_context():
        run = db.session.get(SyncRun, run_id)
        queue_for("scheduled").remove(run.rq_job_id)  # a worker took the first job
        run.start()
        run.end_slice()
        db.session.commit()
        syncing.enqueue_next_slice(run, None, None)
        assert _queued_jobs(run_id) == [run.rq_job_id]
        assert _revive_lost_runs(utcnow()) == 0
        assert _queued_jobs(run_id) == [run.rq_job_id]
        for _lost in range(2):
            # The next slice's job left its queue without running (Redis lost it): its hash is still there.
            queue_for("scheduled").remove(db.session.get(SyncRun, run_id).rq_job_id)
            assert _queued_jobs(run_id) == []
            assert _revive_lost_runs(utcnow()) == 1
            run = db.session.get(SyncRun, run_id)
            assert _queued_jobs(run_id) == [run.rq_job_id] and run.between_slices and run.attempts == 1
            assert _revive_lost_runs(utcnow()) == 0
        assert len(_queued_jobs(run_id)) == 1


def test_sync_now_moves_a_run_waiting_between_slices_up_to_its_queue(app, sandbox):
    from wizard import syncing
    from wizard.priorities import queue_for

    org = connect_org(app, sandbox, records=40)
    run_id = start_sync(app, org.connection_id, kind="scheduled")
    with app.app_context():
        run = db.session.get(SyncRun, run_id)
        queue_for("scheduled").remove(run.rq_job_id)
        run.start()
        run.end_slice()
        db.session.commit()
        syncing.enqueue_next_slice(run, queue_for("scheduled").name, {"age_after": 30.0})
        job_id = run.rq_job_id
        assert job_id in queue_for("scheduled").job_ids
    assert start_sync(app, org.connection_id, kind="manual") == run_id  # joined, not a second run
    with app.app_context():
        assert job_id in queue_for("manual").job_ids and job_id not in queue_for("scheduled").job_ids
        from rq.job import Job

        assert Job.fetch(job_id, connection=app.extensions["rq"].redis).meta["age_after"] == 30.0


def _run(app, run_id: int) -> SyncRun:
    with app.app_context():
        run = db.session.get_one(SyncRun, run_id)
        db.session.expunge(run)
        return run


def test_a_long_sync_ends_its_turn_for_a_waiting_watched_one_and_keeps_the_worker_when_alone(app, sandbox, workers):
    """SYNC_TURN_SECONDS: with the (long) slice off, a job ends after its turn only when another
    sync waits at its priority or above; alone it is one job however long it runs."""
    worker = workers(SYNC_SLICE_SECONDS="0", SYNC_TURN_SECONDS=TINY_SLICE, SYNC_LIMIT_YIELD_SECONDS="0")
    alone = connect_org(app, sandbox, records=2500)
    alone_run = start_sync(app, alone.connection_id, kind="scheduled")
    assert wait_for_run(app, alone_run) == "succeeded", worker.output()[-3000:]
    assert _jobs_of(worker.output(), alone_run) == (1, 0)  # nobody waited: no turn ended

    big, small, scheduled = _watched_sync_during_a_long_scheduled_one(app, sandbox, worker)
    assert wait_for_run(app, scheduled) == "succeeded", worker.output()[-3000:]
    starts, ended = _jobs_of(worker.output(), scheduled)
    assert ended >= 1 and starts == ended + 1, (starts, ended)
    assert_row_counts_match(app, sandbox, big)
    assert_row_counts_match(app, sandbox, small)


def test_a_sync_held_back_by_its_own_minute_hands_the_worker_to_another_organisation(app, sandbox, workers):
    """SYNC_LIMIT_YIELD_SECONDS: the organisation's minute is used up, so its job would sit idle on
    the only worker; it ends its slice, the next one is scheduled for when the minute frees, and
    another organisation's sync runs meanwhile. Nothing is fetched twice and the minute holds."""
    import time

    from wizard.limit_pauses import limit_pause
    from workers.sync.governor import Governor, Limits

    worker = workers(XERO_TIME_SCALE="6", SYNC_SLICE_SECONDS="0", SYNC_TURN_SECONDS="0", SYNC_LIMIT_YIELD_SECONDS="1")
    held = connect_org(app, sandbox, records=300)
    other = connect_org(app, sandbox, records=40)
    # Another process of ours used the organisation's minute (a Xero minute lasts 10 s here).
    governor = Governor(app.extensions["rq"].redis, held.tenant_id, Limits(time_scale=6.0))
    for _ in range(60):
        with governor.slot():
            pass
    held_run = start_sync(app, held.connection_id, kind="scheduled")
    for _ in range(200):
        if _run(app, held_run).pause_reason.startswith("slice_limit_"):
            break
        time.sleep(0.1)
    with app.app_context():
        run = db.session.get_one(SyncRun, held_run)
        assert run.between_slices, (run.state, run.pause_reason, worker.output()[-3000:])
        pause = limit_pause(run)  # the Data page and the doctor still say which limit, and until when
        assert pause is not None and pause.problem == "minute" and pause.until is not None
    other_run = start_sync(app, other.connection_id, kind="scheduled")
    assert wait_for_run(app, other_run) == "succeeded", worker.output()[-3000:]
    assert _run(app, held_run).state == "running", "the other organisation waited for the held one to finish"
    assert wait_for_run(app, held_run) == "succeeded", worker.output()[-3000:]
    assert re.search(rf"sync\.slice_end run={held_run} .* resume=\d{{4}}-", worker.output())
    assert_row_counts_match(app, sandbox, held)
    assert_row_counts_match(app, sandbox, other)
    calls = [r for r in sandbox.state.requests(tenant=held.tenant_id) if r["path"].startswith("/api.xro/")]
    assert _run(app, held_run).calls == len(calls)  # each call once: a slice boundary wastes none
