"""The official xero-python SDK runs against the sandbox unchanged apart from base URLs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.identity import IdentityApi

from xero_sandbox import shapes

from .conftest import ADVISER, CLIENT, KOWHAI, THAMES, Xero


@pytest.fixture
def sdk(live, monkeypatch):
    monkeypatch.setattr(TokenApi, "refresh_token_url", live.url + "/connect/token")
    monkeypatch.setattr(TokenApi, "revoke_token_url", live.url + "/connect/revocation")
    live.state.reset()
    flow = Xero(live.app)
    token = flow.connect(ADVISER, [KOWHAI, THAMES])
    token["scope"] = token["scope"].split()
    store = {"token": token}
    client = ApiClient(
        Configuration(oauth2_token=OAuth2Token(client_id=CLIENT[0], client_secret=CLIENT[1])), pool_threads=1
    )
    client.oauth2_token_getter(lambda: store["token"])
    client.oauth2_token_saver(lambda new: store.__setitem__("token", new))
    client.set_oauth2_token(token)
    yield client, store, live
    client.rest_client.pool_manager.clear()


def test_sdk_refresh_rotates_and_lists_connections(sdk):
    client, store, live = sdk
    before = store["token"]["refresh_token"]
    client.refresh_oauth2_token()
    assert store["token"]["refresh_token"] != before
    connections = IdentityApi(client, base_url=live.url).get_connections()
    assert sorted(c.tenant_name for c in connections) == [KOWHAI, THAMES]
    assert all(c.tenant_type == "ORGANISATION" and c.created_date_utc for c in connections)
    event = connections[0].auth_event_id
    filtered = IdentityApi(client, base_url=live.url).get_connections(auth_event_id=str(event))
    assert len(filtered) == 2


def test_sdk_reads_organisation_invoices_journals_and_profit_and_loss(sdk):
    client, _store, live = sdk
    api = AccountingApi(client, base_url=live.url + "/api.xro/2.0")
    tenant = live.state.tenant_id(KOWHAI)
    books = live.state.books(tenant)
    org = api.get_organisations(tenant).organisations[0]
    assert org.name == KOWHAI and org.organisation_id == tenant and org.base_currency.value == "NZD"

    seen = []
    page = 1
    while True:
        result = api.get_invoices(tenant, page=page, page_size=40)
        seen.extend(result.invoices)
        assert result.pagination.page_size == 40 and result.pagination.item_count == len(books.invoices)
        if len(result.invoices) < 40:
            break
        page += 1
    assert len(seen) == len(books.invoices)
    for got, rec in zip(seen, books.invoices, strict=True):
        assert got.invoice_id == books.record_id("invoices", rec.idx)
        assert got.invoice_number == rec.number and got.status == rec.status and got.type == rec.type
        assert got.total == Decimal(rec.total) / 100 and got.date == date.fromordinal(rec.date)
        assert got.contact.name == books.contacts[rec.contact].name
        assert len(got.line_items) == len(rec.lines)
        assert int(got.updated_date_utc.timestamp() * 1000) == rec.updated_ms

    cutoff = datetime.fromtimestamp(sorted(r.updated_ms for r in books.invoices)[-5] / 1000, tz=UTC)
    cutoff = cutoff.replace(microsecond=0)
    recent = api.get_invoices(tenant, if_modified_since=cutoff, page=1, page_size=100).invoices
    expected = [r for r in books.invoices if r.updated_ms >= cutoff.timestamp() * 1000]
    assert [i.invoice_id for i in recent] == [books.record_id("invoices", r.idx) for r in expected]

    journals, offset = [], 0
    while True:
        batch = api.get_journals(tenant, offset=offset).journals
        if not batch:
            break
        assert len(batch) <= 100
        journals.extend(batch)
        offset = batch[-1].journal_number
    assert [j.journal_number for j in journals] == list(range(1, len(books.journals) + 1))
    assert sum(line.net_amount for j in journals for line in j.journal_lines) == 0

    today = live.state.clock.now().date()
    report = api.get_report_profit_and_loss(tenant, from_date=today - timedelta(days=365), to_date=today)
    expected_report = shapes  # the report model must deserialize into rows and cells
    rows = report.reports[0].rows
    assert expected_report and rows[0].row_type.value == "Header"
    net = next(r for s in rows if s.rows for r in s.rows if r.cells[0].value == "Net Profit")
    assert Decimal(net.cells[1].value) != 0


def test_sdk_reads_every_other_collection(sdk):
    client, _store, live = sdk
    api = AccountingApi(client, base_url=live.url + "/api.xro/2.0")
    tenant = live.state.tenant_id(KOWHAI)
    books = live.state.books(tenant)
    assert len(api.get_accounts(tenant).accounts) == len(shapes.CHART)
    assert len(api.get_contacts(tenant, page=1, page_size=1000, include_archived=True).contacts) == len(books.contacts)
    assert len(api.get_credit_notes(tenant, page=1, page_size=1000).credit_notes) == len(books.credit_notes)
    assert len(api.get_payments(tenant, page=1, page_size=1000).payments) == len(books.payments)
    assert len(api.get_overpayments(tenant, page=1, page_size=1000).overpayments) == len(books.overpayments)
    assert len(api.get_prepayments(tenant, page=1, page_size=1000).prepayments) == len(books.prepayments)
    assert len(api.get_bank_transactions(tenant, page=1, page_size=1000).bank_transactions) == len(
        books.bank_transactions
    )
    assert len(api.get_bank_transfers(tenant).bank_transfers) == len(books.bank_transfers)
    assert len(api.get_manual_journals(tenant, page=1, page_size=1000).manual_journals) == len(books.manual_journals)
    assert len(api.get_items(tenant).items) == len(books.items)
    assert api.get_users(tenant).users
    assert api.get_tax_rates(tenant).tax_rates
    assert api.get_currencies(tenant).currencies[0].code.value == "NZD"
    assert api.get_tracking_categories(tenant).tracking_categories
    assert api.get_report_balance_sheet(tenant).reports[0].rows
    assert api.get_report_trial_balance(tenant).reports[0].rows
    assert api.get_report_bank_summary(tenant).reports[0].rows
    one = books.invoices[3]
    got = api.get_invoice(tenant, books.record_id("invoices", one.idx)).invoices[0]
    assert got.invoice_number == one.number
