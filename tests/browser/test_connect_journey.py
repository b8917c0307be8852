"""A person in Chromium: Data page -> four wizard steps (pop-up login, MFA, consent) -> synced."""

from __future__ import annotations

import re

import pytest

from tests.browser.flows import sign_in, xero_login

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_admin_connects_xero_in_four_steps_and_sees_it_synced(auth, live_server, browser, worker, shots):
    auth.make_user()
    base = live_server.url
    page = browser.new_page()
    sign_in(page, base)
    page.screenshot(path=str(shots / "0-data-empty.png"))

    page.get_by_role("link", name="Connect a data source").click()
    page.get_by_role("link", name=re.compile("Xero")).click()
    page.wait_for_url(f"{base}/connect/xero")
    page.get_by_role("heading", name="Connect your Xero organisation").wait_for()
    page.screenshot(path=str(shots / "1-start.png"))

    with page.expect_popup() as popup_info:
        page.get_by_role("link", name="Login to connect").click()
    popup = popup_info.value
    page.get_by_role("heading", name="Log in to Xero").wait_for()
    page.screenshot(path=str(shots / "2-waiting-for-xero.png"))
    xero_login(popup, "xero.admin@demo.test", shots)

    page.wait_for_url(f"{base}/connect/xero/organisations")
    page.get_by_role("heading", name="Choose the organisation").wait_for()
    page.screenshot(path=str(shots / "3-organisations.png"))
    page.locator("input[name=tenant_id]:not([disabled])").first.check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Connect organisation").wait_for()
    page.screenshot(path=str(shots / "3b-confirm.png"))
    page.get_by_role("button", name="Connect organisation").click()

    page.get_by_text("Sync complete").wait_for(timeout=90_000)
    page.screenshot(path=str(shots / "4-complete.png"), full_page=True)

    page.get_by_role("link", name="Go to data sources").click()
    page.wait_for_url(f"{base}/data")
    row = page.locator("table.connections tbody tr").first
    assert "Synced" in row.inner_text()
    page.screenshot(path=str(shots / "5-data-synced.png"))
