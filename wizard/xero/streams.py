"""What to copy from Xero, as data: one row per stream (xero-platform.md §3.2, §3.3, §3.5).

Paging styles: "none" (one call returns everything), "page" (`page` + `pageSize`, up to 1000
per page where Xero supports `pageSize`, 100 otherwise), "offset" (Journals: `offset` = the last
JournalNumber, 100 per call), "report" (a fixed list of report calls, see `report_calls`).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Stream:
    name: str  # our name, also the Accounting API resource
    collection: str  # key of the list in Xero's envelope
    key: str  # immutable Xero id field: upsert key and stable sort order
    paging: str  # "none" | "page" | "offset" | "report"
    scopes: tuple[str, ...]  # any one of these grants read access (granular or broad)
    modified_since: bool = True
    updated_field: str = "UpdatedDateUTC"
    page_size: int = 0  # records per call when paged (1000 with pageSize, else Xero's fixed 100)
    params: dict[str, str] = field(default_factory=dict)
    status_field: str = "Status"
    optional_note: str = ""  # shown when the stream is skipped for lack of a scope
    report: str = ""  # the Xero report a "report" stream calls, when it is not the stream's name

    @property
    def resource(self) -> str:
        return self.name

    @property
    def report_resource(self) -> str:
        return f"Reports/{self.report or self.name}"

    @property
    def is_report(self) -> bool:
        return self.paging == "report"

    def granted(self, scopes: set[str]) -> bool:
        """Granted by any listed scope, or by its write variant (a write scope implies read)."""
        return any(s in scopes or s.removesuffix(".read") in scopes for s in self.scopes)


SETTINGS = ("accounting.settings.read",)
CONTACTS = ("accounting.contacts.read",)
INVOICES = ("accounting.invoices.read", "accounting.transactions.read")
PAYMENTS = ("accounting.payments.read", "accounting.transactions.read")
BANKING = ("accounting.banktransactions.read", "accounting.transactions.read")
MANUAL = ("accounting.manualjournals.read", "accounting.transactions.read")
ITEMS = ("accounting.settings.read", "accounting.invoices.read", "accounting.transactions.read")
JOURNALS = ("accounting.journals.read",)
PNL = ("accounting.reports.profitandloss.read", "accounting.reports.read")
BALANCE = ("accounting.reports.balancesheet.read", "accounting.reports.read")
TRIAL = ("accounting.reports.trialbalance.read", "accounting.reports.read")
BUDGETS = ("accounting.budgets.read",)
BUDGET_SUMMARY = ("accounting.reports.budgetsummary.read", "accounting.reports.read")
TRACKED_PNL = "ProfitAndLossByTracking"

MAX_PAGE_SIZE = 1000
ARCHIVED = {"includeArchived": "true"}

STREAMS: tuple[Stream, ...] = (
    Stream(
        "Organisation",
        "Organisations",
        "OrganisationID",
        "none",
        SETTINGS,
        modified_since=False,
        status_field="OrganisationStatus",
    ),
    Stream("Accounts", "Accounts", "AccountID", "none", SETTINGS),
    Stream(
        "TrackingCategories",
        "TrackingCategories",
        "TrackingCategoryID",
        "none",
        SETTINGS,
        modified_since=False,
        params=ARCHIVED,
    ),
    Stream("TaxRates", "TaxRates", "TaxType", "none", SETTINGS, modified_since=False),
    Stream("Currencies", "Currencies", "Code", "none", SETTINGS, modified_since=False),
    Stream("Users", "Users", "UserID", "none", SETTINGS),
    Stream("ContactGroups", "ContactGroups", "ContactGroupID", "none", CONTACTS, modified_since=False),
    Stream("Items", "Items", "ItemID", "none", ITEMS),
    Stream(
        "Contacts",
        "Contacts",
        "ContactID",
        "page",
        CONTACTS,
        page_size=MAX_PAGE_SIZE,
        params=ARCHIVED,
        status_field="ContactStatus",
    ),
    Stream("Invoices", "Invoices", "InvoiceID", "page", INVOICES, page_size=MAX_PAGE_SIZE, params=ARCHIVED),
    Stream("CreditNotes", "CreditNotes", "CreditNoteID", "page", INVOICES, page_size=MAX_PAGE_SIZE),
    # Xero's Quotes take `page` only (100 a page); PurchaseOrders take `pageSize`; neither list
    # takes If-Modified-Since for RepeatingInvoices or Budgets, which come whole in one call.
    Stream("Quotes", "Quotes", "QuoteID", "page", INVOICES, page_size=100),
    Stream("PurchaseOrders", "PurchaseOrders", "PurchaseOrderID", "page", INVOICES, page_size=MAX_PAGE_SIZE),
    Stream("RepeatingInvoices", "RepeatingInvoices", "RepeatingInvoiceID", "none", INVOICES, modified_since=False),
    Stream("Payments", "Payments", "PaymentID", "page", PAYMENTS, page_size=MAX_PAGE_SIZE),
    Stream("Overpayments", "Overpayments", "OverpaymentID", "page", PAYMENTS, page_size=MAX_PAGE_SIZE),
    Stream("Prepayments", "Prepayments", "PrepaymentID", "page", PAYMENTS, page_size=MAX_PAGE_SIZE),
    Stream("BankTransactions", "BankTransactions", "BankTransactionID", "page", BANKING, page_size=MAX_PAGE_SIZE),
    Stream("BankTransfers", "BankTransfers", "BankTransferID", "none", BANKING, updated_field="CreatedDateUTC"),
    Stream("ManualJournals", "ManualJournals", "ManualJournalID", "page", MANUAL, page_size=MAX_PAGE_SIZE),
    Stream(
        "Journals",
        "Journals",
        "JournalID",
        "offset",
        JOURNALS,
        page_size=100,
        updated_field="CreatedDateUTC",
        optional_note="Not synced: this Xero connection was not granted journals (accounting.journals.read).",
    ),
    Stream(
        "Budgets",
        "Budgets",
        "BudgetID",
        "none",
        BUDGETS,
        modified_since=False,
        optional_note="Not synced: this Xero connection was not granted budgets (accounting.budgets.read).",
    ),
    Stream("ProfitAndLoss", "Reports", "ReportID", "report", PNL, modified_since=False),
    Stream("BalanceSheet", "Reports", "ReportID", "report", BALANCE, modified_since=False),
    Stream("TrialBalance", "Reports", "ReportID", "report", TRIAL, modified_since=False),
    Stream(
        "BudgetSummary",
        "Reports",
        "ReportID",
        "report",
        BUDGET_SUMMARY,
        modified_since=False,
        optional_note="Not synced: this Xero connection was not granted the budget summary report.",
    ),
    # Xero's P&L run for each tracking option, a column per month (last 12): the option ids are
    # data, read from the TrackingCategories this run stored (no extra call), see tracked_report_calls.
    Stream(TRACKED_PNL, "Reports", "ReportID", "report", PNL, modified_since=False, report="ProfitAndLoss"),
)
STREAMS_BY_NAME = {s.name: s for s in STREAMS}

# Statuses that make a local row a tombstone (kept, marked, never deleted).
TOMBSTONE_STATUSES = {"DELETED", "VOIDED", "ARCHIVED", "GDPRREQUEST"}

REPORT_MONTHS = 24
MAX_REPORT_PERIODS = 11  # Xero: `periods` 1..11 comparison periods, i.e. 12 columns per call


def stream(name: str) -> Stream:
    return STREAMS_BY_NAME[name]


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _shift(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + months
    return index // 12, index % 12 + 1


def report_calls(report: str, today: date) -> list[tuple[str, dict[str, str]]]:
    """(period label, query) for each call a report needs; 24 months cost two calls."""
    if report == "TrialBalance":
        return [(today.isoformat(), {"date": today.isoformat()})]
    if report == "BudgetSummary":
        start = today.replace(day=1)
        return [(start.strftime("%Y-%m"), {"date": start.isoformat(), "periods": "12", "timeframe": "1"})]
    if report == TRACKED_PNL:
        return []  # depends on the organisation's tracking options: tracked_report_calls
    calls = []
    columns = MAX_REPORT_PERIODS + 1
    for block in range(REPORT_MONTHS // columns):
        year, month = _shift(today.year, today.month, -block * columns)
        end = month_end(year, month)
        query = {"periods": str(MAX_REPORT_PERIODS), "timeframe": "MONTH"}
        if report == "ProfitAndLoss":
            query.update(fromDate=end.replace(day=1).isoformat(), toDate=end.isoformat())
        else:
            query["date"] = end.isoformat()
        calls.append((end.strftime("%Y-%m"), query))
    return calls


def tracked_report_calls(categories: list[dict], today: date) -> list[tuple[str, dict[str, str]]]:
    """One Profit and Loss call per tracking option: this month and the 11 before it, a column per
    month (`periods`=11, `timeframe`=MONTH, filtered by `trackingCategoryID` + `trackingOptionID`),
    so every option is reconciled month by month. Period label "<option id>:<YYYY-MM of this month>"
    (the option id is unique across categories and keeps the label within the column's 80 characters)."""
    end = month_end(today.year, today.month)
    calls = []
    for category in categories:
        for option in category.get("Options") or []:
            query = {
                "fromDate": end.replace(day=1).isoformat(),
                "toDate": end.isoformat(),
                "periods": str(MAX_REPORT_PERIODS),
                "timeframe": "MONTH",
                "trackingCategoryID": category["TrackingCategoryID"],
                "trackingOptionID": option["TrackingOptionID"],
            }
            calls.append((f"{option['TrackingOptionID']}:{end.strftime('%Y-%m')}", query))
    return calls


def fixed_calls(streams: tuple[Stream, ...] = STREAMS, today: date | None = None) -> int:
    """Calls that do not depend on the number of records (single-call streams and reports)."""
    today = today or date.today()
    total = 0
    for s in streams:
        if s.paging == "none":
            total += 1
        elif s.is_report:
            total += len(report_calls(s.name, today))
    return total
