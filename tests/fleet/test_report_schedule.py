"""Scheduled re-syncs keep reports younger than SYNC_REPORTS_EVERY_MINUTES (issue 17: egress);
"Sync now" still fetches everything."""

from __future__ import annotations

import pytest

from tests.sync.helpers import connect_org, start_sync, wait_for_run


def _api_paths(sandbox, since: int) -> list[str]:
    return [r["path"] for r in sandbox.state.requests()[since:] if r["path"].startswith("/api.xro/")]


@pytest.mark.slow
def test_a_scheduled_resync_keeps_fresh_reports_and_the_page_says_so(app, sandbox, worker, auth, client):
    from wizard.extensions import db
    from wizard.models import Workspace

    org = connect_org(app, sandbox, records=60)
    assert wait_for_run(app, start_sync(app, org.connection_id, kind="initial"), timeout=60) == "succeeded"
    seen = len(sandbox.state.requests())
    assert wait_for_run(app, start_sync(app, org.connection_id, kind="scheduled"), timeout=60) == "succeeded"
    paths = _api_paths(sandbox, seen)
    assert paths and not [p for p in paths if "/Reports/" in p]
    with app.app_context():
        workspace = db.session.get(Workspace, org.workspace_id).name
    auth.as_new("viewer", workspace=workspace)
    page = client.get(f"/data/connections/{org.connection_id}/status").get_data(as_text=True)
    assert "Sync complete" in page
    assert "scheduled syncs refresh reports every 6 hours" in page and "Kept from" in page
    seen = len(sandbox.state.requests())
    # The third sync in a minute waits for Xero's 60-calls-a-minute window to roll on.
    assert wait_for_run(app, start_sync(app, org.connection_id, kind="manual"), timeout=150) == "succeeded"
    reports = {p.rsplit("/", 1)[-1] for p in _api_paths(sandbox, seen) if "/Reports/" in p}
    assert reports == {"ProfitAndLoss", "BalanceSheet", "TrialBalance"}


@pytest.mark.slow
def test_sync_now_keeps_fresh_reports_by_tracking_option_and_fetches_the_main_reports(app, sandbox, worker):
    from wizard.extensions import db
    from wizard.models import SyncRun

    def reports(since: int) -> tuple[set[str], int]:
        """(the reports called, how many of the calls were a P&L for one tracking option)."""
        calls = [r for r in sandbox.state.requests()[since:] if "/Reports/" in r["path"]]
        return {r["path"].rsplit("/", 1)[-1] for r in calls}, sum("trackingOptionID" in r["query"] for r in calls)

    org = connect_org(app, sandbox, records=60)
    seen = len(sandbox.state.requests())
    assert wait_for_run(app, start_sync(app, org.connection_id, kind="initial"), timeout=60) == "succeeded"
    assert reports(seen)[1] > 0  # the demo books have tracking options
    seen = len(sandbox.state.requests())
    run_id = start_sync(app, org.connection_id, kind="manual")
    assert wait_for_run(app, run_id, timeout=150) == "succeeded"
    assert reports(seen) == ({"ProfitAndLoss", "BalanceSheet", "TrialBalance"}, 0)
    with app.app_context():
        tracked = next(p for p in db.session.get_one(SyncRun, run_id).streams if p.stream == "ProfitAndLossByTracking")
        assert tracked.state == "skipped" and "by tracking option is refreshed every 6 hours" in tracked.note
