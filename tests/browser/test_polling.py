"""The sync status in Chromium: unchanged polls come back 304 and leave the page as it is, a change
shows up without a reload, and a finished sync stops the polling."""

from __future__ import annotations

import time

import pytest

from tests.browser.flows import sign_in
from tests.test_polls import _progress, _syncing_connection
from wizard.extensions import db
from wizard.models import SyncRun

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _wait(page, predicate, timeout: float = 15) -> None:
    """Like wait_until, but lets Playwright deliver its events (responses) while waiting."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        page.wait_for_timeout(100)


def test_status_polls_304_while_unchanged_updates_on_change_and_stops_when_done(app, auth, live_server, browser, shots):
    auth.make_user()
    connection_id, run_id = _syncing_connection(app)
    page = browser.new_page()
    sign_in(page, live_server.url)
    polls: list[int] = []
    page.on("response", lambda r: polls.append(r.status) if r.url.endswith("/status") else None)
    page.goto(f"{live_server.url}/data/connections/{connection_id}")
    status = page.locator(".sync-status")
    assert "1,000 records received so far" in status.inner_text()

    _wait(page, lambda: polls.count(304) >= 2)
    assert 200 not in polls and "1,000 records received so far" in status.inner_text()
    page.screenshot(path=str(shots / "unchanged-polls.png"))

    _progress(app, run_id, 2500)
    _wait(page, lambda: "2,500 records received so far" in status.inner_text())
    _wait(page, lambda: polls[-1] == 304)  # polling goes on with the new ETag
    page.screenshot(path=str(shots / "progress-moved.png"))

    with app.app_context():
        db.session.get(SyncRun, run_id).succeed()
        db.session.commit()
    _wait(page, lambda: "Sync complete" in status.inner_text())
    settled = len(polls)
    page.wait_for_timeout(3000)
    assert len(polls) == settled, "the finished status kept polling"
    page.screenshot(path=str(shots / "finished.png"))
