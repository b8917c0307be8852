"""A worker dies (kill -9 of it, its work horse and its scheduler) mid-sync, with the workers started
exactly as the README says (`python -m workers`, no flags, default settings). Its run is taken over
and moving within 60 s, with a replacement started 20 s later or by the worker that was already
running; it finishes by itself, rows exact per stream, nothing fetched again but what was in flight.
Figures (seconds from the fault to moving again and to finishing) go to test-output/."""

from __future__ import annotations

import time

import psutil
import pytest
from rq import Worker
from rq.exceptions import SchedulerNotFound
from rq.scheduler import RQScheduler

from tests.conftest import wait_until
from tests.faults.invariants import assert_rows_exact, assert_runs_finished
from tests.faults.recovery import FaultClock
from tests.sync.helpers import connect_org, kill_worker_tree, run_state, start_sync, wait_for_run

TAKEOVER_BOUND = 60  # issue 18: a dead worker's run is moving again within a minute
SHAPE = {"SYNC_PAGE_SIZE": 40}  # many small pages, so the kill lands mid-run


def _records(app, connection_id: int) -> int:
    from sqlalchemy import func, select

    from wizard.extensions import db
    from wizard.models import XeroRecord

    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(XeroRecord).where(XeroRecord.connection_id == connection_id)
        )


def _scheduler_pid(app) -> int | None:
    """The pid of the RQ scheduler process holding the queue's lock."""
    redis = app.extensions["rq"].redis
    name = redis.get(RQScheduler.get_locking_key(app.config["RQ_QUEUE"]))
    try:
        return RQScheduler.fetch(name.decode(), redis).pid if name else None
    except SchedulerNotFound:
        return None  # locked, not yet registered


def _tree(process: psutil.Popen | psutil.Process) -> set[int]:
    return {process.pid, *(child.pid for child in process.children(recursive=True))}


@pytest.mark.slow
@pytest.mark.parametrize("replacement", ["started_20s_later", "already_running"])
def test_killed_scheduler_holder_run_is_taken_over_within_a_minute(app, sandbox, fault_workers, replacement):
    sandbox.state.limits.configure(minute=100_000)
    first = fault_workers(**SHAPE)
    wait_until(lambda: _scheduler_pid(app), timeout=30)
    org = connect_org(app, sandbox, records=1200)
    sandbox.state.faults.set_latency(0.5, org.tenant_id)  # slow enough to be mid-run at the kill
    run_id = start_sync(app, org.connection_id)
    wait_until(lambda: _records(app, org.connection_id) >= 120, timeout=60)
    others = [fault_workers(**SHAPE)] if replacement == "already_running" else []
    if others:  # the other worker is up and idle, blocked in its dequeue
        wait_until(lambda: len(Worker.all(queue=app.extensions["rq"].queue)) == 2, timeout=30)
    victim = psutil.Process(first.proc.pid)
    assert _scheduler_pid(app) in _tree(victim), "the killed worker must hold RQ's scheduler lock"
    assert run_state(app, run_id) == "running"

    kill_worker_tree(victim)
    clock = FaultClock(app, sandbox, run_id, f"kill -9, replacement {replacement}")
    clock.settle()
    sandbox.state.faults.set_latency(0, org.tenant_id)
    if not others:
        time.sleep(max(0.0, 20 - (time.monotonic() - clock.at)))
        others.append(fault_workers(**SHAPE))

    clock.wait_until_moving(TAKEOVER_BOUND)
    assert wait_for_run(app, run_id, timeout=120) == "succeeded", others[0].output()[-3000:]
    clock.finished()
    assert_runs_finished(app, [run_id])
    assert_rows_exact(app, sandbox, org)
    refetched, in_flight = clock.refetched()
    assert refetched <= in_flight, f"committed pages fetched again: {sorted(refetched - in_flight)}"
    clock.report(refetched=len(refetched), in_flight=len(in_flight))
    assert "sync.worker_lost" in others[0].output(), "taken over by the sweep, not by RQ's 90 s heartbeat expiry"


def test_sigterm_stops_the_worker_and_its_duty_process(app, fault_workers):
    """A supervisor's stop ends the whole tree; only a Redis failure makes the worker serve again."""
    from workers.duties import duty_queue

    worker = fault_workers()
    queue = app.extensions["rq"].queue
    # Serving: the sync worker (signal handlers installed) and the duty process's worker.
    wait_until(lambda: "Listening on" in worker.output() and len(Worker.all(queue=duty_queue(app))) == 1, timeout=30)
    wait_until(lambda: len(Worker.all(queue=queue)) == 1, timeout=30)
    tree = psutil.Process(worker.proc.pid).children(recursive=True)
    assert tree, "no duty process"
    worker.proc.terminate()
    assert worker.proc.wait(timeout=20) == 0, worker.output()[-2000:]
    gone, alive = psutil.wait_procs(tree, timeout=10)
    assert not alive, [p.pid for p in alive]
