"""The rest of Xero's Accounting read surface: quotes, purchase orders, repeating invoices,
budgets, contact groups, branding themes, the collections this organisation has none of
(linked transactions, receipts, expense claims, batch payments, payment services), History and
Attachments of documents, online invoice links, organisation actions and invoice reminders.

`route(parts)` maps a path to (scope endpoint, handler(books)); accounting.resource runs it.
"""

from __future__ import annotations

from datetime import date

from flask import g, request

from . import shapes
from .accounting import STREAMS, envelope, if_modified_since, int_arg, queried, record_type
from .data import Books, ordinal_ms
from .gateway import json_response, not_found, query_error, validation_error
from .planning import BRANDING_THEMES, Budget, Offer, planning
from .where import QueryError

PAGE_SIZE = 100


# shapes -----------------------------------------------------------------------------------


def quote(b: Books, q: Offer) -> dict:
    source = b.invoices[q.source]
    return {
        "QuoteID": b.record_id("quotes", q.idx),
        "QuoteNumber": q.number,
        "Reference": q.number,  # what the invoice it leads to carries as its Reference
        "Terms": "Valid for 30 days",
        "Contact": shapes.contact_ref(b, q.contact),
        "LineItems": shapes.line_items(b, source, "quotes"),
        "Date": shapes.day_date(q.date),
        "DateString": shapes.day_string(q.date),
        "ExpiryDate": shapes.day_date(q.expiry),
        "ExpiryDateString": shapes.day_string(q.expiry),
        "Status": q.status,
        "CurrencyCode": b.profile.currency,
        "CurrencyRate": 1.0,
        "SubTotal": shapes.money(source.sub),
        "TotalTax": shapes.money(source.tax),
        "Total": shapes.money(source.total),
        "TotalDiscount": 0.0,
        "Title": f"Quote {q.number}",
        "Summary": "",
        "BrandingThemeID": b.record_id("branding_themes", 0),
        "UpdatedDateUTC": shapes.ms_date(q.updated_ms),
        "LineAmountTypes": "EXCLUSIVE",
    }


def purchase_order(b: Books, p: Offer) -> dict:
    source = b.invoices[p.source]
    return {
        "PurchaseOrderID": b.record_id("purchase_orders", p.idx),
        "PurchaseOrderNumber": p.number,
        "Contact": shapes.contact_ref(b, p.contact),
        "LineItems": shapes.line_items(b, source, "purchase_orders"),
        "Date": shapes.day_date(p.date),
        "DateString": shapes.day_string(p.date),
        "DeliveryDate": shapes.day_date(source.date),
        "DeliveryDateString": shapes.day_string(source.date),
        "LineAmountTypes": "Exclusive",
        "Reference": p.number,  # what the bill it leads to carries as its Reference
        "BrandingThemeID": b.record_id("branding_themes", 0),
        "CurrencyCode": b.profile.currency,
        "CurrencyRate": 1.0,
        "Status": p.status,
        "SentToContact": p.status not in ("DRAFT",),
        "DeliveryAddress": "",
        "AttentionTo": "",
        "Telephone": "",
        "DeliveryInstructions": "",
        "SubTotal": shapes.money(source.sub),
        "TotalTax": shapes.money(source.tax),
        "Total": shapes.money(source.total),
        "TotalDiscount": 0.0,
        "HasAttachments": False,
        "UpdatedDateUTC": shapes.ms_date(p.updated_ms),
    }


def repeating_invoice(b: Books, t) -> dict:
    schedule = {
        "Period": t.period,
        "Unit": "MONTHLY",
        "DueDate": t.due_days,
        "DueDateType": "DAYSAFTERBILLDATE",
        "StartDate": shapes.day_date(t.start),
    }
    if t.next is not None:
        schedule["NextScheduledDate"] = shapes.day_date(t.next)
    if t.end is not None:
        schedule["EndDate"] = shapes.day_date(t.end)
    rid = b.record_id("repeating_invoices", t.idx)
    return {
        "Type": "ACCREC",
        "Contact": shapes.contact_ref(b, t.contact),
        "Schedule": schedule,
        "LineItems": shapes.line_items(b, t, "repeating_invoices"),
        "LineAmountTypes": "Exclusive",
        "Reference": t.reference,
        "BrandingThemeID": b.record_id("branding_themes", 0),
        "CurrencyCode": b.profile.currency,
        "Status": t.status,
        "SubTotal": shapes.money(t.sub),
        "TotalTax": shapes.money(t.tax),
        "Total": shapes.money(t.total),
        "RepeatingInvoiceID": rid,
        "ID": rid,
        "HasAttachments": False,
        "ApprovedForSending": False,
        "SendCopy": False,
        "MarkAsSent": False,
        "IncludePDF": False,
    }


def budget(b: Books, budget: Budget, first: date | None, last: date | None) -> dict:
    months = [
        (k, m) for k, m in enumerate(budget.months) if (first is None or m >= first) and (last is None or m <= last)
    ]
    lines = [
        {
            "AccountID": b.account_id(acct),
            "AccountCode": shapes.CHART[acct].code,
            "BudgetBalances": [{"Period": m.strftime("%Y-%m"), "Amount": shapes.money(amounts[k])} for k, m in months],
        }
        for acct, amounts in budget.lines.items()
    ]
    out = {
        "BudgetID": b.record_id("budgets", budget.idx),
        "Type": budget.kind,
        "Description": budget.description,
        "UpdatedDateUTC": shapes.ms_date(budget.updated_ms),
        "BudgetLines": lines,
        "Tracking": [],
    }
    if budget.option >= 0:
        out["Tracking"] = shapes.tracking_rows(b, (-1, budget.option))
    return out


def contact_group(b: Books, idx: int, group: tuple, with_contacts: bool) -> dict:
    name, status, members = group
    return {
        "ContactGroupID": b.record_id("contact_groups", idx),
        "Name": name,
        "Status": status,
        "Contacts": [{"ContactID": b.record_id("contacts", c), "Name": b.contacts[c].name} for c in members]
        if with_contacts
        else [],
    }


def branding_theme(b: Books, idx: int) -> dict:
    return {
        "BrandingThemeID": b.record_id("branding_themes", idx),
        "Name": BRANDING_THEMES[idx],
        "Type": "INVOICE",
        "SortOrder": idx,
        "CreatedDateUTC": shapes.ms_date(b.created_ms),
    }


# collections ------------------------------------------------------------------------------


def collection(key: str, rows: list[dict], page_size: int | None = None, sizable: bool = False):
    """Rows after If-Modified-Since, `where`/`order`, and `page` where the endpoint pages
    (`pageSize` only where Xero takes it: `sizable`)."""
    since = if_modified_since()
    if since is not None:
        rows = [r for r in rows if _ms(r.get("UpdatedDateUTC")) >= since]
    try:
        rows = queried(rows, record_type(key))
    except QueryError as bad:
        return query_error(str(bad))
    if page_size and "page" in request.args:
        size = (
            min(max(1, int_arg("pageSize", page_size)), 1000) if sizable and "pageSize" in request.args else page_size
        )
        page = max(1, int_arg("page", 1))
        rows = rows[(page - 1) * size : page * size]
    g.rows = len(rows)
    return json_response(envelope(key, rows))


def one(key: str, rows: list[dict], id_fields: tuple[str, ...], record_id: str):
    wanted = record_id.lower()
    found = [r for r in rows if any(str(r.get(f, "")).lower() == wanted for f in id_fields)]
    if not found:
        return not_found()
    g.rows = len(found)
    return json_response(envelope(key, found[:1]))


def _ms(value: str | None) -> int:
    return int(value[6:].split("+")[0].split(")")[0]) if value else 0


def _day_arg(name: str) -> date | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise QueryError(f"{name} must be a date (YYYY-MM-DD)") from None


def quotes(b: Books, record_id: str | None):
    rows = [quote(b, q) for q in planning(b)["quotes"]]
    if record_id:
        return one("Quotes", rows, ("QuoteID",), record_id)
    try:
        rows = _by_dates(rows, "Date", "DateFrom", "DateTo")
        rows = _by_dates(rows, "ExpiryDate", "ExpiryDateFrom", "ExpiryDateTo")
    except QueryError as bad:
        return validation_error(str(bad))
    for param, field in (
        ("ContactID", ("Contact", "ContactID")),
        ("Status", ("Status",)),
        ("QuoteNumber", ("QuoteNumber",)),
    ):
        wanted = request.args.get(param)
        if wanted:
            rows = [r for r in rows if str(_dig(r, field)).lower() == wanted.lower()]
    return collection("Quotes", rows, PAGE_SIZE)


def purchase_orders(b: Books, record_id: str | None):
    rows = [purchase_order(b, p) for p in planning(b)["purchase_orders"]]
    if record_id:
        return one("PurchaseOrders", rows, ("PurchaseOrderID", "PurchaseOrderNumber"), record_id)
    try:
        rows = _by_dates(rows, "Date", "DateFrom", "DateTo")
    except QueryError as bad:
        return validation_error(str(bad))
    status = request.args.get("Status")
    if status:
        rows = [r for r in rows if r["Status"] == status.upper()]
    return collection("PurchaseOrders", rows, PAGE_SIZE, sizable=True)


def _dig(row: dict, path: tuple[str, ...]):
    for name in path:
        row = row.get(name, {}) if isinstance(row, dict) else {}
    return row


def _by_dates(rows: list[dict], field: str, first_param: str, last_param: str) -> list[dict]:
    first, last = _day_arg(first_param), _day_arg(last_param)
    if first is None and last is None:
        return rows
    low = _ms_of(first) if first else None
    high = _ms_of(last) if last else None
    return [r for r in rows if (low is None or _ms(r[field]) >= low) and (high is None or _ms(r[field]) <= high)]


def _ms_of(day: date) -> int:
    return ordinal_ms(day.toordinal())


def repeating_invoices(b: Books, record_id: str | None):
    rows = [repeating_invoice(b, t) for t in b.repeating_invoices]
    if record_id:
        return one("RepeatingInvoices", rows, ("RepeatingInvoiceID",), record_id)
    return collection("RepeatingInvoices", rows)


def budgets(b: Books, record_id: str | None):
    try:
        first, last = _day_arg("DateFrom"), _day_arg("DateTo")
    except QueryError as bad:
        return validation_error(str(bad))
    first = first.replace(day=1) if first else None
    rows = [budget(b, x, first, last) for x in planning(b)["budgets"]]
    if record_id:
        return one("Budgets", rows, ("BudgetID",), record_id)
    ids = {i.strip().lower() for i in request.args.get("IDs", "").split(",") if i.strip()}
    if ids:
        rows = [r for r in rows if r["BudgetID"] in ids]
    g.rows = len(rows)
    return json_response(envelope("Budgets", rows))


def contact_groups(b: Books, record_id: str | None):
    groups = planning(b)["contact_groups"]
    rows = [contact_group(b, i, group, with_contacts=record_id is not None) for i, group in enumerate(groups)]
    if record_id:
        return one("ContactGroups", rows, ("ContactGroupID",), record_id)
    return collection("ContactGroups", rows)


def branding_themes(b: Books, record_id: str | None):
    rows = [branding_theme(b, i) for i in range(len(BRANDING_THEMES))]
    if record_id:
        return one("BrandingThemes", rows, ("BrandingThemeID",), record_id)
    g.rows = len(rows)
    return json_response(envelope("BrandingThemes", rows))


def none_of(key: str):
    """A collection this organisation has no records of (Xero answers an empty list; by id, 404)."""

    def handler(b: Books, record_id: str | None):
        if record_id:
            return not_found()
        return collection(key, [])

    return handler


# History and Attachments -------------------------------------------------------------------

HISTORY_STREAMS = {
    "invoices": "invoices",
    "creditnotes": "credit_notes",
    "payments": "payments",
    "overpayments": "overpayments",
    "prepayments": "prepayments",
    "banktransactions": "bank_transactions",
    "banktransfers": "bank_transfers",
    "manualjournals": "manual_journals",
    "contacts": "contacts",
    "items": "items",
}
ATTACHMENT_PARENTS = {
    "accounts",
    "banktransactions",
    "banktransfers",
    "contacts",
    "creditnotes",
    "invoices",
    "manualjournals",
    "purchaseorders",
    "quotes",
    "receipts",
    "repeatinginvoices",
}
PLANNING_KEYS = {"quotes": "Quotes", "purchaseorders": "PurchaseOrders", "repeatinginvoices": "RepeatingInvoices"}
DONE = {"VOIDED": "Voided", "DELETED": "Deleted", "PAID": "Paid", "ARCHIVED": "Archived"}


def find_record(b: Books, parent: str, record_id: str):
    """The record behind /{parent}/{id}/..., or None."""
    if parent in HISTORY_STREAMS:
        stream = HISTORY_STREAMS[parent]
        idx = b.record_index(stream, record_id)
        return None if idx is None else getattr(b, stream)[idx]
    if parent == "accounts":
        wanted = record_id.lower()
        return next((i for i in range(len(shapes.CHART)) if b.account_id(i) == wanted), None)
    if parent == "repeatinginvoices":
        idx = b.record_index("repeating_invoices", record_id)
        return None if idx is None else b.repeating_invoices[idx]
    if parent in ("quotes", "purchaseorders"):
        stream = "quotes" if parent == "quotes" else "purchase_orders"
        records = planning(b)[stream]
        return next((r for r in records if b.record_id(stream, r.idx) == record_id.lower()), None)
    return None


def history(parent: str):
    def handler(b: Books, record_id: str):
        record = find_record(b, parent, record_id)
        if record is None:
            return not_found()
        stamp = getattr(record, "updated_ms", 0) or getattr(record, "created_ms", 0)
        created = ordinal_ms(record.date) + 9 * 3_600_000 if hasattr(record, "date") else stamp
        created = min(created, stamp)
        key = STREAMS[parent].key if parent in STREAMS else PLANNING_KEYS[parent]
        rows = [_history_row("Created", created, f"{record_type(key)} created")]
        status = getattr(record, "status", "")
        if status in DONE:
            rows.append(_history_row(DONE[status], stamp, f"{DONE[status]} in Xero"))
        g.rows = len(rows)
        return json_response(envelope("HistoryRecords", rows))

    return handler


def _history_row(change: str, ms: int, details: str) -> dict:
    return {
        "Changes": change,
        "DateUTCString": shapes.utc_string(ms),
        "DateUTC": shapes.ms_date(ms),
        "User": "System Generated",
        "Details": details,
    }


def attachments(parent: str):
    def handler(b: Books, record_id: str, name: str | None = None):
        if find_record(b, parent, record_id) is None or name is not None:
            return not_found()  # no document in the generated books has attachments
        g.rows = 0
        return json_response(envelope("Attachments", []))

    return handler


# small settings ----------------------------------------------------------------------------


def online_invoice(b: Books, record_id: str):
    idx = b.record_index("invoices", record_id)
    if idx is None:
        return not_found()
    d = b.invoices[idx]
    if d.type != "ACCREC" or d.status in ("DRAFT", "SUBMITTED", "DELETED", "VOIDED"):
        return validation_error("Online invoices are only available for approved sales invoices")
    url = f"https://in.xero.com/{b.record_id('invoices', idx).replace('-', '')[:22]}"
    return json_response(envelope("OnlineInvoices", [{"OnlineInvoiceUrl": url}]))


ORGANISATION_ACTIONS = (
    "UseMulticurrency",
    "CreateApprovedInvoice",
    "CreateApprovedBill",
    "CreateApprovedPayment",
    "CreateApprovedPurchaseOrder",
    "CreateApprovedQuote",
    "CreateApprovedCreditNote",
    "CreateApprovedManualJournal",
    "CreateApprovedBankTransaction",
    "CreateApprovedExpenseClaim",
    "AttachFiles",
)


def organisation_actions(b: Books):
    # the sandbox is read-only: every action that writes is NOT-ALLOWED for the app
    rows = [{"Name": name, "Status": "NOT-ALLOWED"} for name in ORGANISATION_ACTIONS]
    return json_response(envelope("Actions", rows))


def invoice_reminders(b: Books):
    return json_response(envelope("InvoiceReminders", [{"Enabled": False}]))


def payment_services(b: Books):
    return json_response(envelope("PaymentServices", []))


# routing -----------------------------------------------------------------------------------

COLLECTIONS = {
    "quotes": ("quotes", quotes),
    "purchaseorders": ("purchaseorders", purchase_orders),
    "repeatinginvoices": ("repeatinginvoices", repeating_invoices),
    "budgets": ("budgets", budgets),
    "contactgroups": ("contactgroups", contact_groups),
    "brandingthemes": ("brandingthemes", branding_themes),
    "linkedtransactions": ("linkedtransactions", none_of("LinkedTransactions")),
    "receipts": ("receipts", none_of("Receipts")),
    "expenseclaims": ("expenseclaims", none_of("ExpenseClaims")),
    "batchpayments": ("batchpayments", none_of("BatchPayments")),
}


def route(parts: list[str]):
    """(scope endpoint, handler(books)) for a path this module serves, else None."""
    name = parts[0].lower()
    rest = [p.lower() for p in parts[2:]]
    if name in COLLECTIONS and len(parts) <= 2:
        endpoint, handler = COLLECTIONS[name]
        record_id = parts[1] if len(parts) == 2 else None
        return endpoint, lambda books: handler(books, record_id)
    if len(parts) == 3 and rest == ["history"] and (name in HISTORY_STREAMS or name in PLANNING_KEYS):
        return name, lambda books: history(name)(books, parts[1])
    if len(parts) == 3 and rest == ["history"] and name in COLLECTIONS:
        return COLLECTIONS[name][0], lambda books: not_found()
    if len(parts) in (3, 4) and rest[:1] == ["attachments"] and name in ATTACHMENT_PARENTS:
        file_name = parts[3] if len(parts) == 4 else None
        return "attachments", lambda books: attachments(name)(books, parts[1], file_name)
    if name == "invoices" and len(parts) == 3 and rest == ["onlineinvoice"]:
        return "invoices", lambda books: online_invoice(books, parts[1])
    if name == "organisation" and len(parts) == 2 and parts[1].lower() == "actions":
        return "organisation", organisation_actions
    if name == "invoicereminders" and len(parts) == 2 and parts[1].lower() == "settings":
        return "organisation", invoice_reminders
    if name == "paymentservices" and len(parts) == 1:
        return "paymentservices", payment_services
    if name == "brandingthemes" and len(parts) == 3 and rest == ["paymentservices"]:
        return "paymentservices", payment_services
    return None
