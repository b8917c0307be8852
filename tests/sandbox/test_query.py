"""`where`, `order` and the list parameters, as Xero's documentation describes them."""

from __future__ import annotations

from datetime import date

import pytest

from xero_sandbox.data import CHART


def ids(rows, key):
    return [r[key] for r in rows]


def test_where_on_accounts_filters_instead_of_returning_everything(call):
    rows = call("Accounts", where='Type=="BANK"').get_json()["Accounts"]
    assert sorted(r["Code"] for r in rows) == sorted(a.code for a in CHART if a.type == "BANK")
    rows = call("Accounts", where='Status=="ACTIVE" && Class=="EXPENSE"').get_json()["Accounts"]
    assert {r["Code"] for r in rows} == {a.code for a in CHART if a.klass == "EXPENSE" and a.status == "ACTIVE"}


def test_where_with_or_contains_startswith_and_case_insensitive_names(call):
    rows = call("Accounts", where='Code.StartsWith("4") || Name.Contains("Bank")').get_json()["Accounts"]
    expected = {a.code for a in CHART if a.code.startswith("4") or "Bank" in a.name}
    assert {r["Code"] for r in rows} == expected
    assert (
        call("Accounts", where='type=="BANK"').get_json()["Accounts"]
        == call("Accounts", where='Type=="BANK"').get_json()["Accounts"]
    )


def test_where_on_nested_contact_id_with_guid_and_date_range(call):
    books = call.books
    target = books.invoices[7].contact
    contact_id = books.record_id("contacts", target)
    day = date.fromordinal(books.invoices[len(books.invoices) // 2].date)
    expr = f'Contact.ContactID==Guid("{contact_id.upper()}") && Date >= DateTime({day.year}, {day.month}, {day.day})'
    rows = call("Invoices", page=1, pageSize=1000, where=expr).get_json()["Invoices"]
    expected = [
        books.record_id("invoices", r.idx) for r in books.invoices if r.contact == target and r.date >= day.toordinal()
    ]
    assert ids(rows, "InvoiceID") == expected and expected


def test_where_combines_with_statuses_and_paging_counts_what_it_kept(call):
    books = call.books
    body = call("Invoices", page=1, pageSize=10, Statuses="AUTHORISED,PAID", where='Type=="ACCPAY"').get_json()
    expected = [r for r in books.invoices if r.type == "ACCPAY" and r.status in ("AUTHORISED", "PAID")]
    assert body["pagination"]["itemCount"] == len(expected)
    assert ids(body["Invoices"], "InvoiceNumber") == [r.number for r in expected[:10]]


def test_datetime_parse_and_numbers_and_not(call):
    books = call.books
    rows = call("BankTransactions", page=1, pageSize=1000, where='Total > 100 && !(Status=="DELETED")').get_json()[
        "BankTransactions"
    ]
    expected = [r for r in books.bank_transactions if r.total > 10000 and r.status != "DELETED"]
    assert len(rows) == len(expected)
    day = date.fromordinal(books.payments[0].date).isoformat()
    rows = call("Payments", page=1, pageSize=1000, where=f'Date == DateTime.Parse("{day}T00:00:00")').get_json()
    assert {r["PaymentID"] for r in rows["Payments"]} == {
        books.record_id("payments", p.idx) for p in books.payments if date.fromordinal(p.date).isoformat() == day
    }


@pytest.mark.parametrize(
    ("path", "where", "message"),
    [
        ("Invoices", 'Colour=="Red"', "No property or field 'Colour' exists in type 'Invoice'"),
        ("Invoices", 'Contact.Shoe=="x"', "No property or field 'Shoe' exists in type 'Contact'"),
        ("Invoices", "Status==", "Expression expected"),
        ("Invoices", 'Status=="PAID" &&', "Expression expected"),
        (
            "Accounts",
            'EnablePaymentsToAccount=="true"',
            "Operator '==' incompatible with operand types 'Boolean' and 'String'",
        ),
        (
            "Contacts",
            'ContactID==Guid("nope")',
            "Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).",
        ),
        ("Accounts", 'Name.Shout("x")', "No applicable method 'Shout' exists in type 'String'"),
    ],
)
def test_expression_xero_cannot_evaluate_gets_its_400_query_parse_body(call, path, where, message):
    response = call(path, where=where) if path != "Invoices" else call(path, page=1, where=where)
    body = response.get_json()
    assert response.status_code == 400
    assert body == {"ErrorNumber": 16, "Type": "QueryParseException", "Message": message}


def test_order_on_nested_field_and_two_keys(call):
    rows = call("Invoices", page=1, pageSize=1000, order="Contact.Name DESC, InvoiceNumber").get_json()["Invoices"]
    pairs = [(r["Contact"]["Name"].lower(), r["InvoiceNumber"]) for r in rows]
    assert pairs == sorted(pairs, key=lambda p: (_desc(p[0]), p[1]))
    accounts = call("Accounts", order="Name DESC").get_json()["Accounts"]
    assert [a["Name"].lower() for a in accounts] == sorted((a["Name"].lower() for a in accounts), reverse=True)


def _desc(text: str) -> tuple:
    return tuple(-ord(c) for c in text) + (1,)


def test_ids_and_contact_ids_only_where_xero_takes_them(call):
    books = call.books
    first = books.record_id("contacts", 1)
    rows = call("Contacts", IDs=first).get_json()["Contacts"]
    assert ids(rows, "ContactID") == [first]
    # Payments have no ContactIDs parameter in Xero's spec: it is not a filter there
    assert len(call("Payments").get_json()["Payments"]) == len(books.payments)


def test_settings_by_id_and_tax_type(call):
    books = call.books
    account_id = books.account_id(3)
    assert call(f"Accounts/{account_id}").get_json()["Accounts"][0]["Code"] == CHART[3].code
    assert call("Accounts/00000000-0000-0000-0000-000000000000").status_code == 404
    tax_type = books.profile.sales_tax_type
    assert call(f"TaxRates/{tax_type}").get_json()["TaxRates"][0]["TaxType"] == tax_type
    user = call("Users").get_json()["Users"][0]
    assert call(f"Users/{user['UserID']}").get_json()["Users"][0]["EmailAddress"] == user["EmailAddress"]
    category = call("TrackingCategories").get_json()["TrackingCategories"][0]
    one = call(f"TrackingCategories/{category['TrackingCategoryID']}").get_json()["TrackingCategories"]
    assert one[0]["Name"] == category["Name"]
