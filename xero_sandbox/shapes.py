"""Xero JSON shapes (field names per xero_accounting.yaml) built per record on demand.

Shapes are plain dicts except for small shared pieces (a contact reference, a tracking list)
handed out as pre-serialised `orjson.Fragment`s; serialise with orjson. The accounting
handlers keep each record's serialised JSON in `Books.fragments`, so the functions here run
once per record version (and are written to be cheap on that cold path).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import cast

import orjson

from .data import (
    BANKS,
    CHART,
    DAY_MS,
    EPOCH_ORDINAL,
    ITEM_NAMES,
    LINE_WORDS,
    TRACKING,
    Books,
    ordinal_ms,
)
from .fragments import compact

_Fragment = orjson.Fragment
_dumps = orjson.dumps


def ms_date(ms: int) -> str:
    """MS .NET JSON date: /Date(1539993600000+0000)/."""
    return f"/Date({ms}+0000)/"


@lru_cache(maxsize=8192)
def day_date(ordinal: int) -> str:
    return f"/Date({ordinal_ms(ordinal)}+0000)/"


@lru_cache(maxsize=8192)
def day_string(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat() + "T00:00:00"


@lru_cache(maxsize=8192)
def _day_iso(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


def utc_string(ms: int) -> str:
    """Epoch ms as 2026-05-15T09:00:00 (UTC, whole seconds)."""
    day, rest = divmod(ms, DAY_MS)
    secs = rest // 1000
    return f"{_day_iso(EPOCH_ORDINAL + day)}T{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"


def money(cents: int) -> float:
    return cents / 100


def account_ref(b: Books, idx: int) -> dict:
    a = CHART[idx]
    return {"AccountID": b.account_id(idx), "Code": a.code, "Name": b.account_name(idx)}


def account(b: Books, idx: int) -> dict:
    a = CHART[idx]
    out = {
        "AccountID": b.account_id(idx),
        "Code": a.code,
        "Name": b.account_name(idx),
        "Status": a.status,
        "Type": a.type,
        "TaxType": b.tax_type_for(idx),
        "Class": a.klass,
        "EnablePaymentsToAccount": False,
        "ShowInExpenseClaims": a.klass == "EXPENSE",
        "ReportingCode": a.klass[:3],
        "ReportingCodeName": a.klass.title(),
        "HasAttachments": False,
        "UpdatedDateUTC": ms_date(b.created_ms),
        "AddToWatchlist": False,
        "Description": f"{b.account_name(idx)} ({a.klass.lower()})",
    }
    if a.type == "BANK":
        out.update(BankAccountNumber=a.bank_number, BankAccountType="BANK", CurrencyCode=b.profile.currency)
    if a.system:
        out["SystemAccount"] = a.system
    return out


def contact_ref(b: Books, idx: int) -> orjson.Fragment:
    """The contact as a document shows it, serialised once per contact (and again if renamed)."""
    name = b.contacts[idx].name
    refs = b.contact_refs
    hit = refs.get(idx)
    if hit is not None and hit[0] == name:
        return hit[1]
    fragment = _Fragment(
        compact(
            _dumps(
                {
                    "ContactID": b.record_id("contacts", idx),
                    "Name": name,
                    "Addresses": [],
                    "Phones": [],
                    "ContactGroups": [],
                    "ContactPersons": [],
                    "HasValidationErrors": False,
                }
            )
        )
    )
    refs[idx] = (name, fragment)
    return fragment


def contact(b: Books, c, summary: bool = False) -> dict:
    out = {
        "ContactID": b.record_id("contacts", c.idx),
        "ContactNumber": c.number,
        "ContactStatus": c.status,
        "Name": c.name,
        "FirstName": c.first,
        "LastName": c.last,
        "EmailAddress": c.email,
        "BankAccountDetails": "",
        "IsSupplier": c.supplier,
        "IsCustomer": c.customer,
        "DefaultCurrency": b.profile.currency,
        "UpdatedDateUTC": ms_date(c.updated_ms),
        "HasAttachments": False,
        "HasValidationErrors": False,
    }
    if summary:
        return out
    out.update(
        Addresses=[
            {"AddressType": "STREET", "City": "", "Region": "", "PostalCode": "", "Country": ""},
            {
                "AddressType": "POBOX",
                "AddressLine1": f"PO Box {c.idx + 100}",
                "City": c.city,
                "Region": "",
                "PostalCode": f"{1000 + c.idx % 8000}",
                "Country": "",
            },
        ],
        Phones=[
            {
                "PhoneType": "DEFAULT",
                "PhoneNumber": c.phone.split(" ")[1],
                "PhoneAreaCode": c.phone.split(" ")[0],
                "PhoneCountryCode": "",
            },
            {"PhoneType": "MOBILE", "PhoneNumber": "", "PhoneAreaCode": "", "PhoneCountryCode": ""},
        ],
        ContactGroups=[],
        ContactPersons=[],
    )
    return out


def tracking(b: Books, tags: tuple[int, int]) -> orjson.Fragment:
    """A line's tracking list from its (Region, Department) options (-1: none), serialised once
    per organisation and pair."""
    cached = b.tracking_json
    hit = cast("orjson.Fragment | None", cached.get(tags))
    if hit is None:
        hit = cached[tags] = _Fragment(compact(_dumps(tracking_rows(b, tags))))
    return hit


def tracking_rows(b: Books, tags) -> list[dict]:
    rows = []
    for category, option in enumerate(tags):
        if option >= 0:
            name, options = TRACKING[category]
            rows.append(
                {
                    "Name": name,
                    "Option": options[option],
                    "TrackingCategoryID": b.tracking_ids(category),
                    "TrackingOptionID": b.tracking_ids(category, option),
                }
            )
    return rows


def line_items(b: Books, rec, stream: str) -> list[dict]:
    out = []
    base = rec.idx * 4
    head = b.id_head(f"lines:{stream}")
    parts = b.account_parts
    tags = b.line_tracking(stream, rec)
    for n, (acct, item, qty, unit, net, tax, desc, _option) in enumerate(rec.lines):
        tax_type, code, account_id = parts[acct]
        line = {
            "Description": ITEM_NAMES[item % len(ITEM_NAMES)] if item >= 0 else LINE_WORDS[desc],
            "UnitAmount": unit / 100,
            "TaxType": tax_type,
            "TaxAmount": tax / 100,
            "LineAmount": net / 100,
            "AccountCode": code,
            "AccountID": account_id,
            "Tracking": tracking(b, tags[n]),
            "Quantity": float(qty),
            "LineItemID": f"{head}{base + n:012x}",
        }
        if item >= 0:
            it = b.items[item]
            line["ItemCode"] = it.code
            line["Item"] = {"ItemID": b.record_id("items", item), "Name": it.name, "Code": it.code}
        out.append(line)
    return out


def payment_ref(b: Books, idx: int) -> dict:
    p = b.payments[idx]
    return {
        "PaymentID": b.record_id("payments", idx),
        "Date": day_date(p.date),
        "Amount": p.amount / 100,
        "Reference": p.reference,
        "CurrencyRate": 1.0,
        "HasAccount": False,
        "HasValidationErrors": False,
    }


def invoice(b: Books, d, summary: bool = False, with_lines: bool = True) -> dict:
    status, total, updated = d.status, d.total, d.updated_ms
    due = total - d.paid if status in ("AUTHORISED", "PAID") else total if status in ("DRAFT", "SUBMITTED") else 0
    out = {
        "Type": d.type,
        "InvoiceID": f"{b.id_head('invoices')}{d.idx:012x}",
        "InvoiceNumber": d.number,
        "Reference": d.reference,
        "AmountDue": due / 100,
        "AmountPaid": d.paid / 100,
        "AmountCredited": 0.0,
        "CurrencyRate": 1.0,
        "IsDiscounted": False,
        "HasAttachments": False,
        "HasErrors": False,
        "Contact": contact_ref(b, d.contact),
        "DateString": day_string(d.date),
        "Date": day_date(d.date),
        "DueDateString": day_string(d.due),
        "DueDate": day_date(d.due),
        "Status": status,
        "LineAmountTypes": d.line_types,
        "SubTotal": d.sub / 100,
        "TotalTax": d.tax / 100,
        "Total": total / 100,
        "UpdatedDateUTC": f"/Date({updated}+0000)/",
        "UpdatedDateUTCString": utc_string(updated),
        "CurrencyCode": b.profile.currency,
    }
    if d.fully_paid is not None:
        out["FullyPaidOnDate"] = day_date(d.fully_paid)
    if d.repeating >= 0:
        out["RepeatingInvoiceID"] = b.record_id("repeating_invoices", d.repeating)
    if summary:
        return out
    out["SentToContact"] = d.type == "ACCREC" and status != "DRAFT"
    out["Payments"] = [payment_ref(b, p) for p in d.payments] if d.payments else []
    out["CreditNotes"] = []
    out["Prepayments"] = []
    out["Overpayments"] = []
    if with_lines:
        out["LineItems"] = line_items(b, d, "invoices")
    return out


def credit_note(b: Books, d) -> dict:
    remaining = d.total if d.status == "AUTHORISED" else 0
    return {
        "CreditNoteID": b.record_id("credit_notes", d.idx),
        "CreditNoteNumber": d.number,
        "Type": d.type,
        "Reference": d.reference,
        "Contact": contact_ref(b, d.contact),
        "DateString": day_string(d.date),
        "Date": day_date(d.date),
        "DueDateString": day_string(d.due),
        "DueDate": day_date(d.due),
        "Status": d.status,
        "LineAmountTypes": d.line_types,
        "LineItems": line_items(b, d, "credit_notes"),
        "SubTotal": money(d.sub),
        "TotalTax": money(d.tax),
        "Total": money(d.total),
        "UpdatedDateUTC": ms_date(d.updated_ms),
        "UpdatedDateUTCString": utc_string(d.updated_ms),
        "CurrencyCode": b.profile.currency,
        "CurrencyRate": 1.0,
        "RemainingCredit": money(remaining),
        "Allocations": [],
        "Payments": [],
        "AppliedAmount": 0.0,
        "SentToContact": False,
        "HasAttachments": False,
        "HasErrors": False,
    }


def over_or_prepayment(b: Books, d, stream: str) -> dict:
    key = "OverpaymentID" if stream == "overpayments" else "PrepaymentID"
    out = {
        key: b.record_id(stream, d.idx),
        "Type": d.type,
        "Contact": contact_ref(b, d.contact),
        "DateString": day_string(d.date),
        "Date": day_date(d.date),
        "Status": d.status,
        "LineAmountTypes": d.line_types,
        "LineItems": line_items(b, d, stream),
        "SubTotal": money(d.sub),
        "TotalTax": money(d.tax),
        "Total": money(d.total),
        "UpdatedDateUTC": ms_date(d.updated_ms),
        "UpdatedDateUTCString": utc_string(d.updated_ms),
        "CurrencyCode": b.profile.currency,
        "CurrencyRate": 1.0,
        "RemainingCredit": money(d.total if d.status == "AUTHORISED" else 0),
        "Allocations": [],
        "Payments": [],
        "AppliedAmount": 0.0,
        "HasAttachments": False,
        "Reference": d.reference,
    }
    return out


def payment(b: Books, p) -> dict:
    inv = b.invoices[p.invoice]
    return {
        "PaymentID": b.record_id("payments", p.idx),
        "Date": day_date(p.date),
        "BankAmount": money(p.amount),
        "Amount": money(p.amount),
        "Reference": p.reference,
        "CurrencyRate": 1.0,
        "PaymentType": "ACCRECPAYMENT" if inv.type == "ACCREC" else "ACCPAYPAYMENT",
        "Status": p.status,
        "UpdatedDateUTC": ms_date(p.updated_ms),
        "UpdatedDateUTCString": utc_string(p.updated_ms),
        "HasAccount": True,
        "IsReconciled": p.idx % 3 != 0,
        "Account": account_ref(b, p.bank),
        "Invoice": {
            "Type": inv.type,
            "InvoiceID": b.record_id("invoices", inv.idx),
            "InvoiceNumber": inv.number,
            "Contact": contact_ref(b, inv.contact),
            "CurrencyCode": b.profile.currency,
            "Payments": [],
            "CreditNotes": [],
            "Prepayments": [],
            "Overpayments": [],
            "HasErrors": False,
            "IsDiscounted": False,
            "LineItems": [],
        },
        "HasValidationErrors": False,
    }


def bank_transaction(b: Books, d) -> dict:
    return {
        "BankTransactionID": b.record_id("bank_transactions", d.idx),
        "Type": d.type,
        "Contact": contact_ref(b, d.contact),
        "LineItems": line_items(b, d, "bank_transactions"),
        "BankAccount": account_ref(b, d.bank),
        "IsReconciled": d.idx % 4 != 0,
        "DateString": day_string(d.date),
        "Date": day_date(d.date),
        "Reference": d.reference,
        "CurrencyCode": b.profile.currency,
        "CurrencyRate": 1.0,
        "Status": d.status,
        "LineAmountTypes": d.line_types,
        "SubTotal": money(d.sub),
        "TotalTax": money(d.tax),
        "Total": money(d.total),
        "UpdatedDateUTC": ms_date(d.updated_ms),
        "HasAttachments": False,
    }


def bank_transfer(b: Books, t) -> dict:
    return {
        "BankTransferID": b.record_id("bank_transfers", t.idx),
        "CreatedDateUTCString": utc_string(t.created_ms),
        "CreatedDateUTC": ms_date(t.created_ms),
        "DateString": day_string(t.date),
        "Date": day_date(t.date),
        "FromBankAccount": account_ref(b, t.source),
        "ToBankAccount": account_ref(b, t.target),
        "Amount": money(t.amount),
        "FromBankTransactionID": b.record_id("bank_transfers", t.idx + (1 << 40)),
        "ToBankTransactionID": b.record_id("bank_transfers", t.idx + (2 << 40)),
        "FromIsReconciled": True,
        "ToIsReconciled": True,
        "Reference": t.reference,
        "CurrencyRate": 1.0,
        "HasAttachments": False,
        "Status": t.status,
    }


def manual_journal(b: Books, m) -> dict:
    return {
        "ManualJournalID": b.record_id("manual_journals", m.idx),
        "Date": day_date(m.date),
        "DateString": day_string(m.date),
        "Status": m.status,
        "LineAmountTypes": "NoTax",
        "UpdatedDateUTC": ms_date(m.updated_ms),
        "Narration": m.narration,
        "JournalLines": [
            {
                "Description": desc,
                "TaxType": b.profile.no_tax_type,
                "LineAmount": money(amount),
                "AccountCode": CHART[acct].code,
                "AccountID": b.account_id(acct),
                "Tracking": tracking(b, tags),
                "TaxAmount": 0.0,
                "IsBlank": False,
            }
            for (acct, amount, desc), tags in zip(m.lines, b.line_tracking("manual_journals", m), strict=True)
        ],
        "ShowOnCashBasisReports": True,
        "HasAttachments": False,
    }


SOURCE_TYPES = {
    "invoices": {"ACCREC": "ACCREC", "ACCPAY": "ACCPAY"},
    "credit_notes": {"ACCRECCREDIT": "ACCRECCREDIT", "ACCPAYCREDIT": "ACCPAYCREDIT"},
    "overpayments": {"RECEIVE-OVERPAYMENT": "AROVERPAYMENT", "SPEND-OVERPAYMENT": "APOVERPAYMENT"},
    "prepayments": {"RECEIVE-PREPAYMENT": "ARPREPAYMENT", "SPEND-PREPAYMENT": "APPREPAYMENT"},
    "bank_transactions": {"RECEIVE": "CASHREC", "SPEND": "CASHPAID"},
}


def journal(b: Books, number: int, cash: bool = False) -> dict:
    """Journal number N (1-based), lines derived from its source record; `cash`: as Xero's
    cash-basis journals (paymentsOnly=true) post it, see Books.cash_postings."""
    stream, idx, sign, ordinal, created_ms = b.journals[number - 1]
    rec = getattr(b, stream)[idx]
    if stream == "payments":
        source_type = "ACCRECPAYMENT" if b.invoices[rec.invoice].type == "ACCREC" else "ACCPAYPAYMENT"
    elif stream == "bank_transfers":
        source_type = "TRANSFER"
    elif stream == "manual_journals":
        source_type = "MANJOURNAL"
    else:
        source_type = SOURCE_TYPES[stream][rec.type]
    lines = []
    postings, tags = b.cash_postings(stream, rec) if cash else (b.postings(stream, rec), b.line_tracking(stream, rec))
    for n, (acct, net, tax, tax_type) in enumerate(postings):
        a = CHART[acct]
        line = {
            "JournalLineID": b.record_id("journals", (number << 6) + n + (1 << 44)),
            "AccountID": b.account_id(acct),
            "AccountCode": a.code,
            "AccountType": a.type,
            "AccountName": b.account_name(acct),
            "Description": "",
            "NetAmount": money(sign * net),
            "GrossAmount": money(sign * (net + tax)),
            "TaxAmount": money(sign * tax),
            "TrackingCategories": tracking_rows(b, tags[n]) if n < len(tags) else [],
        }
        if tax_type:
            line["TaxType"] = tax_type
            line["TaxName"] = tax_name(b, tax_type)
        lines.append(line)
    reference = getattr(rec, "number", "") or getattr(rec, "reference", "") or getattr(rec, "narration", "")
    return {
        "JournalID": b.record_id("journals", number),
        "JournalDate": day_date(ordinal),
        "JournalNumber": number,
        "CreatedDateUTC": ms_date(created_ms),
        "Reference": reference,
        "SourceID": b.record_id(stream, idx),
        "SourceType": source_type,
        "JournalLines": lines,
    }


def tax_name(b: Books, tax_type: str) -> str:
    for name, code, _rate, *_ in tax_rate_rows(b):
        if code == tax_type:
            return name
    return tax_type


def tax_rate_rows(b: Books) -> list[tuple]:
    p = b.profile
    pct = p.rate_bp / 100
    label = p.tax_label
    return [
        (f"{label} on Income", p.sales_tax_type, pct, "OUTPUT", True),
        (f"{label} on Expenses", p.purchase_tax_type, pct, "INPUT", True),
        (f"No {label}", p.no_tax_type, 0.0, "NONE", True),
        (f"Zero Rated {label}", "ZERORATEDOUTPUT" if p.country != "AU" else "EXEMPTOUTPUT", 0.0, "OUTPUT", True),
    ]


def tax_rate(b: Books, row: tuple) -> dict:
    name, code, pct, report, _active = row
    return {
        "Name": name,
        "TaxType": code,
        "ReportTaxType": report,
        "CanApplyToAssets": True,
        "CanApplyToEquity": True,
        "CanApplyToExpenses": True,
        "CanApplyToLiabilities": True,
        "CanApplyToRevenue": True,
        "DisplayTaxRate": pct,
        "EffectiveRate": pct,
        "Status": "ACTIVE",
        "TaxComponents": [{"Name": name.split(" on ")[0], "Rate": pct, "IsCompound": False, "IsNonRecoverable": False}],
    }


def item(b: Books, it) -> dict:
    return {
        "ItemID": b.record_id("items", it.idx),
        "Code": it.code,
        "Name": it.name,
        "Description": it.name,
        "PurchaseDescription": it.name,
        "IsSold": True,
        "IsPurchased": True,
        "IsTrackedAsInventory": False,
        "UpdatedDateUTC": ms_date(it.updated_ms),
        "SalesDetails": {"UnitPrice": money(it.sale_cents), "AccountCode": "200", "TaxType": b.profile.sales_tax_type},
        "PurchaseDetails": {
            "UnitPrice": money(it.buy_cents),
            "AccountCode": "310",
            "TaxType": b.profile.purchase_tax_type,
        },
    }


def tracking_categories(b: Books, include_archived: bool) -> list[dict]:
    out = []
    for ci, (name, options) in enumerate(TRACKING):
        opts = []
        for oi, option in enumerate(options):
            status = "ARCHIVED" if option.endswith("(old)") else "ACTIVE"
            if status == "ARCHIVED" and not include_archived:
                continue
            opts.append(
                {
                    "TrackingOptionID": b.tracking_ids(ci, oi),
                    "Name": option,
                    "Status": status,
                    "HasValidationErrors": False,
                    "IsDeleted": False,
                    "IsArchived": status == "ARCHIVED",
                    "IsActive": status == "ACTIVE",
                }
            )
        out.append({"TrackingCategoryID": b.tracking_ids(ci), "Name": name, "Status": "ACTIVE", "Options": opts})
    return out


def organisation(b: Books) -> dict:
    p = b.profile
    return {
        "OrganisationID": b.tenant_id,
        "APIKey": b.tenant_id.replace("-", "")[:30].upper(),
        "Name": p.name,
        "LegalName": p.legal_name,
        "PaysTax": True,
        "Version": p.country if p.country != "GB" else "UK",
        "OrganisationType": "COMPANY",
        "BaseCurrency": p.currency,
        "CountryCode": p.country,
        "IsDemoCompany": p.is_demo,
        "OrganisationStatus": "ACTIVE",
        "RegistrationNumber": "",
        "TaxNumber": str(int(b.tenant_id.replace("-", ""), 16))[:9],
        "FinancialYearEndDay": p.fy_end_day,
        "FinancialYearEndMonth": p.fy_end_month,
        "SalesTaxBasis": "INVOICE" if p.country != "GB" else "ACCRUALS",
        "SalesTaxPeriod": "TWOMONTHS" if p.country == "NZ" else "QUARTERLY",
        "DefaultSalesTax": "Tax Exclusive",
        "DefaultPurchasesTax": "Tax Exclusive",
        "CreatedDateUTC": ms_date(b.created_ms),
        "OrganisationEntityType": "COMPANY",
        "Timezone": p.timezone,
        "ShortCode": p.short_code,
        "Edition": "BUSINESS",
        "Class": "DEMO" if p.is_demo else "STANDARD",
        "LineOfBusiness": p.line_of_business,
        "Addresses": [],
        "Phones": [],
        "ExternalLinks": [],
        "PaymentTerms": {},
    }


def currencies(b: Books) -> list[dict]:
    names = {
        "NZD": "New Zealand Dollar",
        "AUD": "Australian Dollar",
        "GBP": "British Pound",
        "USD": "United States Dollar",
    }
    return [{"Code": b.profile.currency, "Description": names[b.profile.currency]}]


def bank_accounts(b: Books) -> tuple[int, ...]:
    return BANKS
