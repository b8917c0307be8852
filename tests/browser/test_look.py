"""Look and feel (issue 16): every main page and state at 1280 and 390 px, axe-clean, as people see it.

Screenshots land in test-output/look/<page>-<width>.png for a reviewer to open.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser.flows import axe_violations, sign_in, xero_login
from tests.helpers.connections import syncing_with_streams

pytestmark = [pytest.mark.browser]

LOOK = Path(__file__).resolve().parents[2] / "test-output" / "look"
WIDTHS = (1280, 390)


@pytest.fixture
def context(browser):
    # axe is injected as a script tag; our CSP (script-src 'self') would rightly block it.
    ctx = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    yield ctx
    ctx.close()


def look(page, name: str, found: dict) -> None:
    """Screenshot the page at each width and record its serious or critical axe violations."""
    LOOK.mkdir(parents=True, exist_ok=True)
    assert page.locator("header.topbar").count() == 1, f"{name}: not our page ({page.title()})"
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(LOOK / f"{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("() => document.documentElement.scrollWidth")
        violations = axe_violations(page)
        if violations or overflow > width:
            found[f"{name}@{width}"] = {"axe": violations, "scroll_width": overflow}
    page.set_viewport_size({"width": 1280, "height": 900})


def _progress_streams():
    from wizard.models import StreamProgress

    return [
        StreamProgress(stream="Accounts", position=1, state="done", done=84, total=84, calls=1),
        StreamProgress(stream="TrackingCategories", position=2, state="done", done=2, total=2, calls=1),
        StreamProgress(stream="Contacts", position=3, state="done", done=312, total=312, calls=1, page_size=1000),
        StreamProgress(stream="Invoices", position=4, state="running", done=1200, total=4810, calls=12, page_size=100),
        StreamProgress(
            stream="Budgets",
            position=5,
            state="skipped",
            note="Not synced: this Xero connection was not granted budgets (accounting.budgets.read).",
        ),
        StreamProgress(stream="ProfitAndLoss", position=6, page_size=1000),
    ]


def _second_connection(app, state: str, reason: str, name: str) -> int:
    from wizard.extensions import db
    from wizard.models import Connection, User

    with app.app_context():
        user = db.session.query(User).one()
        connection = Connection(workspace_id=user.workspace_id, tenant_id="t-2", tenant_name=name)
        connection.move_to(state, reason, "")
        db.session.add(connection)
        db.session.commit()
        return connection.id


def test_every_main_page_at_1280_and_390_is_axe_clean(app, auth, live_server, context):
    auth.make_user()
    base = live_server.url
    page = context.new_page()
    found: dict[str, dict] = {}
    page.goto(f"{base}/login")
    look(page, "login", found)
    sign_in(page, base)
    look(page, "data-empty", found)
    for name, path in [
        ("picker", "/data/new"),
        ("step1-start", "/connect/xero"),
        ("step2-waiting", "/connect/xero/login"),
        ("step2-popup-blocked", "/connect/xero/login?problem=popup_blocked"),
        ("help", "/help/xero"),
    ]:
        page.goto(base + path)
        look(page, name, found)
    page.goto(f"{base}/connect/xero/authorize?mode=redirect")
    xero_login(page, "xero.adviser@demo.test")
    page.wait_for_url(f"{base}/connect/xero/organisations")
    look(page, "step3-organisations", found)
    page.locator("input[name=tenant_id]").first.check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Connect organisation").wait_for()
    look(page, "step3-confirm", found)
    page.get_by_role("button", name="Connect organisation").click()
    page.get_by_role("heading", name="is connected").wait_for()
    look(page, "step4-complete", found)

    syncing = syncing_with_streams(app, _progress_streams(), records=1598, name="Harbour Coffee Roasters")
    _second_connection(app, "needs_reauth", "token_revoked", "Northwind Traders")
    page.goto(f"{base}/data")
    look(page, "data-connections", found)
    page.goto(f"{base}/data/connections/{syncing}")
    look(page, "connection-syncing", found)
    page.locator(".sync-status summary").click()
    look(page, "connection-syncing-details", found)
    page.goto(f"{base}/settings/support-access")
    look(page, "support-access-grants", found)
    assert found == {}, found


def test_support_console_without_grants_says_how_customers_grant_access(auth, live_server, context):
    auth.make_user("support@planwise.test", role="support")
    base = live_server.url
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill("support@planwise.test")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/support")
    empty = page.locator("#no-grants").inner_text()
    assert "No customer has granted support access right now." in empty
    assert "Support access" in empty and "Grant support access" in empty
    found: dict[str, dict] = {}
    look(page, "support-console-empty", found)
    assert found == {}, found


def test_empty_data_page_leads_to_connecting_xero(auth, live_server, context):
    auth.make_user()
    base = live_server.url
    page = context.new_page()
    sign_in(page, base)
    empty = page.locator("#no-sources")
    assert "No data sources yet." in empty.inner_text()
    assert "invoices, payments, bank transactions" in empty.inner_text()
    empty.get_by_role("link", name="Connect Xero").click()
    page.wait_for_url(f"{base}/connect/xero")
    assert page.get_by_role("heading", name="Connect your Xero organisation").is_visible()


def test_step1_lists_what_we_read_from_the_requested_scopes(app, auth, live_server, context):
    auth.make_user()
    base = live_server.url
    page = context.new_page()
    sign_in(page, base)
    page.goto(f"{base}/connect/xero")
    read = page.locator("#what-we-read").inner_text()
    for words in ("Contacts", "Invoices", "Payments", "Bank transactions", "Profit and loss report"):
        assert words in read
    assert "accounting." not in read and "offline_access" not in read
    body = page.locator("main").inner_text()
    assert "read-only" in body.lower() and "disconnect at any time" in body and "First copy" in body
    assert page.locator("link[rel=icon]").get_attribute("href").endswith("/favicon.svg")
    assert page.locator("main.wizard .steps [aria-current=step]").inner_text().endswith("Start")


def test_progress_speaks_plainly_and_keeps_the_per_type_table_behind_details(app, auth, live_server, context):
    auth.make_user()
    connection_id = syncing_with_streams(app, _progress_streams(), records=1598)
    base = live_server.url
    page = context.new_page()
    sign_in(page, base)
    page.goto(f"{base}/data/connections/{connection_id}")
    status = page.locator(".sync-status")
    assert "Copying invoices and bills" in status.locator(".progress-sentence").inner_text()
    assert "API calls" not in status.inner_text() and "Calls" not in status.inner_text()
    # A skipped data type is a calm note that says what it means, not a red failure.
    note = status.locator("[data-skipped]")
    assert "Not copied: Budgets." in note.inner_text() and "nothing is broken" in note.inner_text()
    assert "accounting.budgets.read" not in note.inner_text()
    table = status.locator("table.streams")
    assert not table.is_visible()
    details = status.locator("summary")
    assert details.inner_text().startswith("Details")
    details.click()
    assert table.is_visible()
    rows = table.inner_text()
    assert "Tracking categories" in rows and "Profit and loss report" in rows and "TrackingCategories" not in rows
    assert "1,200 of 4,810" in rows
    received = table.locator("tr[data-stream=Invoices] td").first
    assert received.evaluate("el => getComputedStyle(el).textAlign") == "right"
    assert "tabular-nums" in received.evaluate("el => getComputedStyle(el).fontVariantNumeric")


def test_data_rows_become_stacked_cards_on_a_phone(app, auth, live_server, browser):
    auth.make_user()
    syncing_with_streams(app, _progress_streams(), records=1598)
    page = browser.new_page(viewport={"width": 390, "height": 800})
    sign_in(page, live_server.url)
    row = page.locator("table.connections tbody tr").first
    assert row.evaluate("el => getComputedStyle(el).display") == "block"
    assert not page.locator("table.connections thead").is_visible() or page.locator("table.connections thead").evaluate(
        "el => el.getBoundingClientRect().height <= 1"
    )
    # each value carries its label on the card
    label = row.locator("td.num").evaluate("el => getComputedStyle(el, '::before').content")
    assert label == '"Records"', label
    header = page.locator("header.topbar").bounding_box()
    assert header["height"] < 64, header  # one line, not three


def test_books_pages_at_1280_and_390_are_axe_clean_and_the_chart_explains_itself(
    app, auth, live_server, context, sandbox, worker
):
    from tests.books.test_books import JOURNAL_SCOPES
    from tests.sync.helpers import connect_org, start_sync, wait_for_run
    from wizard.extensions import db
    from wizard.models import Workspace

    org = connect_org(app, sandbox, records=300, scopes=JOURNAL_SCOPES, name="Kowhai Outdoor Supplies")
    assert wait_for_run(app, start_sync(app, org.connection_id)) == "succeeded", worker.output()[-3000:]
    with app.app_context():
        workspace = db.session.get(Workspace, org.workspace_id).name
    auth.make_user(workspace=workspace)
    base, books = live_server.url, f"{live_server.url}/books/{org.connection_id}"
    page = context.new_page()
    sign_in(page, base)
    found: dict[str, dict] = {}
    for name, path in [
        ("books-records", ""),
        ("books-accounts", "/accounts"),
        ("books-pnl", "/profit-and-loss"),
        ("books-reconciliation", "/reconciliation"),
        ("books-by-tracking", "/by-tracking"),
        ("books-budget", "/budget"),
        ("books-scheduled-revenue", "/scheduled-revenue"),
    ]:
        page.goto(books + path)
        look(page, name, found)
    assert found == {}, found
    page.goto(books + "/profit-and-loss")
    legend = page.locator(".chart .legend").inner_text()
    assert "Income" in legend and "Expenses" in legend and "Net profit" in legend
    assert page.locator(".chart text.axis").count() > 4  # value axis and month labels
    first_net = page.locator(".chart circle.net-point").first
    assert "net profit:" in first_net.get_attribute("aria-label")
    first_net.hover()
    assert re.search(r"Income \([A-Z]{3}\)", page.locator("table.pnl thead").inner_text())  # base currency
    amount = page.locator("table.pnl tbody td.num").first
    assert amount.evaluate("el => getComputedStyle(el).textAlign") == "right"


def test_connection_doctor_connection_card_and_settings_at_1280_and_390_are_axe_clean(app, live_server, context):
    from tests.support_access.world import build_world

    with app.app_context():
        world = build_world()
    base = live_server.url
    found: dict[str, dict] = {}
    support = context.new_page()
    support.goto(f"{base}/login")
    support.get_by_label("Email").fill(world.emails["support"])
    support.get_by_label("Password").fill("pw")
    support.get_by_role("button", name="Sign in").click()
    support.wait_for_url(f"{base}/support")
    support.get_by_role("link", name="Acme Active Ltd").click()
    support.get_by_role("heading", name="Connection doctor: Acme Active Ltd").wait_for()
    look(support, "support-doctor", found)
    support.close()
    context.clear_cookies()  # sign support out; the admin signs in next in the same browser context

    admin = context.new_page()
    sign_in(admin, base, world.emails["admin"])
    admin.goto(f"{base}/data/connections/{world.connections['active']}")
    card = admin.locator("main section.card")
    assert (
        card.locator("h1").inner_text() == "Acme Active Ltd" and card.locator(".hint").count() == 1
    )  # said once, by the failed run
    look(admin, "connection-failed", found)
    admin.get_by_role("link", name="Settings").click()
    admin.get_by_role("heading", name="Workspace settings").wait_for()
    admin.get_by_label("Workspace time zone").fill("Atlantis/Poseidonia")
    admin.get_by_role("button", name="Save time zone").click()
    admin.locator("#time_zone-error").wait_for()
    look(admin, "settings-time-zone-error", found)
    admin.get_by_label("Workspace time zone").fill("Pacific/Auckland")
    admin.get_by_role("button", name="Save time zone").click()
    admin.get_by_text("Times are now shown in Pacific/Auckland").wait_for()
    look(admin, "settings-time-zone", found)
    assert found == {}, found
