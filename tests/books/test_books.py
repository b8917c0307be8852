"""The books view of a synced connection: pages and fragments, escaping, P&L, reconciliation."""

from __future__ import annotations

import pytest

from tests.sync.helpers import SYNC_SCOPES, connect_org, start_sync, wait_for_run

JOURNAL_SCOPES = SYNC_SCOPES + " accounting.journals.read"
PAGES = ("books.overview", "books.accounts", "books.profit_and_loss", "books.reconciliation")


@pytest.fixture
def synced(app, sandbox, worker):
    org = connect_org(app, sandbox, records=300, scopes=JOURNAL_SCOPES, name="<b>Kahu</b> & Sons <script>x</script>")
    run_id = start_sync(app, org.connection_id)
    assert wait_for_run(app, run_id) == "succeeded", worker.output()[-3000:]
    return org


def _login_member(app, auth, org, role="viewer"):
    from wizard.extensions import db
    from wizard.models import User

    with app.app_context():
        user = User(email=f"{role}@books.test", name=role, role=role, workspace_id=org.workspace_id)
        user.set_password("pw")
        db.session.add(user)
        db.session.commit()
    assert auth.login(f"{role}@books.test").status_code == 303


@pytest.mark.parametrize("endpoint", PAGES)
def test_books_pages_are_full_pages_and_htmx_fragments(app, client, auth, synced, htmx, endpoint):
    from flask import url_for

    _login_member(app, auth, synced)
    with app.test_request_context():
        url = url_for(endpoint, connection_id=synced.connection_id)
    page = client.get(url)
    assert page.status_code == 200 and b"<html" in page.data
    fragment = client.get(url, headers=htmx)
    assert fragment.status_code == 200 and b"<html" not in fragment.data
    assert "HX-Request" in fragment.headers["Vary"]
    assert b"<script>x</script>" not in page.data and b"&lt;script&gt;x&lt;/script&gt;" in page.data


def test_books_of_another_workspace_are_not_found(app, client, auth, synced):
    auth.as_new("viewer", workspace="Someone Else")
    assert client.get(f"/books/{synced.connection_id}/reconciliation").status_code == 404


def test_reconciliation_matches_xero_trial_balance_from_journals(app, synced):
    from wizard.books import ledger

    with app.app_context():
        result = ledger.reconcile(synced.connection_id)
    assert result is not None and result.source == "journals"
    assert len(result.lines) > 10
    assert result.differences == [], [(d.label, d.ours, d.xero) for d in result.differences]


def test_reconciliation_from_transactions_without_journals(app, sandbox, worker):
    from wizard.books import ledger

    org = connect_org(app, sandbox, records=300)
    assert wait_for_run(app, start_sync(app, org.connection_id)) == "succeeded"
    with app.app_context():
        result = ledger.reconcile(org.connection_id)
    assert result is not None and result.source == "transactions"
    bank_only = {d.account.type for d in result.differences if d.account} <= {"BANK"}
    assert bank_only, [(d.label, d.ours, d.xero) for d in result.differences]


def test_reconciliation_page_highlights_a_difference(app, client, auth, synced):
    import json

    from sqlalchemy import select

    from wizard.extensions import db
    from wizard.models import XeroReport

    with app.app_context():
        # Xero's trial balance now says one account holds 12.34 less than the synced journals add up to.
        report = db.session.scalars(select(XeroReport).where(XeroReport.report == "TrialBalance")).first()
        body = json.loads(report.payload)
        row = next(
            r
            for section in body["Rows"]
            for r in section.get("Rows") or []
            if r.get("RowType") == "Row" and len(r.get("Cells") or []) >= 5
        )
        row["Cells"][4]["Value"] = f"{float(row['Cells'][4].get('Value') or 0) + 12.34:.2f}"
        report.payload = json.dumps(body)
        db.session.commit()
    _login_member(app, auth, synced)
    page = client.get(f"/books/{synced.connection_id}/reconciliation").get_data(as_text=True)
    assert "1 account(s) differ from Xero." in page
    assert 'class="difference"' in page and "<strong>12.34</strong>" in page


def test_monthly_pnl_covers_24_months_with_a_chart(app, client, auth, synced):
    from wizard.books import ledger

    with app.app_context():
        pnl = ledger.monthly_pnl(synced.connection_id)
    assert len(pnl.months) == 24
    assert any(pnl.income) and any(pnl.expenses)
    _login_member(app, auth, synced)
    page = client.get(f"/books/{synced.connection_id}/profit-and-loss").get_data(as_text=True)
    assert "<svg" in page and page.count('class="bar-income"') == 24
