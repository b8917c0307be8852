"""T-25: records Xero changes while a run pages through them (on pages already read and on pages
still to come) are present and current after the next run; the next run asks for changes since
no later than the previous run's start. Paging is by the immutable id, so edits never move a
record between pages."""

from __future__ import annotations

import pytest

from tests.conftest import wait_until
from tests.sync.helpers import connect_org, sandbox_ids, start_sync, stored_ids, wait_for_run


def _checkpoint_page(app, connection_id: int, stream: str) -> int:
    from sqlalchemy import select

    from wizard.extensions import db
    from wizard.models import StreamCursor

    with app.app_context():
        db.session.expire_all()
        cursor = db.session.scalar(
            select(StreamCursor).where(StreamCursor.connection_id == connection_id, StreamCursor.stream == stream)
        )
        return int((cursor.checkpoint or {}).get("page", 0)) if cursor else 0


@pytest.mark.slow
def test_t25_records_changed_during_a_run_are_current_after_the_next(app, sandbox, workers):
    from sqlalchemy import select

    from wizard.extensions import db
    from wizard.models import StreamCursor, SyncRun

    # Many small pages: lift the per-minute limit (ours and the sandbox's) so no run waits a minute.
    sandbox.state.limits.configure(minute=100_000)
    workers(SYNC_PAGE_SIZE=40, SYNC_THREADS=1, SYNC_WATERMARK_MARGIN_SECONDS=0, XERO_CALLS_PER_MINUTE=100_000)
    org = connect_org(app, sandbox, records=1000)
    sandbox.state.faults.set_latency(0.08, org.tenant_id)
    run_id = start_sync(app, org.connection_id)
    wait_until(lambda: _checkpoint_page(app, org.connection_id, "Invoices") >= 3, timeout=60)
    read_up_to = (_checkpoint_page(app, org.connection_id, "Invoices") - 1) * 40
    edited = sandbox.state.modify_records(org.tenant_id, "invoices", 25)
    head = sandbox.state.books(org.tenant_id).id_head("invoices")
    positions = sorted(int(i[len(head) :], 16) for i in edited)
    assert positions[0] < read_up_to < positions[-1], "edits did not straddle the pages already read"
    sandbox.state.faults.set_latency(0, org.tenant_id)
    assert wait_for_run(app, run_id) == "succeeded"
    with app.app_context():
        started = db.session.get(SyncRun, run_id).started_at
        watermarks = db.session.scalars(
            select(StreamCursor.watermark).where(
                StreamCursor.connection_id == org.connection_id, StreamCursor.watermark.is_not(None)
            )
        ).all()
    assert watermarks and all(w <= started for w in watermarks)
    sandbox.state.advance(1)
    assert wait_for_run(app, start_sync(app, org.connection_id)) == "succeeded"
    invoices = stored_ids(app, org.connection_id, "Invoices")
    assert set(invoices) == sandbox_ids(sandbox, org.tenant_id, "invoices")
    assert all(invoices[i]["Reference"].endswith("(edited)") for i in edited)
