"""Xero misbehaving mid-sync, each against a real worker logging at DEBUG: 429 bursts, random 500s,
503 organisation offline, every access token expiring at once, and the grant revoked. After each:
the run ended (succeeded, or failed with the cause recorded), the mirror is exact when it
succeeded, no key is stored twice, and no token or secret reached a log.
(kill -9 of a worker and its horse mid-run: tests/sync/test_faults.py.)"""

from __future__ import annotations

import pytest

from tests.conftest import wait_until
from tests.faults.invariants import assert_no_secret_in, assert_rows_exact, assert_runs_finished, secrets_seen
from tests.sync.helpers import XERO_USER, connect_org, row_counts, run_state, start_sync, wait_for_run


def _records(app, connection_id: int) -> int:
    from sqlalchemy import func, select

    from wizard.extensions import db
    from wizard.models import XeroRecord

    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(XeroRecord).where(XeroRecord.connection_id == connection_id)
        )


def _burst_of_429s(sandbox, org):
    sandbox.state.limits.configure(time_scale=30.0, minute=10)  # 10 calls per 2 s window


def _random_500s(sandbox, org):
    sandbox.state.faults.set_error_rate(0.25, org.tenant_id, seed=7)


def _organisation_offline(sandbox, org):
    sandbox.state.faults.org_offline(org.tenant_id, 2)


def _tokens_expire(sandbox, org):
    sandbox.state.advance(31 * 60)  # every access token Xero issued is now expired


def _grant_revoked(sandbox, org):
    sandbox.state.revoke_user_tokens(XERO_USER)


# name -> (fault, injected before the run or once it has written records, how the run must end,
#          the statuses Xero must have answered at least once, or the fault did not bite)
FAULTS = {
    "429_burst": (_burst_of_429s, "before", "succeeded", {429}),
    "random_500s": (_random_500s, "before", "succeeded", {500}),
    "503_organisation_offline": (_organisation_offline, "during", "succeeded", {503}),
    "access_tokens_expired": (_tokens_expire, "during", "succeeded", {401}),
    "grant_revoked": (_grant_revoked, "during", "failed", {401, 403}),
}


@pytest.mark.slow
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_xero_fault_mid_sync_keeps_the_invariants(app, sandbox, fault_workers, debug_logs, fault):
    from wizard.extensions import db
    from wizard.models import Connection, SyncRun

    inject, when, outcome, statuses = FAULTS[fault]
    worker = fault_workers(
        SYNC_PAGE_SIZE=100,
        SYNC_RETRY_BACKOFF=0.02,
        SYNC_OFFLINE_RETRY_SECONDS=1,
        SYNC_THREADS=1 if when == "during" else 5,
    )
    org = connect_org(app, sandbox, records=800)
    if when == "before":
        inject(sandbox, org)
    else:
        sandbox.state.faults.set_latency(0.2, org.tenant_id)
    run_id = start_sync(app, org.connection_id)
    if when == "during":
        wait_until(lambda: _records(app, org.connection_id) >= 1, timeout=60)
        inject(sandbox, org)
        assert run_state(app, run_id) == "running", "the run ended before the fault: slow it down"
        sandbox.state.faults.set_latency(0, org.tenant_id)
    token_calls = len(sandbox.state.requests(path="/connect/token"))
    assert wait_for_run(app, run_id, timeout=120) == outcome, worker.output()[-3000:]
    assert_runs_finished(app, [run_id])
    # (A refused bearer token is logged before Xero reads the tenant header: match on the path.)
    seen = {r["status"] for r in sandbox.state.requests() if r["path"].startswith("/api.xro/")}
    assert seen & statuses, f"the fault never bit: Xero answered {sorted(seen)}"
    if outcome == "succeeded":
        assert_rows_exact(app, sandbox, org)
    else:
        # A failed run wrote part of the data at most: never more rows than the sandbox has records.
        counts = row_counts(app, sandbox, org)
        assert all(stored <= held for stored, held in counts.values()), counts
        with app.app_context():
            run = db.session.get(SyncRun, run_id)
            connection = db.session.get(Connection, org.connection_id)
            assert run.error_kind in ("token_dead", "disconnected_in_xero"), run.error_kind
            assert connection.state in ("needs_reauth", "disconnected")
        # A dead grant is not retried in a loop.
        assert len(sandbox.state.requests(path="/connect/token")) - token_calls <= 2
    secrets = secrets_seen(app, sandbox)
    assert_no_secret_in(worker.output(), secrets)
    assert_no_secret_in(debug_logs.text, secrets)
