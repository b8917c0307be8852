"""A rate-limit pause always says which limit was hit and when syncing resumes (issue 17): on the
Data page row, the connection page and its progress sentence, and in the connection doctor; for
each of Xero's four limits (the organisation's minute and calls at once, its daily allowance, the
whole app's minute)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from wizard.extensions import db
from wizard.models import Connection, SyncRun

RESUMES = datetime(2026, 12, 2, 13, 4, 5)
WORDS = {
    "minute": "Waiting for Xero: Xero&#39;s limit of 60 calls a minute for this organisation was reached.",
    "concurrent": "Waiting for Xero: Xero&#39;s limit of 5 calls at once for this organisation was reached.",
    "day": "Paused: this organisation&#39;s daily allowance of 5,000 Xero calls is used up.",
    "app_minute": (
        "Waiting for Xero: Xero&#39;s limit of 10,000 calls a minute for all organisations connected to this "
        "app together was reached."
    ),
}
WHEN = 'Syncing resumes at <time datetime="2026-12-02T13:04:05Z"'


def _waiting(app, world, problem: str) -> int:
    """Make the active connection's latest run wait for `problem` as the sync engine records it."""
    from wizard.limit_pauses import reason_for

    with app.app_context():
        run = db.session.get_one(SyncRun, world.runs["active"])
        connection = db.session.get_one(Connection, run.connection_id)
        run.finished_at = None
        if problem == "day":
            run.state = "running"
            run.pause(RESUMES, reason_for(problem))
            connection.state, connection.state_reason = "paused", "rate_limited"
        else:
            run.state, run.started_at = "running", datetime.utcnow() - timedelta(seconds=30)
            run.progressed_at = datetime.utcnow()
            run.note_limit_wait(RESUMES, reason_for(problem))
            connection.state, connection.state_reason = "syncing", "scheduled"
        db.session.commit()
        return connection.id


@pytest.mark.parametrize("problem", ["minute", "concurrent", "day", "app_minute"])
def test_each_limit_is_named_with_its_resume_time_on_every_page(app, world, as_persona, htmx, problem):
    connection_id = _waiting(app, world, problem)
    admin = as_persona("admin")
    pages = {
        "data page row": admin.get("/data").get_data(as_text=True),
        "connection page": admin.get(f"/data/connections/{connection_id}").get_data(as_text=True),
        "progress sentence": admin.get(f"/data/connections/{connection_id}/status", headers=htmx).get_data(
            as_text=True
        ),
        "doctor": as_persona("support").get(f"/support/connections/{connection_id}").get_data(as_text=True),
    }
    for where, page in pages.items():
        assert f'data-limit="{problem}"' in page, where
        assert WORDS[problem] in page, where
        assert WHEN in page, where


@pytest.mark.parametrize(
    ("xero_problem", "named"),
    [("minute", "minute"), ("concurrent", "concurrent"), ("day", "day"), ("appminute", "app_minute"), ("", "minute")],
)
def test_xeros_problem_header_maps_to_the_limit_we_name(xero_problem, named):
    from wizard.limit_pauses import reason_for

    assert reason_for(xero_problem) == f"limit_{named}"


def test_a_run_parked_before_limits_were_named_reads_as_the_daily_allowance(app, world, as_persona, htmx):
    connection_id = _waiting(app, world, "day")
    with app.app_context():
        db.session.get_one(SyncRun, world.runs["active"]).pause_reason = "rate_limited"
        db.session.commit()
    page = as_persona("admin").get(f"/data/connections/{connection_id}/status", headers=htmx).get_data(as_text=True)
    assert WORDS["day"] in page and WHEN in page


def test_once_a_page_arrives_the_wait_is_no_longer_shown(app, world, as_persona, htmx):
    connection_id = _waiting(app, world, "minute")
    with app.app_context():
        db.session.get_one(SyncRun, world.runs["active"]).clear_limit_wait()
        db.session.commit()
    page = as_persona("admin").get(f"/data/connections/{connection_id}/status", headers=htmx).get_data(as_text=True)
    assert "limit-pause" not in page and "Syncing your Xero data" in page
