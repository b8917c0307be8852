"""Two outside checks of every Accounting GET in Xero's OpenAPI description (vendored under
tests/openapi/ with its MIT licence): each GET the sandbox serves answers in the shape of the
spec's schema, and the official xero-python SDK calls it and deserialises the answer. The GETs
the sandbox does not serve are listed here and in xero_sandbox/README.md, and answer 404."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.exceptions import ApiException

from .conftest import ADVISER, CLIENT, KOWHAI, READ_SCOPES, Xero

SPEC = Path(__file__).resolve().parent.parent / "openapi" / "xero_accounting.yaml"
ALL_READ_SCOPES = READ_SCOPES + (
    " accounting.budgets.read accounting.attachments.read accounting.reports.aged.read"
    " accounting.reports.budgetsummary.read accounting.reports.executivesummary.read"
    " accounting.reports.taxreports.read accounting.classicexpenses.read paymentservices"
)
ZERO = "00000000-0000-0000-0000-000000000000"

# Xero GETs the sandbox does not serve (README "Not served"): file contents and country-only features.
NOT_SERVED = {
    "getCreditNoteAsPdf",
    "getInvoiceAsPdf",
    "getPurchaseOrderAsPdf",
    "getQuoteAsPdf",
    "getContactCISSettings",
    "getOrganisationCISSettings",
    "getReportTenNinetyNine",
}
# Served, and answering 404 as Xero does for an organisation that has none of these records.
NONE_IN_THESE_BOOKS = {
    "getBatchPayment",
    "getBatchPaymentHistory",
    "getLinkedTransaction",
    "getReceipt",
    "getReceiptHistory",
    "getReceiptAttachments",
    "getExpenseClaim",
    "getExpenseClaimHistory",
    "getReportFromId",
}
NO_SCHEMA_FALLBACK = "HistoryRecords"  # the spec's History GETs declare no response schema


class _Loader(yaml.SafeLoader):
    """YAML without the timestamp resolver: the spec's example dates stay strings."""


_Loader.yaml_implicit_resolvers = {
    key: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@cache
def spec() -> dict:
    return yaml.load(SPEC.read_text(), Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


def operations() -> list[tuple[str, str, str | None]]:
    """(operationId, path template, response schema name) of every GET in the spec."""
    out = []
    for path, item in spec()["paths"].items():
        get = item.get("get")
        if not get:
            continue
        content = get["responses"].get("200", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema", {}).get("$ref", "").split("/")[-1] or None
        if schema is None and path.endswith("/History"):
            schema = NO_SCHEMA_FALLBACK
        out.append((get["operationId"], path, schema))
    return out


def attachment_op(op: str) -> bool:
    return op.endswith(("AttachmentById", "AttachmentByFileName"))


def path_values(books, users: list[dict]) -> dict[str, str]:
    sale = next(d for d in books.invoices if d.type == "ACCREC" and d.status == "AUTHORISED")
    return {
        "AccountID": books.account_id(0),
        "BankTransactionID": books.record_id("bank_transactions", 0),
        "BankTransferID": books.record_id("bank_transfers", 0),
        "BatchPaymentID": ZERO,
        "BrandingThemeID": books.record_id("branding_themes", 0),
        "BudgetID": books.record_id("budgets", 1),
        "ContactID": books.record_id("contacts", 0),
        "ContactNumber": books.contacts[1].number,
        "ContactGroupID": books.record_id("contact_groups", 0),
        "CreditNoteID": books.record_id("credit_notes", 0),
        "ExpenseClaimID": ZERO,
        "InvoiceID": books.record_id("invoices", sale.idx),
        "ItemID": books.record_id("items", 0),
        "JournalID": books.record_id("journals", 3),
        "JournalNumber": "4",
        "LinkedTransactionID": ZERO,
        "ManualJournalID": books.record_id("manual_journals", 0),
        "OverpaymentID": books.record_id("overpayments", 0),
        "PaymentID": books.record_id("payments", 0),
        "PrepaymentID": books.record_id("prepayments", 0),
        "PurchaseOrderID": books.record_id("purchase_orders", 0),
        "PurchaseOrderNumber": "PO-0002",
        "QuoteID": books.record_id("quotes", 0),
        "ReceiptID": ZERO,
        "RepeatingInvoiceID": books.record_id("repeating_invoices", 0),
        "ReportID": ZERO,
        "TaxType": books.profile.purchase_tax_type,
        "TrackingCategoryID": books.tracking_ids(1),
        "UserID": users[0]["UserID"],
        "OrganisationID": books.tenant_id,
        "AttachmentID": ZERO,
        "FileName": "receipt.pdf",
    }


def query_values(books) -> dict[str, str]:
    contact = books.invoices[0].contact
    return {"contactId": books.record_id("contacts", contact)}


def expected_status(op: str) -> int:
    return 404 if op in NOT_SERVED or op in NONE_IN_THESE_BOOKS or attachment_op(op) else 200


def validator(schema_name: str) -> jsonschema.Draft4Validator:
    registry = Registry().with_resource("spec", Resource.from_contents(spec(), default_specification=DRAFT4))
    return jsonschema.Draft4Validator({"$ref": f"spec#/components/schemas/{schema_name}"}, registry=registry)


@pytest.fixture
def full_access(xero):
    token = xero.connect(ADVISER, [KOWHAI], scope=ALL_READ_SCOPES)["access_token"]
    tenant = xero.tenant(KOWHAI)
    books = xero.state.books(tenant)
    users = xero.api("Users", token, tenant).get_json()["Users"]
    return token, tenant, books, users


def test_every_served_get_answers_in_the_shape_of_xeros_schema(xero, full_access):
    token, tenant, books, users = full_access
    values, query = path_values(books, users), query_values(books)
    checked = []
    for op, template, schema in operations():
        path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)
        xero.state.advance(1.1)  # the frozen clock moves on: stay under Xero's 60 calls a minute
        response = xero.api(path.lstrip("/"), token, tenant, **query)
        assert response.status_code == expected_status(op), (op, path, response.get_data(as_text=True)[:300])
        if response.status_code != 200:
            continue
        body = response.get_json()
        errors = sorted(validator(schema).iter_errors(body), key=lambda e: list(e.absolute_path))
        assert not errors, (op, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]])
        checked.append(op)
    served = {op for op, _t, _s in operations() if expected_status(op) == 200}
    assert set(checked) == served and len(served) == 88


def sdk_name(op: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", op).lower()


def sdk_arg(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", re.sub(r"ID$", "Id", name)).lower()


@pytest.fixture
def sdk_api(live, monkeypatch):
    monkeypatch.setattr(TokenApi, "refresh_token_url", live.url + "/connect/token")
    live.state.reset()
    token = Xero(live.app).connect(ADVISER, [KOWHAI], scope=ALL_READ_SCOPES)
    token["scope"] = token["scope"].split()
    client = ApiClient(
        Configuration(oauth2_token=OAuth2Token(client_id=CLIENT[0], client_secret=CLIENT[1])), pool_threads=1
    )
    client.oauth2_token_getter(lambda: token)
    client.oauth2_token_saver(lambda new: token.update(new))
    client.set_oauth2_token(token)
    yield AccountingApi(client, base_url=live.url + "/api.xro/2.0"), live
    client.rest_client.pool_manager.clear()


def test_official_sdk_calls_every_served_get_and_deserialises_it(sdk_api):
    api, live = sdk_api
    tenant = live.state.tenant_id(KOWHAI)
    books = live.state.books(tenant)
    users = [{"UserID": u.user_id} for u in [api.get_users(tenant).users[0]]]
    values, query = path_values(books, users), query_values(books)
    called = []
    for op, template, _schema in operations():
        if op in NOT_SERVED or attachment_op(op):
            continue
        kwargs = {sdk_arg(name): values[name] for name in re.findall(r"\{(\w+)\}", template)}
        if "JournalNumber" in template:
            kwargs["journal_number"] = int(kwargs["journal_number"])
        if "AgedPayables" in op or "AgedReceivables" in op:
            kwargs["contact_id"] = query["contactId"]
        method = getattr(api, sdk_name(op))
        live.state.advance(1.1)
        if op in NONE_IN_THESE_BOOKS:
            with pytest.raises(ApiException) as refused:
                method(tenant, **kwargs)
            assert refused.value.status == 404, op
        else:
            result = method(tenant, **kwargs)
            assert result is not None, op
        called.append(op)
    assert len(called) > 90
    # a few deserialised values, to show the SDK read the data and not only the envelope
    budget = api.get_budget(tenant, books.record_id("budgets", 1)).budgets[0]
    assert budget.type == "TRACKING" and budget.tracking[0].name == "Department"
    repeating = api.get_repeating_invoices(tenant).repeating_invoices
    assert len(repeating) == len(books.repeating_invoices) and repeating[0].schedule.unit == "MONTHLY"
    quote = api.get_quotes(tenant).quotes[0]
    assert quote.quote_number == "QU-0001" and quote.status.value == "INVOICED"
