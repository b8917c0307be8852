"""Error pages in Chromium (issue 12 item 7): an expired form under htmx shows our message in the
page's content area with the layout once, never a page nested inside the wizard."""

from __future__ import annotations

import pytest

from tests.browser.flows import sign_in, xero_login

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_expired_form_on_a_wizard_step_shows_our_message_not_a_page_in_a_page(app, auth, live_server, browser, shots):
    app.config["WTF_CSRF_ENABLED"] = True
    auth.make_user()
    page, base = browser.new_page(), live_server.url
    sign_in(page, base)
    page.goto(f"{base}/connect/xero/authorize?mode=redirect")
    xero_login(page, "xero.adviser@demo.test")
    page.wait_for_url(f"{base}/connect/xero/organisations")
    page.locator("input[name=tenant_id]:not([disabled])").first.check()
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(i => i.value = 'expired')")
    page.get_by_role("button", name="Continue").click()
    page.locator("#main h1", has_text="This form has expired").wait_for()
    assert "Nothing was changed" in page.locator("#main").inner_text()
    assert page.locator("header.topbar").count() == 1 and page.locator("#wizard").count() == 0
    assert page.get_by_role("link", name="Go to your start page").is_enabled()
    page.screenshot(path=str(shots / "expired-form.png"))
    page.get_by_role("link", name="Go to your start page").click()
    page.wait_for_url(f"{base}/data")


def test_unknown_page_is_ours_with_a_way_back(auth, live_server, browser, shots):
    auth.make_user()
    page, base = browser.new_page(), live_server.url
    sign_in(page, base)
    response = page.goto(f"{base}/data/connections/424242")
    assert response.status == 404
    assert page.get_by_role("heading", name="Page not found").is_visible()
    page.screenshot(path=str(shots / "not-found.png"))
    page.get_by_role("link", name="Go to your start page").click()
    page.wait_for_url(f"{base}/data")
