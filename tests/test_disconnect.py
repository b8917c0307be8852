"""Disconnect is one recoverable unit (issue 12 item 1): intent first, Xero, our data in batches, done.

The web request records the intent and queues the job; these tests then run the job the way the
worker does (finish_disconnect), including after a Xero failure and after a crash mid-delete.
"""

from __future__ import annotations

import re

import pytest
from rq.job import Job
from sqlalchemy import select

from tests.helpers.connections import fresh_connection, stored_records, synced_with_records, workspace_name
from wizard.disconnecting import XeroNotRemovedYet, finish_disconnect, job_id, revive_stuck


@pytest.fixture
def org(app, sandbox, auth):
    """A real sandbox connection (tokens, Xero connection id) with 1,050 records and a report, its admin signed in."""
    from wizard.extensions import db
    from wizard.models import XeroReport

    connected = synced_with_records(app, sandbox, 1050)
    with app.app_context():
        db.session.add(
            XeroReport(connection_id=connected.connection_id, report="TrialBalance", period="2026-11", payload="{}")
        )
        db.session.commit()
    auth.as_new("admin", "owner@example.test", workspace=workspace_name(app, connected.workspace_id))
    app.config["DISCONNECT_DELETE_BATCH"] = 200
    return connected


def _run_job(app, connection_id: int) -> str:
    with app.app_context():
        return finish_disconnect(connection_id)


def _xero_deletes(sandbox) -> int:
    return len([r for r in sandbox.state.requests() if r.get("method") == "DELETE"])


def _disconnect(client, connection_id: int, choice: str):
    page = client.get(f"/data/connections/{connection_id}/disconnect").get_data(as_text=True)
    assert f'value="{choice}"' in page
    return client.post(f"/data/connections/{connection_id}/disconnect", data={"data": choice})


def test_delete_the_synced_data_removes_it_at_xero_and_deletes_our_copy(app, client, sandbox, org):
    response = _disconnect(client, org.connection_id, "delete")
    assert response.status_code == 303 and response.headers["Location"].endswith("/data")
    page = client.get("/data").get_data(as_text=True)
    assert f"Disconnecting {org.org_name}" in page and "Disconnecting…" in page
    assert 'hx-get="/data/rows"' in page  # the rows poll until it is done
    connection = fresh_connection(app, org.connection_id)
    assert (connection.state, connection.state_reason) == ("disconnecting", "disconnect_delete_data")
    with app.app_context():
        job = Job.fetch(job_id(org.connection_id), connection=app.extensions["rq"].redis)
        assert job.func_name == "workers.disconnect.run_disconnect" and job.args == (org.connection_id,)
        assert job.retries_left == 5

    assert _run_job(app, org.connection_id) == "removed at Xero; synced data deleted"
    assert sandbox.state.connections() == []
    assert stored_records(app, org.connection_id) == 0
    connection = fresh_connection(app, org.connection_id)
    assert (connection.state, connection.state_reason) == ("disconnected", "disconnected_by_admin")
    assert connection.xero_connection_id == ""
    page = client.get(f"/data/connections/{org.connection_id}").get_data(as_text=True)
    assert "Disconnected on" in page
    assert "Removed at Xero; synced data deleted. Requested by owner@example.test." in page
    assert "The sync stopped with an error" not in page and "Sync now" not in page
    assert 'role="alert"' not in page
    assert ">Reconnect</a>" in page and ">Disconnect</a>" not in page
    assert "View the synced books" not in page

    from wizard.extensions import db
    from wizard.models import AuditEvent

    with app.app_context():
        actions = [(e.action, e.actor_email) for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == [
        ("connection.disconnect_requested", "owner@example.test"),
        ("connection.disconnected", "system"),
    ]
    # Run again (RQ delivered twice, the sweep raced it): nothing more happens.
    assert _run_job(app, org.connection_id) == "nothing to do"
    assert _xero_deletes(sandbox) == 1


def test_keep_the_synced_data_removes_it_at_xero_and_keeps_every_record(app, client, sandbox, org):
    assert _disconnect(client, org.connection_id, "keep").status_code == 303
    assert _run_job(app, org.connection_id) == "removed at Xero; synced data kept"
    assert sandbox.state.connections() == []
    assert stored_records(app, org.connection_id) == 1050
    page = client.get(f"/data/connections/{org.connection_id}").get_data(as_text=True)
    assert "Removed at Xero; synced data kept." in page and "View the synced books" in page


def test_xero_failing_keeps_the_intent_and_a_retry_finishes_it(app, client, sandbox, org):
    assert _disconnect(client, org.connection_id, "delete").status_code == 303
    sandbox.state.faults.maintenance(600)  # Xero answers 503 to DELETE /connections
    with pytest.raises(XeroNotRemovedYet):
        _run_job(app, org.connection_id)
    # Xero first: nothing of ours is deleted while the connection is still live at Xero.
    assert stored_records(app, org.connection_id) == 1050
    assert fresh_connection(app, org.connection_id).state == "disconnecting"
    page = client.get(f"/data/connections/{org.connection_id}").get_data(as_text=True)
    assert "Xero has not confirmed the removal yet; we keep trying by ourselves." in page
    assert "Requested by owner@example.test." in page and "Sync now" not in page
    assert 'hx-trigger="load delay:2s"' in page  # the note refreshes itself until it is done

    sandbox.state.faults.clear()
    assert _run_job(app, org.connection_id) == "removed at Xero; synced data deleted"
    assert sandbox.state.connections() == [] and stored_records(app, org.connection_id) == 0


def test_a_crash_mid_delete_resumes_where_it_stopped(app, client, sandbox, org, monkeypatch):
    from wizard.extensions import db

    assert _disconnect(client, org.connection_id, "delete").status_code == 303
    real_commit, commits = db.session.commit, []

    def crash_on_the_fourth_commit():
        commits.append(1)
        if len(commits) == 4:  # 1: Xero done; 2-3: two batches of 200; then the worker dies
            raise RuntimeError("worker killed")
        real_commit()

    with app.app_context():
        monkeypatch.setattr(db.session, "commit", crash_on_the_fourth_commit)
        with pytest.raises(RuntimeError):
            finish_disconnect(org.connection_id)
        monkeypatch.undo()
        db.session.rollback()
    assert stored_records(app, org.connection_id) == 650  # the two committed batches stay deleted
    connection = fresh_connection(app, org.connection_id)
    assert connection.state == "disconnecting" and connection.xero_connection_id == ""

    assert _run_job(app, org.connection_id) == "removed at Xero; synced data deleted"
    assert stored_records(app, org.connection_id) == 0
    assert _xero_deletes(sandbox) == 1  # Xero is not asked twice


def test_the_sweep_queues_again_a_disconnect_whose_job_is_gone(app, client, org):
    from datetime import timedelta

    from wizard.clock import utcnow

    assert _disconnect(client, org.connection_id, "keep").status_code == 303
    with app.app_context():
        redis = app.extensions["rq"].redis
        Job.fetch(job_id(org.connection_id), connection=redis).delete()  # Redis lost it
        assert revive_stuck(utcnow()) == 0  # within the grace period: the request's own job may be on its way
        assert revive_stuck(utcnow() + timedelta(minutes=10)) == 1
        assert Job.fetch(job_id(org.connection_id), connection=redis).args == (org.connection_id,)
        assert revive_stuck(utcnow() + timedelta(minutes=10)) == 0  # queued once, not twice


def test_a_disconnect_stops_the_running_sync_and_a_late_403_does_not_end_it_early(app, client, org):
    from wizard import syncing
    from wizard.connection_health import mark_broken
    from wizard.extensions import db
    from wizard.models import Connection

    with app.app_context():
        run = syncing.start_sync(db.session.get(Connection, org.connection_id))
        run_id = run.id
    assert _disconnect(client, org.connection_id, "delete").status_code == 303
    with app.app_context():
        connection = db.session.get(Connection, org.connection_id)
        assert syncing.latest_run(org.connection_id).state == "failed"
        assert syncing.latest_run(org.connection_id).id == run_id
        mark_broken(connection, "disconnected", "disconnected_in_xero")  # the sync met Xero's 403
        db.session.commit()
        assert connection.state == "disconnecting"
    assert _run_job(app, org.connection_id).endswith("synced data deleted")
    page = client.get(f"/data/connections/{org.connection_id}").get_data(as_text=True)
    # The stopped run says why, calmly: no red "the sync stopped with an error... use Sync now" box.
    assert "Sync stopped" in page and "Stopped: owner@example.test disconnected this organisation." in page
    assert "The sync stopped with an error" not in page and 'role="alert"' not in page
    assert re.search(r"Disconnected on <time datetime=\"[^\"]+Z\"[^>]*>\d\d \w{3} \d{4}", page)


def test_support_doctor_shows_no_problem_hint_for_a_disconnect_the_admin_asked_for():
    from wizard.models import Connection, SyncRun
    from wizard.support.doctor import current_hints

    connection = Connection(tenant_id="t", tenant_name="Org")
    connection.move_to("disconnected", "disconnected_by_admin", "Removed at Xero; synced data kept.")
    stopped = SyncRun(state="failed", error_kind="disconnected_by_admin", error_message="Stopped: admin disconnected.")
    assert current_hints(connection, None, [stopped]) == []
    connection = Connection(tenant_id="t", tenant_name="Org")
    connection.move_to("disconnected", "disconnected_in_xero")
    assert [h.code for h in current_hints(connection, None, [])] == ["disconnected_in_xero"]
