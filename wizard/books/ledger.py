"""What the synced books say: counts, chart of accounts, monthly P&L, and a reconciliation of
the trial balance computed from synced transactions against Xero's own TrialBalance report.

Amounts are integer cents, debit positive. The computed trial balance follows Xero's report:
balance-sheet accounts carry their all-time balance; profit-and-loss accounts start at the
financial year; earlier years' profit sits in the retained-earnings system account.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from wizard.extensions import db
from wizard.models import XeroRecord, XeroReport
from wizard.xero.api import parse_xero_date

PL_TYPES = {"REVENUE", "SALES", "OTHERINCOME", "DIRECTCOSTS", "EXPENSE", "OVERHEADS", "DEPRECIATN"}
CREDIT_SIDE = {"ACCREC", "ACCPAYCREDIT", "RECEIVE", "RECEIVE-OVERPAYMENT", "RECEIVE-PREPAYMENT"}
POSTED = {"AUTHORISED", "PAID", "POSTED"}
DOCUMENT_STREAMS = ("Invoices", "CreditNotes", "Overpayments", "Prepayments", "BankTransactions")


def cents(value: Any) -> int:
    try:
        return int((Decimal(str(value or 0)) * 100).to_integral_value())
    except InvalidOperation:
        return 0


@dataclass
class Account:
    account_id: str
    code: str
    name: str
    type: str
    klass: str
    status: str
    system: str = ""


@dataclass
class ReconciliationLine:
    account: Account | None
    label: str
    ours: int
    xero: int

    @property
    def difference(self) -> int:
        return self.ours - self.xero


@dataclass
class Reconciliation:
    as_at: str
    source: str  # "journals" or "transactions"
    lines: list[ReconciliationLine] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def differences(self) -> list[ReconciliationLine]:
        return [line for line in self.lines if line.difference]

    @property
    def matches(self) -> bool:
        return bool(self.lines) and not self.differences


def _payloads(connection_id: int, stream: str, *, live_only: bool = False) -> Iterator[dict[str, Any]]:
    query = select(XeroRecord.payload).where(XeroRecord.connection_id == connection_id, XeroRecord.stream == stream)
    if live_only:
        query = query.where(XeroRecord.tombstoned.is_(False))
    for (payload,) in db.session.execute(query.execution_options(yield_per=2000)):
        yield json.loads(payload)


def chart_of_accounts(connection_id: int) -> list[Account]:
    accounts = [
        Account(
            a.get("AccountID", ""),
            a.get("Code", ""),
            a.get("Name", ""),
            a.get("Type", ""),
            a.get("Class", ""),
            a.get("Status", ""),
            a.get("SystemAccount", ""),
        )
        for a in _payloads(connection_id, "Accounts")
    ]
    return sorted(accounts, key=lambda a: (a.code or "~", a.name))


def organisation(connection_id: int) -> dict[str, Any]:
    return next(_payloads(connection_id, "Organisation"), {})


def _day(value: Any) -> date | None:
    moment = parse_xero_date(value) if isinstance(value, str) else None
    return moment.date() if moment else None


class _Chart:
    def __init__(self, accounts: list[Account]) -> None:
        self.by_id = {a.account_id: a for a in accounts}
        self.by_code = {a.code: a for a in accounts if a.code}
        self.system = {a.system: a for a in accounts if a.system}
        banks = sorted((a for a in accounts if a.type == "BANK"), key=lambda a: a.code)
        self.default_bank = banks[0] if banks else None

    def find(self, ref: dict[str, Any] | None) -> Account | None:
        if not ref:
            return None
        return self.by_id.get(ref.get("AccountID", "")) or self.by_code.get(
            ref.get("Code") or ref.get("AccountCode", "")
        )


def _document_postings(
    stream: str, doc: dict[str, Any], chart: _Chart, notes: set[str]
) -> list[tuple[Account | None, int]]:
    kind = doc.get("Type", "")
    sign = -1 if kind in CREDIT_SIDE else 1
    inclusive = doc.get("LineAmountTypes") == "Inclusive"
    out = []
    for line in doc.get("LineItems") or []:
        net = cents(line.get("LineAmount")) - (cents(line.get("TaxAmount")) if inclusive else 0)
        out.append((chart.find(line), sign * net))
    tax = cents(doc.get("TotalTax"))
    if tax:
        out.append((chart.system.get("GST"), sign * tax))
    if stream in ("Invoices", "CreditNotes"):
        control = chart.system.get("DEBTORS" if kind in ("ACCREC", "ACCRECCREDIT") else "CREDITORS")
    else:
        control = chart.find(doc.get("BankAccount"))
        if control is None:
            control = chart.default_bank
            notes.add(f"{stream} carry no bank account in Xero's data; they are counted on the first bank account.")
    out.append((control, -sign * cents(doc.get("Total"))))
    return out


def _transaction_postings(
    connection_id: int, chart: _Chart, notes: set[str]
) -> Iterator[tuple[date | None, Account | None, int]]:
    for stream in DOCUMENT_STREAMS:
        for doc in _payloads(connection_id, stream, live_only=True):
            if doc.get("Status") not in POSTED:
                continue
            day = _day(doc.get("Date"))
            for account, amount in _document_postings(stream, doc, chart, notes):
                yield day, account, amount
    for payment in _payloads(connection_id, "Payments", live_only=True):
        if payment.get("Status") != "AUTHORISED":
            continue
        day, amount = _day(payment.get("Date")), cents(payment.get("Amount"))
        bank = chart.find(payment.get("Account"))
        if (payment.get("Invoice") or {}).get("Type") == "ACCPAY" or payment.get("PaymentType") == "ACCPAYPAYMENT":
            yield day, chart.system.get("CREDITORS"), amount
            yield day, bank, -amount
        else:
            yield day, bank, amount
            yield day, chart.system.get("DEBTORS"), -amount
    for transfer in _payloads(connection_id, "BankTransfers", live_only=True):
        day, amount = _day(transfer.get("Date")), cents(transfer.get("Amount"))
        yield day, chart.find(transfer.get("ToBankAccount")), amount
        yield day, chart.find(transfer.get("FromBankAccount")), -amount
    for journal in _payloads(connection_id, "ManualJournals", live_only=True):
        if journal.get("Status") != "POSTED":
            continue
        day = _day(journal.get("Date"))
        for line in journal.get("JournalLines") or []:
            yield day, chart.find(line), cents(line.get("LineAmount"))


def _journal_postings(connection_id: int, chart: _Chart) -> Iterator[tuple[date | None, Account | None, int]]:
    for journal in _payloads(connection_id, "Journals"):
        day = _day(journal.get("JournalDate"))
        for line in journal.get("JournalLines") or []:
            yield day, chart.find(line), cents(line.get("NetAmount"))


def _financial_year_start(org: dict[str, Any], as_at: date) -> date:
    month, day = int(org.get("FinancialYearEndMonth") or 12), int(org.get("FinancialYearEndDay") or 31)
    end_this_year = date(as_at.year, month, day)
    year = as_at.year if as_at > end_this_year else as_at.year - 1
    return date.fromordinal(date(year, month, day).toordinal() + 1)


def computed_trial_balance(connection_id: int, as_at: date) -> tuple[dict[str, int], str, list[str]]:
    """Closing balance per account id at `as_at`, from journals when synced, else from documents."""
    accounts = chart_of_accounts(connection_id)
    chart, notes = _Chart(accounts), set[str]()
    has_journals = (
        db.session.scalar(
            select(XeroRecord.id)
            .where(XeroRecord.connection_id == connection_id, XeroRecord.stream == "Journals")
            .limit(1)
        )
        is not None
    )
    postings = (
        _journal_postings(connection_id, chart) if has_journals else _transaction_postings(connection_id, chart, notes)
    )
    fy_start = _financial_year_start(organisation(connection_id), as_at)
    retained = chart.system.get("RETAINEDEARNINGS")
    balances: dict[str, int] = defaultdict(int)
    for day, account, amount in postings:
        if account is None or day is None or day > as_at:
            continue
        if account.type in PL_TYPES and day < fy_start and retained is not None:
            account = retained
        balances[account.account_id] += amount
    return dict(balances), "journals" if has_journals else "transactions", sorted(notes)


def _report(connection_id: int, name: str) -> list[XeroReport]:
    return list(
        db.session.scalars(
            select(XeroReport)
            .where(XeroReport.connection_id == connection_id, XeroReport.report == name)
            .order_by(XeroReport.period)
        )
    )


def _rows(rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for row in rows:
        if row.get("RowType") == "Section":
            yield from _rows(row.get("Rows") or [])
        else:
            yield row


def _account_of(row: dict[str, Any]) -> str:
    for cell in row.get("Cells") or []:
        for attribute in cell.get("Attributes") or []:
            if attribute.get("Id") == "account":
                return attribute.get("Value", "")
    return ""


def xero_trial_balance(connection_id: int) -> tuple[str, dict[str, int], dict[str, str]]:
    """(as-at period, balance per account id, label per account id) from Xero's TrialBalance."""
    reports = _report(connection_id, "TrialBalance")
    if not reports:
        return "", {}, {}
    latest = reports[-1]
    balances, labels = {}, {}
    for row in _rows(json.loads(latest.payload).get("Rows") or []):
        account_id = _account_of(row)
        cells = row.get("Cells") or []
        if row.get("RowType") != "Row" or not account_id or len(cells) < 5:
            continue
        balances[account_id] = cents(cells[3].get("Value")) - cents(cells[4].get("Value"))
        labels[account_id] = cells[0].get("Value", "")
    return latest.period, balances, labels


def reconcile(connection_id: int) -> Reconciliation | None:
    """Account by account: our trial balance next to Xero's; None before a TrialBalance is synced."""
    period, theirs, labels = xero_trial_balance(connection_id)
    if not period:
        return None
    ours, source, notes = computed_trial_balance(connection_id, date.fromisoformat(period))
    chart = {a.account_id: a for a in chart_of_accounts(connection_id)}
    result = Reconciliation(as_at=period, source=source, notes=notes)
    for account_id in sorted(set(ours) | set(theirs), key=lambda i: (chart[i].code if i in chart else "~", i)):
        if not ours.get(account_id) and not theirs.get(account_id):
            continue
        account = chart.get(account_id)
        label = labels.get(account_id) or (f"{account.name} ({account.code})" if account else account_id)
        result.lines.append(ReconciliationLine(account, label, ours.get(account_id, 0), theirs.get(account_id, 0)))
    return result


@dataclass
class MonthlyPnl:
    months: list[str]  # "YYYY-MM", oldest first
    income: list[int]
    expenses: list[int]
    net: list[int]


def monthly_pnl(connection_id: int) -> MonthlyPnl:
    """Income, expenses and net profit per month from Xero's ProfitAndLoss reports."""
    by_month: dict[str, dict[str, int]] = {}
    for report in _report(connection_id, "ProfitAndLoss"):
        body = json.loads(report.payload)
        rows = body.get("Rows") or []
        header = next((r for r in rows if r.get("RowType") == "Header"), None)
        if header is None:
            continue
        labels = [c.get("Value", "") for c in header.get("Cells", [])[1:]]
        months = _month_keys(report.period, len(labels))
        totals = {
            "income": [0] * len(labels),
            "cost": [0] * len(labels),
            "expenses": [0] * len(labels),
            "other": [0] * len(labels),
        }
        for section in rows:
            title = (section.get("Title") or "").lower()
            key = (
                "income"
                if title == "income"
                else "cost"
                if "cost of sales" in title
                else "other"
                if "other income" in title
                else "expenses"
                if "expenses" in title
                else None
            )
            if key is None:
                continue
            for row in section.get("Rows") or []:
                if row.get("RowType") == "SummaryRow":
                    values = [cents(c.get("Value")) for c in row.get("Cells", [])[1:]]
                    totals[key] = values[: len(labels)] + [0] * (len(labels) - len(values))
        for i, month in enumerate(months):
            by_month[month] = {
                "income": totals["income"][i] + totals["other"][i],
                "expenses": totals["cost"][i] + totals["expenses"][i],
            }
    months = sorted(by_month)
    income = [by_month[m]["income"] for m in months]
    expenses = [by_month[m]["expenses"] for m in months]
    return MonthlyPnl(months, income, expenses, [i - e for i, e in zip(income, expenses, strict=True)])


def _month_keys(period: str, columns: int) -> list[str]:
    """Report columns run newest first from the report's month backwards."""
    year, month = (int(p) for p in period.split("-")[:2])
    keys = []
    for k in range(columns):
        index = year * 12 + month - 1 - k
        keys.append(f"{index // 12:04d}-{index % 12 + 1:02d}")
    return keys
