"""Every way through (and out of) the wizard, in Chromium, with the hint each one shows."""

from __future__ import annotations

import pytest

from tests.browser.flows import hint_text, start_popup_login, xero_login
from tests.conftest import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_blocked_popup_falls_back_to_same_window(admin_page, live_server, shots):
    page, base = admin_page, live_server.url
    page.add_init_script("window.open = function () { return null; };")
    page.goto(f"{base}/connect/xero")
    page.get_by_role("link", name="Login to connect").click()
    page.wait_for_url(f"{base}/connect/xero/login?problem=popup_blocked")
    assert "blocked or closed" in hint_text(page)
    page.screenshot(path=str(shots / "popup-blocked.png"))
    page.get_by_role("link", name="Continue in this window").click()
    xero_login(page, "xero.adviser@demo.test")
    page.wait_for_url(f"{base}/connect/xero/organisations")
    assert page.locator("input[name=tenant_id]").count() >= 1
    page.screenshot(path=str(shots / "same-window-organisations.png"))


def test_closed_popup_says_sign_in_was_not_finished(admin_page, live_server, shots):
    page, base = admin_page, live_server.url
    popup = start_popup_login(page, base)
    popup.wait_for_load_state()
    popup.close()
    page.wait_for_url(f"{base}/connect/xero/login?problem=window_closed")
    text = hint_text(page)
    assert "The Xero window was closed before you finished" in text and "password page" in text and "MFA" in text
    page.screenshot(path=str(shots / "popup-closed.png"))


def test_cancel_at_consent_explains_and_offers_start_again(admin_page, live_server, shots):
    page, base = admin_page, live_server.url
    popup = start_popup_login(page, base)
    xero_login(popup, "xero.adviser@demo.test", consent="Cancel")
    page.wait_for_url(f"{base}/connect/xero/login?problem=access_denied")
    assert "Xero access was not granted" in hint_text(page)
    assert page.get_by_role("link", name="Start again").is_visible()
    page.screenshot(path=str(shots / "cancelled.png"))


def test_read_only_xero_user_is_told_which_roles_can_connect(admin_page, live_server, shots):
    page, base = admin_page, live_server.url
    popup = start_popup_login(page, base)
    popup.wait_for_load_state()
    popup.get_by_label("Email").fill("xero.readonly@demo.test")
    popup.get_by_label("Password").fill("xero")
    popup.get_by_role("button", name="Log in").click()
    popup.wait_for_load_state()
    popup.screenshot(path=str(shots / "xero-no-eligible-organisation.png"))
    popup.get_by_role("button", name="Cancel").click()
    page.wait_for_url(f"{base}/connect/xero/login?problem=access_denied")
    page.get_by_role("link", name="Xero listed no organisation for me").click()
    page.wait_for_url(f"{base}/connect/xero/login?problem=role_cannot_connect")
    text = hint_text(page)
    assert "Your Xero role cannot connect apps" in text and "Standard" in text and "Adviser" in text
    assert "choose Allow access" not in text
    assert page.get_by_role("link", name="Start again").is_visible()
    page.screenshot(path=str(shots / "read-only-hint.png"))


def test_two_organisations_from_one_consent_without_a_second_login(admin_page, live_server, sandbox, shots):
    page, base = admin_page, live_server.url
    names = ["Harbour Coffee Roasters Ltd", "Kowhai Outdoor Supplies"]
    popup = start_popup_login(page, base)
    xero_login(popup, "xero.admin@demo.test", organisations=names)
    page.wait_for_url(f"{base}/connect/xero/organisations")
    for name in names:
        page.get_by_label(name).check()
        page.get_by_role("button", name="Continue").click()
        assert name in page.locator("main").inner_text()
        page.get_by_role("button", name="Connect organisation").click()
        page.get_by_role("heading", name=f"{name} is connected").wait_for()
        page.screenshot(path=str(shots / f"connected-{names.index(name)}.png"))
        if name == names[0]:
            sandbox.state.clear_requests()
            page.get_by_role("link", name="Connect another organisation").click()
            page.wait_for_url(f"{base}/connect/xero/organisations")
            assert page.get_by_label(names[0]).is_disabled()
    assert not [r for r in sandbox.state.requests() if "authorize" in r["path"] or r["path"].endswith("/token")]
    page.goto(f"{base}/data")
    rows = page.locator("table.connections tbody tr")
    assert rows.count() == 2
    page.screenshot(path=str(shots / "data-two-connections.png"))


def _connect(page, base, email="xero.adviser@demo.test", organisation=None):
    popup = start_popup_login(page, base)
    xero_login(popup, email, organisations=[organisation] if organisation else None)
    page.wait_for_url(f"{base}/connect/xero/organisations")
    page.locator("input[name=tenant_id]:not([disabled])").first.check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Connect organisation").click()
    page.get_by_text("Sync complete").wait_for(timeout=90_000)


def test_reconnect_after_xero_revokes_the_token_keeps_the_connection(admin_page, live_server, sandbox, worker, shots):
    page, base = admin_page, live_server.url
    _connect(page, base)
    connection_url = page.url
    sandbox.state.revoke_user_tokens("xero.adviser@demo.test")
    page.goto(f"{base}/data")
    page.get_by_role("link", name="Connect a data source")  # still on the Data page
    link = page.locator("table.connections tbody tr th a").first
    link.click()
    page.get_by_role("button", name="Sync now").click()
    # (Our CSP forbids eval, so poll by reloading rather than with wait_for_function.)
    wait_until(
        lambda: page.goto(page.url) and "Xero needs you to log in again" in page.locator("body").inner_text(),
        timeout=60,
        interval=1,
    )
    page.screenshot(path=str(shots / "needs-reauth.png"))
    page.get_by_role("link", name="Reconnect").click()
    assert "Reconnect" in page.locator("h1").inner_text()
    with page.expect_popup() as popup_info:
        page.get_by_role("link", name="Login to connect").click()
    xero_login(popup_info.value, "xero.adviser@demo.test")
    page.get_by_text("Sync complete").wait_for(timeout=90_000)
    page.screenshot(path=str(shots / "reconnected.png"))
    page.goto(f"{base}/data")
    assert page.locator("table.connections tbody tr").count() == 1
    assert "Synced" in page.locator("table.connections tbody tr").first.inner_text()
    assert connection_url


def test_disconnect_asks_first_and_removes_the_connection_at_xero(admin_page, live_server, sandbox, worker, shots):
    page, base = admin_page, live_server.url
    _connect(page, base)
    assert len(sandbox.state.connections()) >= 1
    page.goto(f"{base}/data")
    page.locator("table.connections tbody tr th a").first.click()
    page.get_by_role("link", name="Disconnect").click()
    page.get_by_role("button", name="Disconnect").click()
    assert "Choose whether to keep or delete" in page.locator("[role=alert]").inner_text()
    page.get_by_label("Keep it").check()
    page.screenshot(path=str(shots / "disconnect-confirm.png"))
    page.get_by_role("button", name="Disconnect").click()
    page.wait_for_url(f"{base}/data")
    assert "Disconnecting" in page.locator(".flash").inner_text()
    # The worker finishes it; the rows poll themselves until it is done.
    row = page.locator("table.connections tbody tr").first
    wait_until(lambda: row.inner_text().split("\t")[1].strip() == "Disconnected", timeout=30)
    assert sandbox.state.connections() == []
    page.screenshot(path=str(shots / "disconnected.png"))
