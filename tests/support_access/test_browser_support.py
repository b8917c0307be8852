"""In Chromium: an admin grants support access, support diagnoses and re-runs the sync, the
admin reads the audit trail and revokes, and support's next request is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.flows import collect_page_errors
from tests.support_access.world import PASSWORD

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "support"


def _sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_admin_grants_support_diagnoses_admin_audits_and_revokes(live_app, browser, world):
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = live_app.url
    admin = browser.new_context().new_page()
    support = browser.new_context().new_page()
    # Script and CSP errors (the expected 404s, favicon included, are not what this watches).
    errors = collect_page_errors(admin, support)

    # The admin grants access to one connection for the default 24 hours.
    _sign_in(admin, base, world.emails["admin"])
    admin.get_by_role("link", name="Support access").click()
    admin.get_by_role("heading", name="Support access").wait_for()
    assert admin.get_by_label("For how many hours").input_value() == "24"
    admin.get_by_label("What support may look at").select_option(label="Acme None Ltd")
    admin.get_by_label("Reason or ticket reference").fill("Ticket #9001: invoices stopped syncing")
    admin.screenshot(path=str(SHOTS / "1-admin-grant-form.png"), full_page=True)
    admin.get_by_role("button", name="Grant support access").click()
    admin.get_by_text("Support can look at your diagnostics until").wait_for()
    admin.screenshot(path=str(SHOTS / "2-admin-granted.png"), full_page=True)

    # Support sees only that connection, opens the doctor and re-runs the sync.
    _sign_in(support, base, world.emails["support"])
    support.get_by_role("heading", name="Support console").wait_for()
    console = support.locator("table.granted").inner_text()
    assert "Acme None Ltd" in console and "Acme Active Ltd" in console and "Rival" not in console
    support.screenshot(path=str(SHOTS / "3-support-console.png"), full_page=True)
    support.get_by_role("link", name="Acme None Ltd").click()
    support.get_by_role("heading", name="Connection doctor: Acme None Ltd").wait_for()
    doctor_url = support.url
    assert "Xena Admin" in support.content()
    support.screenshot(path=str(SHOTS / "4-support-doctor.png"), full_page=True)
    support.get_by_role("button", name="Re-run the sync").click()
    support.get_by_text("is queued").wait_for()
    assert support.locator("[data-run-state]").first.inner_text() == "queued"
    support.screenshot(path=str(SHOTS / "5-support-rerun.png"), full_page=True)

    # The admin sees what support did, under the grant, and revokes.
    admin.reload()
    trail = admin.locator("details[open] table.audit").first.inner_text()
    assert "Viewed connection diagnostics" in trail and "Re-ran the sync" in trail
    assert world.emails["support"] in trail
    admin.screenshot(path=str(SHOTS / "6-admin-audit.png"), full_page=True)
    admin.locator("tr[data-grant-status=active]", has_text="Acme None Ltd").get_by_role(
        "button", name="Revoke now"
    ).click()
    admin.get_by_text("Support access revoked").wait_for()
    assert admin.locator("tr[data-grant-status=revoked]", has_text="Acme None Ltd").count() == 1
    admin.screenshot(path=str(SHOTS / "7-admin-revoked.png"), full_page=True)

    # Support's very next request is refused, and the refusal is in the customer's trail.
    response = support.goto(doctor_url)
    assert response.status == 404
    support.screenshot(path=str(SHOTS / "8-support-denied.png"), full_page=True)
    admin.reload()
    admin.locator("tr[data-grant-status=revoked]", has_text="Acme None Ltd").get_by_role(
        "link", name="Audit trail"
    ).click()
    admin.get_by_role("heading", name="Support grant: Acme None Ltd").wait_for()
    latest = admin.locator("table.audit tbody tr").first.inner_text()
    assert "Viewed connection diagnostics" in latest and "Denied" in latest
    admin.screenshot(path=str(SHOTS / "9-admin-sees-denied.png"), full_page=True)
    assert errors == []
