"""Priorities without starvation (issue 17 item 2): watched initial syncs first, then triggered
syncs, then scheduled ones; waiting work ages upward; a trigger promotes the sync it joins;
scheduled re-syncs are spread over their interval."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select

from tests.fleet.test_webhooks import _connection
from tests.sync.helpers import connect_org, start_sync, wait_for_run
from wizard.extensions import db
from wizard.models import Connection, SyncRun


def _queue_of(app, run_id: int) -> str:
    """The queue the run's job waits in (by listing every sync queue)."""
    from wizard.priorities import priority_queues

    with app.app_context():
        job_id = db.session.get(SyncRun, run_id).rq_job_id
        found = [q.name for q in priority_queues() if job_id in q.job_ids]
    assert len(found) == 1, found
    return found[0]


def test_each_kind_of_sync_waits_in_the_queue_of_its_priority(app):
    base = app.config["RQ_QUEUE"]
    kinds = {"initial": f"{base}-watched", "manual": base, "webhook": base, "support": base}
    kinds["scheduled"] = f"{base}-scheduled"
    for n, (kind, queue) in enumerate(kinds.items()):
        run_id = start_sync(app, _connection(app, f"4d2b9d0e-2222-4c2d-9c3a-{n:012d}"), kind=kind)
        assert _queue_of(app, run_id) == queue, kind


def test_sync_now_joins_a_waiting_scheduled_sync_and_moves_it_up(app):
    connection_id = _connection(app, "4d2b9d0e-3333-4c2d-9c3a-000000000001")
    scheduled = start_sync(app, connection_id, kind="scheduled")
    assert _queue_of(app, scheduled).endswith("-scheduled")
    assert start_sync(app, connection_id, kind="manual") == scheduled  # coalesced: still one run
    assert _queue_of(app, scheduled) == app.config["RQ_QUEUE"]
    assert start_sync(app, connection_id, kind="initial") == scheduled
    assert _queue_of(app, scheduled).endswith("-watched")
    assert start_sync(app, connection_id, kind="scheduled") == scheduled  # a lower trigger moves nothing
    assert _queue_of(app, scheduled).endswith("-watched")


def test_waiting_work_ages_up_one_queue_at_a_time(app):
    from wizard.priorities import promote_waiting

    old = start_sync(app, _connection(app, "4d2b9d0e-4444-4c2d-9c3a-000000000001"), kind="scheduled")
    with app.app_context():
        assert promote_waiting() == 0  # nobody waited 10 minutes yet
    assert _queue_of(app, old).endswith("-scheduled")
    app.config.update(SYNC_AGE_SCHEDULED_SECONDS=0, SYNC_AGE_TRIGGERED_SECONDS=3600)
    with app.app_context():
        assert promote_waiting() == 1
    assert _queue_of(app, old) == app.config["RQ_QUEUE"]
    with app.app_context():
        assert promote_waiting() == 0  # it waits again, now in the triggered queue's own time
    app.config.update(SYNC_AGE_TRIGGERED_SECONDS=0)
    with app.app_context():
        assert promote_waiting() == 1
    assert _queue_of(app, old).endswith("-watched")


def test_a_scheduled_resync_moves_up_before_its_wait_would_make_the_data_stale(app):
    """A 15-minute connection keeps 90 s of headroom; its re-sync may wait half of it (45 s), not
    the queue's 10 minutes, before it moves up."""
    from wizard.clock import set_clock
    from wizard.priorities import promote_waiting

    connection_id = _connection(app, "4d2b9d0e-4444-4c2d-9c3a-000000000009")
    with app.app_context():
        db.session.get_one(Connection, connection_id).sync_interval_minutes = 15
        db.session.commit()
    run_id = start_sync(app, connection_id, kind="scheduled")
    app.config.update(SYNC_AGE_SCHEDULED_SECONDS=600, SYNC_AGE_TRIGGERED_SECONDS=3600)
    real = datetime.utcnow()
    try:
        set_clock(lambda: real + timedelta(seconds=30))
        with app.app_context():
            assert promote_waiting() == 0
        set_clock(lambda: real + timedelta(seconds=50))
        with app.app_context():
            assert promote_waiting() == 1
    finally:
        set_clock(None)
    assert _queue_of(app, run_id) == app.config["RQ_QUEUE"]


def test_a_scheduled_resume_is_alive_in_its_own_queue_and_not_revived_twice(app):
    from wizard.syncing import schedule_resume
    from workers.tasks import _job_alive

    run_id = start_sync(app, _connection(app, "4d2b9d0e-5555-4c2d-9c3a-000000000001"), kind="scheduled")
    with app.app_context():
        run = db.session.get(SyncRun, run_id)
        from wizard import priorities

        priorities.queue_for("scheduled").remove(run.rq_job_id)
        schedule_resume(run, datetime.utcnow() + timedelta(hours=1))
        assert _job_alive(db.session.get(SyncRun, run_id), datetime.utcnow())


def test_scheduled_resyncs_are_spread_over_the_interval_and_never_later_than_it():
    from wizard.schedule import next_sync_at

    finished = datetime(2026, 12, 2, 6, 0, 0)
    due = [next_sync_at(connection_id, 60, finished) for connection_id in range(1, 1001)]
    assert all(finished < d <= finished + timedelta(minutes=60) for d in due)
    per_minute = Counter(int((d - finished).total_seconds() // 60) for d in due)
    assert len(per_minute) >= 54 and max(per_minute.values()) <= 2 * 1000 / 54


def test_a_resync_that_waits_and_runs_a_while_still_lands_within_the_interval():
    """Data age is measured from the previous fetch: a re-sync due exactly one interval after the
    last one was due is stale by its own queue wait and run time (bench: 2.1 x the interval).
    The schedule keeps SYNC_SCHEDULE_HEADROOM of the interval for them."""
    from wizard.schedule import next_sync_at

    finished = datetime(2026, 12, 2, 6, 0, 0)
    first = next_sync_at(7, 60, finished, headroom=0.1)
    # This one waited 2 minutes for a worker and ran 3: the next is due 54 minutes after the last
    # was due, so even a next run as slow (5 minutes) finishes 59 minutes after the previous fetch.
    following = next_sync_at(7, 60, first + timedelta(minutes=5), headroom=0.1)
    assert following - first == timedelta(minutes=54)
    assert following + timedelta(minutes=5) - first < timedelta(minutes=60)
    # Once aligned, a connection keeps its phase, however long its run took.
    assert next_sync_at(7, 60, following + timedelta(seconds=30), headroom=0.1) == following + timedelta(minutes=54)
    # No headroom: exactly the interval (start to start).
    assert next_sync_at(7, 60, first, headroom=0.0) - first <= timedelta(minutes=60)


def test_a_worker_runs_watched_then_triggered_then_scheduled_whatever_the_order_of_arrival(app, sandbox, workers):
    orgs = [connect_org(app, sandbox, records=30) for _ in range(3)]
    scheduled = start_sync(app, orgs[0].connection_id, kind="scheduled")
    manual = start_sync(app, orgs[1].connection_id, kind="manual")
    initial = start_sync(app, orgs[2].connection_id, kind="initial")
    workers("--burst")  # one worker, one job at a time, all three already waiting
    for run_id in (scheduled, manual, initial):
        assert wait_for_run(app, run_id, timeout=90) == "succeeded"
    with app.app_context():
        runs = db.session.scalars(select(SyncRun).where(SyncRun.id.in_((scheduled, manual, initial))))
        order = [r.kind for r in sorted(runs, key=lambda r: r.started_at)]
    assert order == ["initial", "manual", "scheduled"]
    with app.app_context():
        connection = db.session.get(Connection, orgs[0].connection_id)
        assert connection.next_sync_at is not None
