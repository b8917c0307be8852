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
