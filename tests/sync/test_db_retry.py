"""A lost database connection retries the step in-process (workers/sync/db_retry.py): rolled back,
paused 0.5 s doubling up to 8 s, bounded; anything else (a constraint, a bug) is raised at once.

The fault is the one tests/faults/faulty_worker.py injects into a real worker: a COMMIT that fails
as a dropped connection does. The pauses are recorded, not slept.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from wizard.extensions import db
from wizard.models import Workspace
from workers.sync import db_retry


@pytest.fixture
def pauses(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(db_retry.time, "sleep", slept.append)
    return slept


@pytest.fixture
def failing_commits():
    """The next `n` COMMITs fail as a dropped connection does."""
    left = {"n": 0}

    def drop(session: Session) -> None:
        if left["n"] > 0:
            left["n"] -= 1
            raise OperationalError("COMMIT", {}, ConnectionResetError("server closed the connection unexpectedly"))

    event.listen(Session, "before_commit", drop)
    yield left
    event.remove(Session, "before_commit", drop)


def _workspaces(name: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Workspace).where(Workspace.name == name))


def _add_workspace(name: str):
    def step() -> str:
        db.session.add(Workspace(name=name))
        db.session.commit()
        return name

    return step


def test_a_step_whose_connection_drops_is_rolled_back_and_written_once(app, failing_commits, pauses, caplog):
    caplog.set_level(logging.WARNING, logger="workers.sync.db_retry")
    with app.app_context():
        failing_commits["n"] = 2
        assert db_retry.retry_on_lost_connection(_add_workspace("Retried Ltd"), 3, "write_page") == "Retried Ltd"
        db.session.expire_all()
        assert _workspaces("Retried Ltd") == 1, "the rolled-back attempts must leave nothing behind"
    assert pauses == [0.5, 1.0]
    assert "step=write_page attempt=2 pause=1.0 error=ConnectionResetError" in caplog.text


def test_a_database_that_stays_away_fails_the_step_after_the_retries(app, failing_commits, pauses):
    with app.app_context():
        failing_commits["n"] = 100
        with pytest.raises(OperationalError):
            db_retry.retry_on_lost_connection(_add_workspace("Never Ltd"), 6, "write_page")
        failing_commits["n"] = 0
        db.session.rollback()
        assert _workspaces("Never Ltd") == 0
    # seven attempts, six pauses: doubling, at most LONGEST_PAUSE
    assert pauses == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


def test_a_constraint_error_is_not_retried(app, pauses):
    from wizard.models import User

    calls = []

    def duplicate_user() -> None:
        calls.append(1)
        db.session.add_all([User(email="same@example.test", name="a"), User(email="same@example.test", name="b")])
        db.session.commit()

    with app.app_context():
        with pytest.raises(IntegrityError):
            db_retry.retry_on_lost_connection(duplicate_user, 3, "write_page")
        db.session.rollback()
    assert calls == [1] and pauses == []


def test_what_counts_as_a_lost_connection():
    reset = ConnectionResetError("server closed the connection unexpectedly")
    assert db_retry.lost_connection(OperationalError("SELECT 1", {}, reset))
    # psycopg2 reports some disconnects as other DBAPI errors; SQLAlchemy then marks the connection invalid
    assert db_retry.lost_connection(DBAPIError("SELECT 1", {}, reset, connection_invalidated=True))
    assert not db_retry.lost_connection(DBAPIError("SELECT 1", {}, reset))
    assert not db_retry.lost_connection(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not db_retry.lost_connection(ValueError("not a database error"))


def test_an_invalidated_connection_without_a_driver_error_is_retried_and_named(app, pauses, caplog):
    """SQLAlchemy can raise a lost connection with no DBAPI error behind it (orig is None): the
    log then names SQLAlchemy's own error class."""
    caplog.set_level(logging.WARNING, logger="workers.sync.db_retry")
    attempts = []

    def step() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise DBAPIError("SELECT 1", {}, None, connection_invalidated=True)  # type: ignore[arg-type]
        return "ok"

    with app.app_context():
        assert db_retry.retry_on_lost_connection(step, 1, "cursor") == "ok"
    assert len(attempts) == 2 and pauses == [0.5]
    assert "step=cursor attempt=1 pause=0.5 error=DBAPIError" in caplog.text
