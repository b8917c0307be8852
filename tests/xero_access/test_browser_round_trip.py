"""In Chromium: support asks for temporary access to the customer's Xero from the connection
doctor; the admin sees it on the Data page and in notifications, accepts, invites our user
in Xero, support marks done, the admin removes it and marks it removed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.flows import collect_page_errors
from tests.support_access.world import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "xero-access"


def _sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_request_accept_invite_done_remove_round_trip(live_app, browser, world):
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = live_app.url
    admin = browser.new_context().new_page()
    support = browser.new_context().new_page()
    errors = collect_page_errors(admin, support)

    # Support, from the connection doctor, asks for Adviser without saying why: refused.
    _sign_in(support, base, world.emails["support"])
    support.goto(f"{base}/support/connections/{world.connections['active']}")
    support.get_by_role("link", name="Temporary access to the customer's Xero").click()
    support.get_by_role("heading", name="Temporary access to Xero: Acme Active Ltd").wait_for()
    assert support.get_by_label("Standard, with the Reports permission (default)").is_checked()
    support.get_by_label("Why support needs to look inside Xero").fill("Ticket #7001: the P&L differs from Xero's")
    support.get_by_label("For how many days").fill("5")
    support.get_by_role("radio", name="Adviser", exact=True).check()
    support.get_by_role("button", name="Ask the customer for access").click()
    support.locator("#role_justification-error").wait_for()
    assert support.get_by_label("For how many days").input_value() == "5"
    assert "Ticket #7001" in support.get_by_label("Why support needs").input_value()
    _shot(support, "1-support-form-needs-justification")
    # The least that serves is enough after all.
    support.get_by_label("Standard, with the Reports permission (default)").check()
    support.get_by_role("button", name="Ask the customer for access").click()
    support.get_by_text("Request sent.").wait_for()
    assert support.locator("[data-xero-access-state]").get_attribute("data-xero-access-state") == "requested"
    _shot(support, "2-support-requested")

    # The admin: a badge in the nav, a banner on the Data page, the guided page.
    _sign_in(admin, base, world.emails["admin"])
    admin.goto(f"{base}/data")
    assert admin.locator("[data-unread]").inner_text() == "1"
    banner = admin.locator('[data-xero-access-notice="requested"]')
    assert "Acme Active Ltd" in banner.inner_text()
    _shot(admin, "3-admin-data-page-banner")
    admin.get_by_role("link", name="Notifications").click()
    admin.get_by_role("heading", name="Notifications").wait_for()
    _shot(admin, "4-admin-notifications")
    admin.get_by_role("link", name="Open the request").click()
    admin.get_by_role("heading", name="Grant temporary access to Xero").wait_for()
    assert "What support will and will not do" in admin.content()
    _shot(admin, "5-admin-guide-requested")
    admin.get_by_label("Message to support").fill("OK for ticket 7001 only")
    admin.get_by_role("button", name="Accept").click()
    admin.get_by_text("Accepted. Now invite the support user").wait_for()
    steps = admin.locator("ol.guide").inner_text()
    assert "Invite a user" in steps and "support@planwise.example" in steps
    _shot(admin, "6-admin-accepted-invite-steps")
    admin.get_by_role("button", name="I have invited the support user in Xero").click()
    admin.get_by_text("Marked as invited.").wait_for()
    assert admin.locator("[data-expires]").is_visible()
    _shot(admin, "7-admin-invited")

    # Support finishes.
    support.reload()
    assert "OK for ticket 7001 only" in support.content()
    support.get_by_role("button", name="Done: support has finished in Xero").click()
    support.get_by_text("Marked as done.").wait_for()
    _shot(support, "8-support-done")

    # The admin is told to remove the user, does so in Xero, and marks it removed.
    admin.goto(f"{base}/data")
    assert admin.locator('[data-xero-access-notice="done"]').count() == 1
    admin.get_by_role("link", name="See the steps").click()
    removal = admin.locator("ol.guide").inner_text()
    assert "Settings > Users" in removal and "Remove" in removal
    _shot(admin, "9-admin-removal-steps")
    admin.get_by_role("button", name="Removed in Xero").click()
    admin.get_by_text("Marked as removed in Xero.").wait_for()
    trail = admin.locator("table.audit").inner_text()
    for words in (
        "Asked for temporary access to Xero",
        "Xero access request accepted",
        "Support user invited in Xero",
        "Support finished in Xero",
        "Support user removed from Xero",
    ):
        assert words in trail
    _shot(admin, "10-admin-removed-audit-trail")
    admin.goto(f"{base}/data")
    assert admin.locator("[data-xero-access-notice]").count() == 0
    assert errors == []
