"""Issue 12 items 2, 3, 4 in Chromium: step 3 without a dead end, one choice not two, reconnect paths.

Each test presses the controls a person would and reads what the page says; screenshots go to
test-output/<test name>/.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.browser.flows import hint_text, start_popup_login, xero_login

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADVISER = "xero.adviser@demo.test"
KOWHAI, THAMES = "Kowhai Outdoor Supplies", "Thames Bicycle Works Ltd"


def _login_ticking(page, base, names: list[str]) -> None:
    popup = start_popup_login(page, base)
    xero_login(popup, ADVISER, organisations=names)
    page.wait_for_url(f"{base}/connect/xero/organisations")


def _main(page) -> str:
    return page.locator("main").inner_text()


def test_already_connected_only_says_so_and_logging_in_again_leads_to_a_preselected_choice(
    admin_page, live_server, shots
):
    page, base = admin_page, live_server.url
    _login_ticking(page, base, [KOWHAI])
    assert page.get_by_label(KOWHAI).is_checked()  # the one organisation ticked at Xero is preselected
    page.screenshot(path=str(shots / "1-one-organisation-preselected.png"))
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Connect organisation").click()
    page.get_by_role("heading", name=f"{KOWHAI} is connected").wait_for()

    _login_ticking(page, base, [KOWHAI])  # Xero's default tick: the organisation already here
    text = _main(page)
    assert "This organisation is already connected here" in text and KOWHAI in text
    assert page.get_by_role("button", name="Continue").count() == 0
    assert page.get_by_role("link", name=KOWHAI).get_attribute("href").startswith("/data/connections/")
    page.screenshot(path=str(shots / "2-only-already-connected.png"))
    with page.expect_popup() as popup_info:
        page.get_by_role("link", name="Log in again and choose another organisation").click()
    xero_login(popup_info.value, ADVISER, organisations=[THAMES])
    page.wait_for_url(f"{base}/connect/xero/organisations")
    assert page.get_by_label(THAMES).is_checked()
    page.screenshot(path=str(shots / "3-another-organisation-preselected.png"))
    page.get_by_role("button", name="Continue").click()
    assert THAMES in _main(page) and page.get_by_role("button", name="Connect organisation").is_enabled()


def test_connect_all_and_removing_what_was_ticked_but_not_connected(admin_page, live_server, sandbox, shots):
    page, base = admin_page, live_server.url
    _login_ticking(page, base, [KOWHAI, THAMES])
    page.screenshot(path=str(shots / "1-two-ticked.png"))
    page.get_by_role("button", name="Connect all 2").click()
    page.wait_for_url(f"{base}/data")
    assert f"Connected 2 organisations: {KOWHAI}, {THAMES}." in page.locator(".flash").inner_text()
    assert page.locator("table.connections tbody tr").count() == 2
    page.screenshot(path=str(shots / "2-connected-all.png"))


def test_ticked_at_xero_but_not_connected_is_named_and_removed_at_xero(admin_page, live_server, sandbox, shots):
    page, base = admin_page, live_server.url
    _login_ticking(page, base, [KOWHAI, THAMES])
    page.get_by_label(KOWHAI).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Connect organisation").click()
    page.get_by_role("heading", name=f"{KOWHAI} is connected").wait_for()
    notice = page.locator("#unused-at-xero").inner_text()
    assert f"In your last Xero login you ticked {THAMES}" in notice and "Xero keeps it connected to our app" in notice
    page.screenshot(path=str(shots / "1-unused-named.png"))
    page.get_by_role("button", name="Remove it at Xero").click()
    page.wait_for_url(f"{base}/data")
    assert f"Removed at Xero, not connected here: {THAMES}." in page.locator(".flash").inner_text()
    assert [c["tenantName"] for c in sandbox.state.connections()] == [KOWHAI]
    page.screenshot(path=str(shots / "2-removed.png"))


def test_reconnect_keeps_its_way_through_a_wrong_login_and_revives_the_sibling(app, admin_page, live_server, shots):
    from wizard.connection_health import mark_login_dead
    from wizard.extensions import db
    from wizard.models import TokenSet
    from wizard.xero.tokens import mark_dead

    page, base = admin_page, live_server.url
    _login_ticking(page, base, [KOWHAI, THAMES])
    page.get_by_role("button", name="Connect all 2").click()
    page.wait_for_url(f"{base}/data")
    with app.app_context():  # Xero stops accepting the login (unused for 60 days, say)
        token_set = db.session.scalars(select(TokenSet)).one()
        mark_dead(token_set, "invalid_grant")  # the token layer only records it ...
        mark_login_dead(token_set.id)  # ... the service layer decides what its connections become
        db.session.commit()

    page.goto(f"{base}/data")
    assert page.get_by_role("link", name=f"Reconnect {KOWHAI}").is_visible()
    assert page.get_by_role("link", name=f"Reconnect {THAMES}").is_visible()
    page.screenshot(path=str(shots / "1-data-page-reconnect-buttons.png"))
    page.goto(f"{base}/notifications")
    assert page.get_by_role("link", name="Reconnect").count() == 2
    page.screenshot(path=str(shots / "2-notifications-reconnect.png"))

    page.goto(f"{base}/data")
    page.get_by_role("link", name=f"Reconnect {KOWHAI}").click()
    assert f"Reconnect {KOWHAI}" in page.locator("h1").inner_text()
    with page.expect_popup() as popup_info:
        page.get_by_role("link", name="Login to connect").click()
    xero_login(popup_info.value, ADVISER, organisations=[THAMES])  # the wrong organisation
    page.locator('[data-hint="reconnect_wrong_organisation"]').wait_for()
    assert "That login did not authorise this organisation" in hint_text(page)
    assert f"Reconnect {KOWHAI}" in page.locator("h1").inner_text()
    page.screenshot(path=str(shots / "3-wrong-organisation.png"))
    with page.expect_popup() as popup_info:
        page.get_by_role("link", name="Start again").click()
    xero_login(popup_info.value, ADVISER, organisations=[KOWHAI])
    page.get_by_role("heading", name=f"{KOWHAI} is connected").wait_for()
    assert "1 more organisation(s) of the same Xero login were reconnected too." in page.locator(".flash").inner_text()
    page.screenshot(path=str(shots / "4-reconnected-with-sibling.png"))

    page.goto(f"{base}/notifications")
    assert page.locator("[data-resolved]").count() == 2 and page.get_by_role("link", name="Reconnect").count() == 0
    assert "New:" not in page.locator("main").inner_text()  # nothing left calling for attention
    page.screenshot(path=str(shots / "5-notifications-resolved.png"))
    page.goto(f"{base}/data")
    assert page.get_by_role("link", name=f"Reconnect {KOWHAI}").count() == 0
    assert page.get_by_role("link", name=f"Reconnect {THAMES}").count() == 0


def test_walking_away_from_step_3_leaves_a_notice_on_the_data_page(admin_page, live_server, sandbox, shots):
    page, base = admin_page, live_server.url
    _login_ticking(page, base, [THAMES])
    page.get_by_role("link", name="Data", exact=True).click()
    page.wait_for_url(f"{base}/data")
    assert f"In your last Xero login you ticked {THAMES}" in page.locator("#unused-at-xero").inner_text()
    page.screenshot(path=str(shots / "1-data-page-unused-notice.png"))
    page.get_by_role("link", name="Connect it here").click()
    page.wait_for_url(f"{base}/connect/xero/organisations")
    assert page.get_by_label(THAMES).is_checked()
    page.goto(f"{base}/data")
    page.get_by_role("button", name="Remove it at Xero").click()
    page.wait_for_url(f"{base}/data")
    assert f"Removed at Xero, not connected here: {THAMES}." in page.locator(".flash").inner_text()
    assert page.locator("#unused-at-xero").count() == 0 and sandbox.state.connections() == []
    page.screenshot(path=str(shots / "2-removed.png"))
