"""Accounting API: access rules, envelope, paging, If-Modified-Since, includeArchived, order, journals."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from .conftest import ADVISER, KOWHAI, THAMES


def test_tenant_header_missing_or_not_connected_gives_403_body(xero, adviser_token):
    token = adviser_token["access_token"]
    for tenant in (None, xero.tenant("Harbour Coffee Roasters Ltd"), "not-a-guid"):
        response = xero.api("Organisation", token, tenant)
        body = response.get_json()
        assert response.status_code == 403
        assert body["Title"] == "Forbidden" and body["Detail"] == "AuthenticationUnsuccessful"


def test_missing_scope_gives_401_insufficient_scope(xero):
    token = xero.connect(ADVISER, [KOWHAI], scope="openid offline_access accounting.settings.read")
    tenant = xero.tenant(KOWHAI)
    assert xero.api("Organisation", token["access_token"], tenant).status_code == 200
    for path in ("Invoices", "Contacts", "Journals", "Reports/ProfitAndLoss", "Payments"):
        response = xero.api(path, token["access_token"], tenant)
        assert response.status_code == 401, path
        assert response.get_json()["Detail"] == "AuthorizationUnsuccessful"
        assert "insufficient_scope" in response.headers["WWW-Authenticate"]


def test_broad_scope_of_a_legacy_client_covers_transactions_but_not_journals(xero):
    token = xero.connect(
        ADVISER,
        [KOWHAI],
        client_id="legacy-client",
        scope="openid offline_access accounting.transactions.read accounting.reports.read",
    )
    tenant = xero.tenant(KOWHAI)
    assert xero.api("Invoices", token["access_token"], tenant).status_code == 200
    assert xero.api("Reports/TrialBalance", token["access_token"], tenant).status_code == 200
    assert xero.api("Journals", token["access_token"], tenant).status_code == 401


def test_envelope_headers_and_case_insensitive_paths(call):
    for path in ("Organisation", "organisation", "ORGANISATION"):
        response = call(path)
        assert response.status_code == 200
        body = response.get_json()
        assert body["Status"] == "OK" and body["Id"] and body["ProviderName"]
        assert body["DateTimeUTC"].startswith("/Date(") and body["Organisations"][0]["Name"] == KOWHAI
        assert response.headers["Xero-Correlation-Id"]
        for name in ("X-MinLimit-Remaining", "X-DayLimit-Remaining", "X-AppMinLimit-Remaining"):
            assert name in response.headers


def test_paging_defaults_to_100_and_caps_page_size_at_1000(xero, call):
    xero.state.resize_org(call.tenant, 3000)
    books = xero.state.books(call.tenant)
    first = call("Invoices", page=1).get_json()
    assert len(first["Invoices"]) == 100 and first["pagination"]["pageSize"] == 100
    assert first["pagination"]["itemCount"] == len(books.invoices)
    big = call("Invoices", page=1, pageSize=5000).get_json()
    assert len(big["Invoices"]) == 1000 and big["pagination"]["pageSize"] == 1000
    assert big["pagination"]["pageCount"] == -(-len(books.invoices) // 1000)
    last = call("Invoices", page=big["pagination"]["pageCount"], pageSize=1000).get_json()
    assert len(last["Invoices"]) == len(books.invoices) - 1000 * (big["pagination"]["pageCount"] - 1)
    assert call("Invoices", page=99, pageSize=1000).get_json()["Invoices"] == []
    assert "LineItems" in first["Invoices"][0]


def test_every_paged_endpoint_pages_and_unpaged_ones_do_not(call):
    for path in (
        "Contacts",
        "Invoices",
        "CreditNotes",
        "Payments",
        "Overpayments",
        "Prepayments",
        "BankTransactions",
        "ManualJournals",
    ):
        body = call(path, page=1, pageSize=2).get_json()
        assert body["pagination"]["pageSize"] == 2 and body["Warnings"] == [], path
    for path in ("Accounts", "Items", "BankTransfers", "TaxRates", "Currencies", "TrackingCategories", "Users"):
        assert "pagination" not in call(path, page=1).get_json(), path


def test_without_page_invoices_come_without_line_items(call):
    rows = call("Invoices").get_json()["Invoices"]
    assert len(rows) == len(call.books.invoices) and "LineItems" not in rows[0]


def test_if_modified_since_iso_and_http_date(xero, call):
    books = call.books
    stamps = sorted(r.updated_ms for r in books.invoices)
    cutoff = datetime.fromtimestamp(stamps[len(stamps) // 2] // 1000, tz=UTC)
    expected = sum(1 for r in books.invoices if r.updated_ms >= cutoff.timestamp() * 1000)
    iso = call(
        "Invoices", headers={"If-Modified-Since": cutoff.strftime("%Y-%m-%dT%H:%M:%S")}, page=1, pageSize=1000
    ).get_json()
    http = call(
        "Invoices", headers={"If-Modified-Since": format_datetime(cutoff, usegmt=True)}, page=1, pageSize=1000
    ).get_json()
    assert iso["pagination"]["itemCount"] == expected == http["pagination"]["itemCount"]
    assert 0 < expected < len(books.invoices)


def test_modified_records_show_up_for_incremental_sync(xero, call):
    now = xero.state.clock.now().replace(microsecond=0)
    header = {"If-Modified-Since": now.strftime("%Y-%m-%dT%H:%M:%S")}
    assert call("Contacts", headers=header, page=1).get_json()["Contacts"] == []
    xero.state.advance(5)
    changed = xero.state.modify_records(call.tenant, "contacts", 3)
    voided = xero.state.void_records(call.tenant, "invoices", 2)
    got = {
        c["ContactID"] for c in call("Contacts", headers=header, page=1, includeArchived="true").get_json()["Contacts"]
    }
    assert got == set(changed)
    invoices = call("Invoices", headers=header, page=1).get_json()["Invoices"]
    assert {i["InvoiceID"] for i in invoices} >= set(voided)
    assert {i["Status"] for i in invoices if i["InvoiceID"] in voided} == {"VOIDED"}


def test_include_archived_contacts(call):
    books = call.books
    archived = sum(1 for c in books.contacts if c.status == "ARCHIVED")
    assert archived > 0
    plain = call("Contacts", page=1, pageSize=1000).get_json()["Contacts"]
    everything = call("Contacts", page=1, pageSize=1000, includeArchived="true").get_json()["Contacts"]
    assert len(plain) == len(books.contacts) - archived and len(everything) == len(books.contacts)
    assert "ARCHIVED" not in {c["ContactStatus"] for c in plain}


def test_statuses_deleted_voided_archived_exist_in_data(call):
    statuses = {i["Status"] for i in call("Invoices", page=1, pageSize=1000).get_json()["Invoices"]}
    assert {"DELETED", "VOIDED", "PAID", "AUTHORISED"} <= statuses
    journals = {m["Status"] for m in call("ManualJournals", page=1, pageSize=1000).get_json()["ManualJournals"]}
    assert "POSTED" in journals
    accounts = {a["Status"] for a in call("Accounts").get_json()["Accounts"]}
    assert "ARCHIVED" in accounts


@pytest.mark.parametrize(
    ("order", "key", "reverse"),
    [
        ("UpdatedDateUTC", "UpdatedDateUTC", False),
        ("UpdatedDateUTC DESC", "UpdatedDateUTC", True),
        ("Date ASC", "Date", False),
        ("Date DESC", "Date", True),
        ("InvoiceID", "InvoiceID", False),
        ("InvoiceID DESC", "InvoiceID", True),
    ],
)
def test_order(call, order, key, reverse):
    rows = call("Invoices", page=1, pageSize=1000, order=order).get_json()["Invoices"]

    def value(row):
        text = row[key]
        return int(text[6:-7]) if text.startswith("/Date(") else text

    values = [value(r) for r in rows]
    assert values == sorted(values, reverse=reverse)


def test_unknown_order_field_is_a_query_parse_error(call):
    response = call("Invoices", page=1, order="Colour")
    body = response.get_json()
    assert response.status_code == 400 and body["Type"] == "QueryParseException" and body["ErrorNumber"] == 16
    assert body["Message"] == "No property or field 'Colour' exists in type 'Invoice'"


def test_summary_only_drops_heavy_fields(call):
    row = call("Invoices", page=1, summaryOnly="true").get_json()["Invoices"][0]
    assert "LineItems" not in row and "Payments" not in row and row["Total"] is not None


def test_single_record_by_id_and_404(call):
    inv = call.books.invoices[5]
    rid = call.books.record_id("invoices", inv.idx)
    assert call(f"Invoices/{rid}").get_json()["Invoices"][0]["InvoiceNumber"] == inv.number
    assert call(f"Invoices/{inv.number}").get_json()["Invoices"][0]["InvoiceID"] == rid
    assert call("Invoices/00000000-0000-0000-0000-000000000000").status_code == 404
    assert call("Nonsense").status_code == 404


def test_journals_offset_returns_100_with_number_above_offset(xero, call):
    xero.state.resize_org(call.tenant, 800)
    total = len(xero.state.books(call.tenant).journals)
    first = call("Journals").get_json()["Journals"]
    assert [j["JournalNumber"] for j in first] == list(range(1, 101))
    nxt = call("Journals", offset=first[-1]["JournalNumber"]).get_json()["Journals"]
    assert nxt[0]["JournalNumber"] == 101
    tail = call("Journals", offset=total - 3).get_json()["Journals"]
    assert [j["JournalNumber"] for j in tail] == [total - 2, total - 1, total]
    assert call("Journals", offset=total).get_json()["Journals"] == []


def test_journals_balance_and_void_posts_a_reversal(xero, call):
    before = len(call.books.journals)
    xero.state.advance(60)
    [voided] = xero.state.void_records(call.tenant, "bank_transactions", 1)
    journals = call("Journals", offset=before).get_json()["Journals"]
    assert len(journals) == 1 and journals[0]["SourceID"] == voided
    for journal in call("Journals").get_json()["Journals"]:
        assert round(sum(line["NetAmount"] for line in journal["JournalLines"]), 2) == 0


def test_org_of_other_user_cannot_be_read(xero, adviser_token):
    response = xero.api("Organisation", adviser_token["access_token"], xero.tenant(THAMES))
    assert response.status_code == 200
    xero.state.delete_org(xero.tenant(THAMES))
    assert xero.api("Organisation", adviser_token["access_token"], xero.tenant(KOWHAI)).status_code == 200
    gone = xero.state.connections()
    assert [c["tenantName"] for c in gone] == [KOWHAI]


def test_write_methods_are_refused(xero, adviser_token):
    response = xero.http.post(
        "/api.xro/2.0/Invoices",
        headers={"Authorization": f"Bearer {adviser_token['access_token']}", "xero-tenant-id": xero.tenant(KOWHAI)},
    )
    assert response.status_code == 405
