"""Disconnect in Chromium with a real worker (issue 12 items 1 and 6): what the admin sees at each step."""

from __future__ import annotations

import pytest

from tests.browser.flows import sign_in
from tests.conftest import wait_until
from tests.helpers.connections import synced_with_records, workspace_name

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def synced_org(app, sandbox, auth):
    """A live sandbox connection with 400 stored records; its workspace admin exists."""
    org = synced_with_records(app, sandbox, 400, stream="Contacts", name="Harbour Coffee Ltd")
    auth.make_user(workspace=workspace_name(app, org.workspace_id))
    return org


def _choose_and_disconnect(page, base: str, org, label: str, shots) -> None:
    page.goto(f"{base}/data/connections/{org.connection_id}")
    page.get_by_role("link", name="Disconnect").click()
    page.get_by_label(label).check()
    page.screenshot(path=str(shots / "confirm.png"))
    page.get_by_role("button", name="Disconnect").click()
    page.wait_for_url(f"{base}/data")


def test_delete_the_synced_data_ends_disconnected_with_a_calm_message(
    live_server, browser, sandbox, worker, synced_org, shots
):
    page, base = browser.new_page(), live_server.url
    sign_in(page, base)
    row = page.locator("table.connections tbody tr").first
    assert "400" in row.inner_text()
    _choose_and_disconnect(page, base, synced_org, "Delete it from Planwise", shots)
    assert "Disconnecting Harbour Coffee Ltd" in page.locator(".flash").inner_text()
    page.screenshot(path=str(shots / "disconnecting.png"))
    wait_until(lambda: "\tDisconnected\t" in row.inner_text(), timeout=30)
    assert row.inner_text().rstrip().endswith("0")  # the records are gone
    assert sandbox.state.connections() == []
    page.get_by_role("link", name="Harbour Coffee Ltd").click()
    note = page.locator("[data-note=disconnected]")
    assert "Removed at Xero; synced data deleted. Requested by admin@example.test." in note.inner_text()
    assert page.locator("[role=alert]").count() == 0  # no red error box
    assert page.get_by_role("button", name="Sync now").count() == 0
    assert page.get_by_role("link", name="Reconnect").is_enabled()
    page.screenshot(path=str(shots / "disconnected.png"))


def test_xero_down_during_disconnect_says_we_keep_trying_then_finishes(
    live_server, browser, sandbox, worker, synced_org, shots
):
    page, base = browser.new_page(), live_server.url
    sign_in(page, base)
    sandbox.state.faults.maintenance(600)
    _choose_and_disconnect(page, base, synced_org, "Keep it", shots)
    page.goto(f"{base}/data/connections/{synced_org.connection_id}")
    note = page.locator("[data-note]")
    # The note refreshes itself: the worker's first attempt meets Xero's 503.
    wait_until(lambda: "we keep trying by ourselves" in note.inner_text(), timeout=30)
    assert "Requested by admin@example.test" in note.inner_text()
    assert page.get_by_role("button", name="Sync now").count() == 0
    page.screenshot(path=str(shots / "xero-down.png"))
    sandbox.state.faults.clear()
    # RQ retries the job (10 s later); the same page turns to Disconnected by itself.
    wait_until(lambda: page.locator("[data-note=disconnected]").count() == 1, timeout=60)
    assert "Removed at Xero; synced data kept." in page.locator("[data-note]").inner_text()
    assert sandbox.state.connections() == []
    page.screenshot(path=str(shots / "finished-after-retry.png"))
