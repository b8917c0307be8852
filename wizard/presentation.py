"""Words for people: Xero scopes and data types in plain English, for templates."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flask import Flask, current_app
from markupsafe import Markup, escape
from sqlalchemy import select

from wizard.limit_pauses import limit_pause
from wizard.money import format_money, money_cell
from wizard.time_zones import zone_text

# What each scope we request lets us read, in the words a finance lead uses; identity scopes
# (openid, profile, email, offline_access) read no accounting data and are explained separately.
SCOPE_WORDS = {
    "accounting.settings.read": "Your organisation details, chart of accounts, tax rates and tracking categories",
    "accounting.contacts.read": "Contacts (customers and suppliers)",
    "accounting.invoices.read": "Invoices, bills, credit notes, quotes and purchase orders",
    "accounting.payments.read": "Payments, overpayments and prepayments",
    "accounting.banktransactions.read": "Bank transactions and transfers",
    "accounting.manualjournals.read": "Manual journals",
    "accounting.journals.read": "The general ledger journals",
    "accounting.reports.profitandloss.read": "Profit and loss report",
    "accounting.reports.balancesheet.read": "Balance sheet report",
    "accounting.reports.trialbalance.read": "Trial balance (to check our copy against Xero's)",
    "accounting.budgets.read": "Budgets",
    "accounting.reports.budgetsummary.read": "Budget summary report",
}
IDENTITY_SCOPES = {"openid", "profile", "email", "offline_access"}

STREAM_WORDS = {
    "Organisation": "Organisation details",
    "Accounts": "Chart of accounts",
    "TrackingCategories": "Tracking categories",
    "TaxRates": "Tax rates",
    "Currencies": "Currencies",
    "Users": "Xero users",
    "ContactGroups": "Contact groups",
    "Items": "Products and services",
    "Contacts": "Contacts",
    "Invoices": "Invoices and bills",
    "CreditNotes": "Credit notes",
    "Quotes": "Quotes",
    "PurchaseOrders": "Purchase orders",
    "RepeatingInvoices": "Repeating invoices",
    "Payments": "Payments",
    "Overpayments": "Overpayments",
    "Prepayments": "Prepayments",
    "BankTransactions": "Bank transactions",
    "BankTransfers": "Bank transfers",
    "ManualJournals": "Manual journals",
    "Journals": "General ledger journals",
    "Budgets": "Budgets",
    "ProfitAndLoss": "Profit and loss report",
    "BalanceSheet": "Balance sheet report",
    "TrialBalance": "Trial balance report",
    "BudgetSummary": "Budget summary report",
    "ProfitAndLossByTracking": "Profit and loss by tracking option",
}


def stream_label(stream: str) -> str:
    """A data type's name for people ("TrackingCategories" -> "Tracking categories")."""
    if stream in STREAM_WORDS:
        return STREAM_WORDS[stream]
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in stream).strip()
    return words[:1].upper() + words[1:]


def scope_phrases(scopes: str | None = None) -> list[str]:
    """What the scopes we request let us read, one phrase each, in the order requested."""
    requested = (scopes if scopes is not None else current_app.config["XERO_SCOPES"]).split()
    phrases = []
    for scope in requested:
        if scope in IDENTITY_SCOPES:
            continue
        phrase = SCOPE_WORDS.get(scope, scope)
        if phrase not in phrases:
            phrases.append(phrase)
    return phrases


def local_time(moment: datetime | None, fmt: str = "%d %b %Y %H:%M", empty: str = "Never") -> Markup:
    """A stored UTC time as <time>: written in the workspace's zone (UTC if unset), rewritten to the
    viewer's browser zone by static/js/wizard.js, the UTC value always on hover (title)."""
    if moment is None:
        return Markup(escape(empty))
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    text = zone_text(utc, fmt)
    iso = utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    # How much the script shows: a time of day, or a date and time, with seconds when we had them.
    style = ("datetime" if "%d" in fmt or "%Y" in fmt else "time") + ("-seconds" if "%S" in fmt else "")
    return Markup('<time datetime="{}" title="{}" data-local-time="{}">{}</time>').format(
        iso, f"{utc.strftime(fmt)} UTC", style, text
    )


def base_currency(connection_id: int) -> str:
    """The organisation's base currency from its synced Organisation record ("" before the first copy)."""
    from wizard.extensions import db
    from wizard.models import XeroRecord

    query = select(XeroRecord.payload).where(
        XeroRecord.connection_id == connection_id, XeroRecord.stream == "Organisation"
    )
    payload = db.session.scalars(query.limit(1)).first()
    return str(json.loads(payload).get("BaseCurrency") or "") if payload else ""


def register(app: Flask) -> None:
    """Make the helpers available to every template."""
    app.jinja_env.filters["stream_label"] = stream_label
    app.jinja_env.globals["scope_phrases"] = scope_phrases
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.globals["base_currency"] = base_currency
    app.jinja_env.globals["limit_pause"] = limit_pause
    app.jinja_env.globals["money_cell"] = money_cell
    app.jinja_env.filters["money"] = format_money
