"""The disconnect job's own guards (wizard/disconnecting.py): one execution per connection, a rerun
after the end does nothing, a connection Xero never knew skips the call, and the job is queued
once, again when its old job is over, and left to the sweep when Redis is away."""

from __future__ import annotations

import logging

import pytest
from rq.job import Job

from tests.sync.helpers import bare_connection
from wizard import jobs
from wizard.disconnecting import (
    enqueue_disconnect,
    finish_disconnect,
    job_id,
    lock_name,
    request_disconnect,
)
from wizard.extensions import db
from wizard.models import Connection, User, XeroRecord


@pytest.fixture
def connection_id(app, auth):
    """A connection with no Xero connection id behind it (created here, never confirmed at Xero)."""
    user_id = auth.make_user()
    with app.app_context():
        connection = db.session.get(Connection, bare_connection("Disconnect edges"))
        connection.workspace_id = db.session.get(User, user_id).workspace_id
        connection.move_to("syncing", "initial")
        connection.move_to("synced", "")
        db.session.add_all(
            XeroRecord(connection_id=connection.id, stream="Invoices", xero_id=f"i{n}", payload="{}") for n in range(3)
        )
        db.session.commit()
        yield connection.id


def _request(connection_id: int, delete_data: bool) -> None:
    connection = db.session.get(Connection, connection_id)
    request_disconnect(db.session.query(User).one(), connection, delete_data)


def test_a_second_execution_leaves_the_disconnect_to_the_one_running(app, connection_id):
    with app.app_context():
        _request(connection_id, delete_data=True)
        jobs.redis().set(lock_name(connection_id), "the-running-job", ex=30)
        assert finish_disconnect(connection_id) == "running elsewhere"
        assert db.session.get(Connection, connection_id).state == "disconnecting"
        assert db.session.query(XeroRecord).count() == 3


def test_a_connection_xero_never_confirmed_is_disconnected_without_a_call_and_a_rerun_does_nothing(
    app, connection_id, sandbox
):
    with app.app_context():
        _request(connection_id, delete_data=False)
        calls = len(sandbox.state.requests())
        assert finish_disconnect(connection_id) == "removed at Xero; synced data kept"
        connection = db.session.get(Connection, connection_id)
        assert (connection.state, connection.state_reason) == ("disconnected", "disconnected_by_admin")
        assert connection.state_detail == "Removed at Xero; synced data kept. Requested by admin@example.test."
        assert db.session.query(XeroRecord).count() == 3
        assert len(sandbox.state.requests()) == calls, "no connection id: Xero is not asked"
        assert finish_disconnect(connection_id) == "nothing to do"
        assert finish_disconnect(connection_id + 1000) == "nothing to do"


def test_the_job_is_queued_once_and_again_only_when_the_old_one_is_over(app, connection_id):
    with app.app_context():
        _request(connection_id, delete_data=True)  # queues the job
        job = Job.fetch(job_id(connection_id), connection=jobs.redis())
        assert job.get_status() == "queued"
        assert enqueue_disconnect(connection_id) is False, "its job waits in the queue"
        jobs.redis().set(lock_name(connection_id), "running", ex=30)
        jobs.queue().remove(job)
        assert enqueue_disconnect(connection_id) is False, "a worker holds it"
        jobs.redis().delete(lock_name(connection_id))
        job.set_status("failed")  # retries used up
        assert enqueue_disconnect(connection_id) is True
        assert Job.fetch(job_id(connection_id), connection=jobs.redis()).get_status() == "queued"


def test_redis_away_leaves_the_disconnect_to_the_sweep(app, connection_id, caplog):
    from tests.conftest import _free_port
    from wizard.jobs import QueueHolder

    caplog.set_level(logging.WARNING, logger="wizard.disconnecting")
    working = app.extensions["rq"]
    down = QueueHolder(app)
    down.url = f"redis://127.0.0.1:{_free_port()}/0"
    app.extensions["rq"] = down
    try:
        with app.app_context():
            _request(connection_id, delete_data=True)  # the intent is recorded all the same
            assert db.session.get(Connection, connection_id).state == "disconnecting"
    finally:
        app.extensions["rq"] = working
    assert f"disconnect.enqueue_deferred connection={connection_id} error=ConnectionError" in caplog.text
