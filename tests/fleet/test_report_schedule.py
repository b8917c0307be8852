"""Scheduled re-syncs keep reports younger than SYNC_REPORTS_EVERY_MINUTES (issue 17: egress);
"Sync now" still fetches everything."""

from __future__ import annotations

from tests.sync.helpers import connect_org, start_sync, wait_for_run


def _api_paths(sandbox, since: int) -> list[str]:
    return [r["path"] for r in sandbox.state.requests()[since:] if r["path"].startswith("/api.xro/")]


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
    # a third run inside one minute waits for Xero's 60-calls-a-minute window (as in test_t24)
    assert wait_for_run(app, start_sync(app, org.connection_id, kind="manual"), timeout=150) == "succeeded"
    reports = {p.rsplit("/", 1)[-1] for p in _api_paths(sandbox, seen) if "/Reports/" in p}
    assert reports == {"ProfitAndLoss", "BalanceSheet", "TrialBalance"}
