"""T-23: the job fails right after some pages committed (Xero answers 500 until the client gives
up) -> RQ retries it, and the retry's first request is the first uncommitted page, never page 1;
the stream's watermark does not move before its last page."""

from __future__ import annotations

import pytest

from tests.conftest import wait_until
from tests.sync.helpers import connect_org, run_state, start_sync, wait_for_run


def _cursor(app, connection_id: int, stream: str):
    from sqlalchemy import select

    from wizard.extensions import db
    from wizard.models import StreamCursor

    with app.app_context():
        db.session.expire_all()
        cursor = db.session.scalar(
            select(StreamCursor).where(StreamCursor.connection_id == connection_id, StreamCursor.stream == stream)
        )
        if cursor is None:
            return 0, None
        return int((cursor.checkpoint or {}).get("page", 0)), cursor.watermark


def _attempts(app, run_id: int) -> int:
    from wizard.extensions import db
    from wizard.models import SyncRun

    with app.app_context():
        db.session.expire_all()
        return db.session.get(SyncRun, run_id).attempts


@pytest.mark.slow
def test_t23_a_failed_job_resumes_at_the_first_uncommitted_page(app, sandbox, workers):
    # Many small pages: lift the per-minute limit (ours and the sandbox's) so no run waits a minute.
    sandbox.state.limits.configure(minute=100_000)
    workers(SYNC_PAGE_SIZE=40, SYNC_THREADS=1, SYNC_RETRY_BACKOFF=0.01, XERO_CALLS_PER_MINUTE=100_000)
    org = connect_org(app, sandbox, records=1200)
    sandbox.state.faults.set_latency(0.1, org.tenant_id)
    run_id = start_sync(app, org.connection_id)
    wait_until(lambda: _cursor(app, org.connection_id, "Invoices")[0] >= 4, timeout=60)
    sandbox.state.faults.fail_next_requests(5, 500, org.tenant_id)  # 1 try + 4 retries: the job fails
    wait_until(
        lambda: (
            _attempts(app, run_id) >= 1
            and any(r["status"] == 500 for r in sandbox.state.requests(tenant=org.tenant_id))
        ),
        timeout=30,
    )
    wait_until(
        lambda: len([r for r in sandbox.state.requests(tenant=org.tenant_id) if r["status"] == 500]) == 5, timeout=30
    )
    failed_at = len(sandbox.state.requests())
    resume_page, watermark = _cursor(app, org.connection_id, "Invoices")
    assert resume_page >= 4 and watermark is None, "the watermark moved before the stream's last page"
    assert run_state(app, run_id) in ("running", "queued")
    sandbox.state.faults.set_latency(0, org.tenant_id)
    assert wait_for_run(app, run_id, timeout=120) == "succeeded"
    assert _attempts(app, run_id) >= 2
    retried = [
        r for r in sandbox.state.requests()[failed_at:] if r["path"].endswith("/Invoices") and r["status"] == 200
    ]
    assert retried and retried[0]["page"] == resume_page
    assert all(r["page"] >= resume_page for r in retried), "the retry went back to an earlier page"
    assert _cursor(app, org.connection_id, "Invoices")[1] is not None
