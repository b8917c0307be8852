"""A third-party client nobody here wrote (pyxero, with every data type it knows) reads the
sandbox to the end and gets exactly the generated records."""

from __future__ import annotations

import pytest
from xero import Xero as PyXero
from xero.auth import OAuth2Credentials
from xero.exceptions import XeroNotFound

from xero_sandbox.planning import planning

from .conftest import ADVISER, CLIENT, KOWHAI, Xero
from .test_conformance import ALL_READ_SCOPES

# pyxero manager -> (sandbox stream or derived records, id field); None: compared by count below
RECORDS = {
    "contacts": ("contacts", "ContactID"),
    "invoices": ("invoices", "InvoiceID"),
    "creditnotes": ("credit_notes", "CreditNoteID"),
    "payments": ("payments", "PaymentID"),
    "overpayments": ("overpayments", "OverpaymentID"),
    "prepayments": ("prepayments", "PrepaymentID"),
    "banktransactions": ("bank_transactions", "BankTransactionID"),
    "banktransfers": ("bank_transfers", "BankTransferID"),
    "manualjournals": ("manual_journals", "ManualJournalID"),
    "items": ("items", "ItemID"),
    "repeatinginvoices": ("repeating_invoices", "RepeatingInvoiceID"),
    "quotes": ("quotes", "QuoteID"),
    "purchaseorders": ("purchase_orders", "PurchaseOrderID"),
}
# Xero retired the Accounting API's Employees endpoint (gone from its OpenAPI description since v15)
RETIRED = {"employees"}


@pytest.fixture
def pyxero(live, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the sandbox listens on plain http loopback
    live.state.reset()
    token = Xero(live.app).connect(ADVISER, [KOWHAI], scope=ALL_READ_SCOPES)
    token["scope"] = token["scope"].split()
    tenant = live.state.tenant_id(KOWHAI)
    credentials = OAuth2Credentials(CLIENT[0], CLIENT[1], token=token, tenant_id=tenant)
    credentials.base_url = live.url
    return PyXero(credentials), live, tenant


def test_pyxero_reads_every_data_type_and_gets_exactly_the_generated_records(pyxero):
    client, live, tenant = pyxero
    books = live.state.books(tenant)
    derived = planning(books)
    read = []
    for name in (n.lower() for n in PyXero.OBJECT_LIST):
        if name == "attachments":  # reached through a parent record, below
            continue
        live.state.advance(1.1)  # stay under 60 calls a minute on the frozen clock
        manager = getattr(client, name)
        if name in RETIRED:
            with pytest.raises(XeroNotFound):
                manager.all()
            continue
        rows = manager.all()
        read.append(name)
        if name in RECORDS:
            stream, key = RECORDS[name]
            records = derived[stream] if stream in derived else getattr(books, stream)
            expected = {books.record_id(stream, r.idx) for r in records}
            if name == "contacts":  # without includeArchived, as Xero
                expected = {books.record_id(stream, r.idx) for r in records if r.status != "ARCHIVED"}
            assert {str(row[key]) for row in rows} == expected, name
    assert len(read) == len(PyXero.OBJECT_LIST) - 2
    live.state.advance(1.1)
    invoice = books.record_id("invoices", 0)
    attachments = client.invoices.get_attachments(invoice)
    assert attachments.get("Attachments") == [], attachments
    live.state.advance(1.1)
    assert [j["JournalNumber"] for j in client.journals.all()] == list(range(1, 101))
