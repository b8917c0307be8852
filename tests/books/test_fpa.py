"""The FP&A views: P&L by tracking category, budget against actual and scheduled revenue, each
reconciled with Xero's own reports on synced books of several sizes, each control pressed."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from tests.books.test_books import _login_member
from tests.sync.helpers import SYNC_SCOPES, connect_org, start_sync, wait_for_run

FPA_SCOPES = SYNC_SCOPES + " accounting.budgets.read accounting.reports.budgetsummary.read"


def _sync(app, sandbox, records: int, scopes: str = FPA_SCOPES):
    org = connect_org(app, sandbox, records=records, scopes=scopes)
    assert wait_for_run(app, start_sync(app, org.connection_id)) == "succeeded"
    return org


@pytest.fixture
def synced(app, sandbox, worker):
    return _sync(app, sandbox, 300)


def _tamper(app, stream: str, change) -> None:
    from sqlalchemy import select

    from wizard.extensions import db
    from wizard.models import XeroRecord

    with app.app_context():
        record = db.session.scalars(select(XeroRecord).where(XeroRecord.stream == stream)).first()
        body = json.loads(record.payload)
        change(body)
        record.payload = json.dumps(body)
        db.session.commit()


@pytest.mark.parametrize("records", [300, 1500])
def test_each_view_matches_xero_on_books_of_several_sizes(app, sandbox, worker, client, auth, records):
    org = _sync(app, sandbox, records)
    _login_member(app, auth, org)
    base = f"/books/{org.connection_id}"
    by_tracking = client.get(f"{base}/by-tracking").get_data(as_text=True)
    assert "Matches Xero: every Department option's net profit, month by month" in by_tracking
    assert 'class="num differs"' not in by_tracking
    budget = client.get(f"{base}/budget").get_data(as_text=True)
    assert re.search(r"Matches Xero: all \d+ budget figures equal Xero's Budget Summary", budget)
    scheduled = client.get(f"{base}/scheduled-revenue").get_data(as_text=True)
    assert "Matches Xero: each of the" in scheduled and 'class="difference"' not in scheduled


def test_tracking_category_form_switches_category_and_shows_options(app, client, auth, synced, htmx):
    _login_member(app, auth, synced)
    base = f"/books/{synced.connection_id}"
    page = client.get(f"{base}/by-tracking").get_data(as_text=True)
    form = re.search(r'<form method="get" action="([^"]+)" hx-get="([^"]+)"', page)
    assert form and form.group(1) == form.group(2) == f"{base}/by-tracking"
    options = dict((v, n) for v, n in re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', page))
    assert set(options.values()) == {"Department", "Region"}
    region = next(v for v, n in options.items() if n == "Region")
    fragment = client.get(form.group(1), query_string={"category": region}, headers=htmx)
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and "Matches Xero: every Region option" in text
    assert all(name in text for name in ("North", "South", "East", "West"))
    assert f'value="{region}" selected' in text
    unknown = client.get(f"{base}/by-tracking", query_string={"category": "nope"}).get_data(as_text=True)
    assert "That tracking category is not in the synced data." in unknown


def test_tracking_view_highlights_the_month_that_differs_from_xero(app, client, auth, synced):
    from sqlalchemy import select

    from wizard.books import totals
    from wizard.extensions import db
    from wizard.models import XeroRecord

    with app.app_context():  # the newest posted invoice with a Department on a line: inside the 12 months
        records = db.session.scalars(select(XeroRecord).where(XeroRecord.stream == "Invoices")).all()
        tagged = [
            (r, json.loads(r.payload))
            for r in records
            if '"Department"' in r.payload and json.loads(r.payload)["Status"] in ("AUTHORISED", "PAID")
        ]
        record, body = max(tagged, key=lambda pair: int(pair[1]["Date"][6:].split("+")[0].split(")")[0]))
        line = next(x for x in body["LineItems"] if any(t["Name"] == "Department" for t in x["Tracking"]))
        option = next(t["Option"] for t in line["Tracking"] if t["Name"] == "Department")
        line["LineAmount"] += 10.0
        record.payload = json.dumps(body)
        totals.rebuild(synced.connection_id)  # the view reads the totals a synced page would have moved
        db.session.commit()
    month = datetime.fromtimestamp(int(body["Date"][6:].split("+")[0].split(")")[0]) / 1000, UTC).strftime("%Y-%m")
    _login_member(app, auth, synced)
    page = client.get(f"/books/{synced.connection_id}/by-tracking").get_data(as_text=True)
    assert "1 month(s) in 1 Department option(s) differ from Xero" in page
    months = re.findall(r'<th scope="col" class="num">(\d{4}-\d{2})[ <]', page)
    row = re.search(rf'<tr class="difference"><th scope="row">{re.escape(option)}</th>(.*?)</tr>', page).group(1)
    cells = re.findall(r'<td class="num money( differs)?[^"]*"[^>]*>(.*?)</td>', row)[: len(months)]
    flagged = [months[n] for n, (differs, _v) in enumerate(cells) if differs]
    assert flagged == [month]
    assert re.search(r"<strong>[-\u2212]?10\.00</strong>", cells[months.index(month)][1])  # the money rule's minus sign


def test_budget_form_switches_to_a_tracking_budget_and_highlights_a_changed_budget_figure(
    app, client, auth, synced, htmx
):
    _login_member(app, auth, synced)
    base = f"/books/{synced.connection_id}"
    page = client.get(f"{base}/budget").get_data(as_text=True)
    options = dict(re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', page))
    assert "Overall Budget" in options.values() and "Department: Retail" in options.values()
    retail = next(v for v, n in options.items() if n == "Department: Retail")
    fragment = client.get(f"{base}/budget", query_string={"budget": retail}, headers=htmx).get_data(as_text=True)
    assert "<html" not in fragment and "covers the overall budget only" in fragment
    assert f'value="{retail}" selected' in fragment

    def change(body):
        if body["Type"] == "OVERALL":
            for balance in body["BudgetLines"][0]["BudgetBalances"]:
                balance["Amount"] += 5.0

    from sqlalchemy import select

    from wizard.extensions import db
    from wizard.models import XeroRecord

    with app.app_context():
        for record in db.session.scalars(select(XeroRecord).where(XeroRecord.stream == "Budgets")):
            body = json.loads(record.payload)
            change(body)
            record.payload = json.dumps(body)
        db.session.commit()
    page = client.get(f"{base}/budget").get_data(as_text=True)
    assert "budget figure(s) differ from Xero's Budget Summary." in page and 'class="difference"' in page


def test_budget_view_says_when_xero_budget_summary_was_not_granted(app, sandbox, worker, client, auth):
    org = _sync(app, sandbox, 200, scopes=SYNC_SCOPES + " accounting.budgets.read")
    _login_member(app, auth, org)
    page = client.get(f"/books/{org.connection_id}/budget").get_data(as_text=True)
    assert "Not checked: Xero's Budget Summary has not been synced" in page


def test_scheduled_revenue_lists_twelve_months_and_highlights_a_changed_template(app, client, auth, synced):
    _login_member(app, auth, synced)
    url = f"/books/{synced.connection_id}/scheduled-revenue"
    page = client.get(url).get_data(as_text=True)
    months = re.findall(r'<tr><th scope="row">(\d{4}-\d{2})</th>', page)
    assert len(months) == 12
    totals = re.findall(r'<tr><th scope="row">\d{4}-\d{2}</th><td class="num money">([\d,.]+)</td>', page)
    assert any(float(t.replace(",", "")) > 0 for t in totals)

    def raise_price(body):
        body["SubTotal"] += 50.0

    _tamper(app, "RepeatingInvoices", raise_price)
    page = client.get(url).get_data(as_text=True)
    assert "1 repeating invoice(s) differ from the last invoice Xero generated" in page
    assert 'class="difference"' in page


def test_books_navigation_links_reach_each_fpa_view(app, client, auth, synced, htmx):
    _login_member(app, auth, synced)
    page = client.get(f"/books/{synced.connection_id}").get_data(as_text=True)
    links = dict(re.findall(r'<a href="([^"]+)" hx-get="[^"]+"[^>]*>([^<]+)</a>', page))
    wanted = {"By tracking": "by-tracking", "Budget vs actual": "budget", "Scheduled revenue": "scheduled-revenue"}
    for label, tail in wanted.items():
        href = next(h for h, text in links.items() if text == label)
        assert href.endswith(tail)
        fragment = client.get(href, headers=htmx)
        assert fragment.status_code == 200 and f"{label}</a>" in fragment.get_data(as_text=True)
        assert 'aria-current="page">' + label in fragment.get_data(as_text=True)
