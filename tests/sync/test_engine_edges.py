"""The sync engine's refusals before and after the pages (workers/sync/engine.py): a run that is
gone or finished, a connection that cannot sync, and no verdict on a run with unfinished streams."""

from __future__ import annotations

import pytest

from tests.sync.helpers import bare_connection
from wizard.extensions import db
from wizard.models import Connection, StreamProgress, SyncRun
from workers.sync.engine import SyncEngine


def _run(connection_id: int, state: str = "queued", streams: list[StreamProgress] | None = None) -> SyncRun:
    run = SyncRun(connection_id=connection_id, kind="manual", state=state, attempts=0, streams=streams or [])
    db.session.add(run)
    db.session.commit()
    return run


def test_a_run_that_is_gone_or_finished_is_skipped(app):
    with app.app_context():
        connection_id = bare_connection("Engine edges")
        finished = _run(connection_id, state="succeeded")
        assert SyncEngine(finished.id).run() == {"skipped": True}
        assert SyncEngine(finished.id + 1000).run() == {"skipped": True}
        db.session.refresh(finished)
        assert finished.state == "succeeded" and finished.attempts == 0


@pytest.mark.parametrize("state, reason", [("needs_reauth", "token_dead"), ("disconnected", "")])
def test_a_connection_that_cannot_sync_fails_the_run_with_its_reason(app, state, reason):
    with app.app_context():
        connection_id = bare_connection("Engine edges")
        connection = db.session.get(Connection, connection_id)
        connection.move_to("syncing", "initial")
        connection.move_to(state, reason)
        run = _run(connection_id)
        assert SyncEngine(run.id).run() == {"failed": reason or "sync_failed"}
        db.session.refresh(run)
        assert (run.state, run.error_kind) == ("failed", reason or "sync_failed")
        assert run.error_message == "The connection needs attention before it can sync."
        assert db.session.get(Connection, connection_id).state == state, "the connection is left as it was"


def test_no_verdict_on_a_run_whose_streams_did_not_all_end(app):
    """RQ retries the job instead; the next attempt resumes the unfinished streams."""
    with app.app_context():
        connection_id = bare_connection("Engine edges")
        connection = db.session.get(Connection, connection_id)
        connection.move_to("syncing", "manual")
        streams = [
            StreamProgress(stream="Contacts", position=0, state="done"),
            StreamProgress(stream="Invoices", position=1, state="running"),
            StreamProgress(stream="Payments", position=2, state="pending"),
        ]
        run = _run(connection_id, state="running", streams=streams)
        with pytest.raises(RuntimeError, match="unfinished streams: Invoices, Payments"):
            SyncEngine(run.id)._finish(run, connection)
        db.session.rollback()
        db.session.refresh(run)
        assert run.state == "running" and db.session.get(Connection, connection_id).state == "syncing"


@pytest.mark.parametrize("status, error", [(404, "xero_not_found"), (400, "xero_bad_request")])
def test_a_data_type_xero_refuses_fails_alone_and_the_run_says_which(app, sandbox, status, error):
    """Xero answers one data type with 404/400: the other data types still sync, and the run ends
    failed naming the one that could not be synced (no retry: asking again gets the same answer)."""
    from tests.sync.helpers import connect_org, start_sync

    org = connect_org(app, sandbox, records=20)
    app.config["SYNC_THREADS"] = 1  # one fetcher: the first data type's first call gets the fault
    run_id = start_sync(app, org.connection_id)
    sandbox.state.faults.fail_next_requests(1, status=status, tenant_id=org.tenant_id)
    with app.app_context():
        result = SyncEngine(run_id).run()
        run = db.session.get(SyncRun, run_id)
        failed = [p for p in run.streams if p.state == "failed"]
        assert len(failed) == 1 and failed[0].error, [(p.stream, p.state) for p in run.streams]
        assert {p.state for p in run.streams if p is not failed[0]} <= {"done", "skipped"}
        assert result["state"] == run.state == "failed" and run.error_kind == "sync_failed"
        assert run.error_message == f"1 data type(s) could not be synced: {failed[0].stream}"
        assert [e["kind"] for e in run.errors] == [error]
        connection = db.session.get(Connection, org.connection_id)
        assert (connection.state, connection.state_reason) == ("failed", "sync_failed")
        assert connection.next_sync_at is not None, "the schedule tries again later"
