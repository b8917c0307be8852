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

    sliced = workers(SYNC_SLICE_SECONDS=TINY_SLICE)
    parts = connect_org(app, sandbox, records=2500)
    sliced_run = start_sync(app, parts.connection_id)
    assert wait_for_run(app, sliced_run) == "succeeded", sliced.output()[-3000:]

    starts, slices = _jobs_of(sliced.output(), sliced_run)
    assert slices >= 3 and starts == slices + 1, (starts, slices)
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


def test_a_watched_initial_sync_gets_the_worker_at_the_next_slice_of_a_long_scheduled_one(app, sandbox, workers):
    worker = workers(SYNC_SLICE_SECONDS=TINY_SLICE)
    big = connect_org(app, sandbox, records=3000)
    small = connect_org(app, sandbox, records=100)
    scheduled = start_sync(app, big.connection_id, kind="scheduled")
    assert wait_for_run(app, scheduled, states=("running",)) == "running"
    initial = start_sync(app, small.connection_id, kind="initial")
    assert wait_for_run(app, initial) == "succeeded", worker.output()[-3000:]
    with app.app_context():
        long_one = db.session.get(SyncRun, scheduled)
        assert long_one.state == "running", "the scheduled sync ended first: the watched one waited behind it"
    assert wait_for_run(app, scheduled) == "succeeded", worker.output()[-3000:]
    assert_row_counts_match(app, sandbox, big)
    assert_row_counts_match(app, sandbox, small)
