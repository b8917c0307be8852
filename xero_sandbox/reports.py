"""ProfitAndLoss, BalanceSheet, TrialBalance and BankSummary computed from the books' ledger.

Conventions (sandbox, Xero-like): P&L income and expenses are shown positive; balance sheet
assets positive, liabilities and equity positive when in credit. Retained Earnings absorbs
the profit of earlier financial years; Current Year Earnings is this year's profit.
TrialBalance: Debit/Credit = movement in the month up to `date`; YTD Debit/YTD Credit =
closing balance at `date` (P&L accounts from the start of the financial year).
"""

from __future__ import annotations

import calendar
import uuid
from datetime import date
from typing import Any

from .data import BANKS, CHART, Books
from .shapes import ms_date

PL_TYPES = {"REVENUE", "SALES", "OTHERINCOME", "DIRECTCOSTS", "EXPENSE", "OVERHEADS", "DEPRECIATN"}
RETAINED = next(i for i, a in enumerate(CHART) if a.system == "RETAINEDEARNINGS")


class ReportError(ValueError):
    """A bad report parameter (answered with Xero's 400 ValidationException)."""


def parse_day(value: str | None, default: date) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise ReportError(f"Invalid date {value!r}") from None


def shift_months(day: date, months: int, end_of_month: bool = False) -> date:
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, last if end_of_month else min(day.day, last))


def fmt(cents: int) -> str:
    """Report cell values are strings laid out for display."""
    return f"{cents / 100:.2f}"


def nice(day: date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


def short(day: date) -> str:
    return f"{day.day} {day.strftime('%b %y')}"


def cell(value: str, account_id: str | None = None) -> dict:
    out: dict[str, Any] = {"Value": value}
    if account_id:
        out["Attributes"] = [{"Value": account_id, "Id": "account"}]
    return out


def account_label(b: Books, idx: int) -> str:
    return b.account_name(idx)


def envelope(
    b: Books, report_id: str, name: str, titles: list[str], report_date: date, rows: list, now_ms: int
) -> dict:
    return {
        "Reports": [
            {
                "ReportID": report_id,
                "ReportName": name,
                "ReportType": report_id,
                "ReportTitles": titles,
                "ReportDate": nice(report_date),
                "UpdatedDateUTC": ms_date(now_ms),
                "Fields": [],
                "Rows": rows,
            }
        ]
    }


def periods_arg(periods: str | None, timeframe: str | None) -> tuple[int, int]:
    try:
        count = int(periods) if periods else 0
    except ValueError:
        raise ReportError("periods must be a number") from None
    if not 0 <= count <= 11:
        raise ReportError("periods must be between 1 and 11")
    months = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}.get((timeframe or "MONTH").upper())
    if months is None:
        raise ReportError("timeframe must be MONTH, QUARTER or YEAR")
    return count, months


def profit_and_loss(b: Books, args, today: date, now_ms: int) -> dict:
    start = parse_day(args.get("fromDate"), today.replace(day=1))
    end = parse_day(args.get("toDate"), shift_months(today, 0, end_of_month=True))
    if end < start:
        raise ReportError("toDate must not be before fromDate")
    count, months = periods_arg(args.get("periods"), args.get("timeframe"))
    spans = [
        (shift_months(start, -k * months), shift_months(end, -k * months, end_of_month=_is_month_end(end)))
        for k in range(count + 1)
    ]
    moves = [b.balances(s.toordinal(), e.toordinal()) for s, e in spans]
    rows = [{"RowType": "Header", "Cells": [cell("")] + [cell(short(e)) for _, e in spans]}]

    def section(title: str, types: set[str], sign: int, total_title: str) -> list[int]:
        accounts = [i for i, a in enumerate(CHART) if a.type in types and any(m.get(i) for m in moves)]
        body = [
            {
                "RowType": "Row",
                "Cells": [cell(account_label(b, i), b.account_id(i))]
                + [cell(fmt(sign * m.get(i, 0)), b.account_id(i)) for m in moves],
            }
            for i in accounts
        ]
        totals = [sum(sign * m.get(i, 0) for i in accounts) for m in moves]
        body.append({"RowType": "SummaryRow", "Cells": [cell(total_title)] + [cell(fmt(t)) for t in totals]})
        rows.append({"RowType": "Section", "Title": title, "Rows": body})
        return totals

    income = section("Income", {"REVENUE", "SALES"}, -1, "Total Income")
    cost = section("Less Cost of Sales", {"DIRECTCOSTS"}, 1, "Total Cost of Sales")
    gross = [i - c for i, c in zip(income, cost, strict=False)]
    rows.append(
        {
            "RowType": "Section",
            "Title": "",
            "Rows": [{"RowType": "Row", "Cells": [cell("Gross Profit")] + [cell(fmt(g)) for g in gross]}],
        }
    )
    other = section("Plus Other Income", {"OTHERINCOME"}, -1, "Total Other Income")
    expenses = section("Less Operating Expenses", {"EXPENSE", "OVERHEADS", "DEPRECIATN"}, 1, "Total Operating Expenses")
    net = [g + o - e for g, o, e in zip(gross, other, expenses, strict=False)]
    rows.append(
        {
            "RowType": "Section",
            "Title": "",
            "Rows": [{"RowType": "Row", "Cells": [cell("Net Profit")] + [cell(fmt(n)) for n in net]}],
        }
    )
    titles = ["Profit & Loss", b.profile.name, f"{nice(start)} to {nice(end)}"]
    return envelope(b, "ProfitAndLoss", "Profit and Loss", titles, today, rows, now_ms)


def _is_month_end(day: date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


def closing_balances(b: Books, day: date) -> dict[int, int]:
    """Closing balance per account (debit +): P&L accounts from the financial year start;
    earlier years' profit moved into Retained Earnings."""
    end = day.toordinal()
    fy_start = b.financial_year_start(end)
    all_time = b.balances(None, end)
    this_year = b.balances(fy_start, end)
    out = {}
    prior_profit = 0
    for i, cents in all_time.items():
        if CHART[i].type in PL_TYPES:
            out[i] = this_year.get(i, 0)
            prior_profit += cents - this_year.get(i, 0)
        else:
            out[i] = cents
    out[RETAINED] = out.get(RETAINED, 0) + prior_profit
    return out


def balance_sheet(b: Books, args, today: date, now_ms: int) -> dict:
    day = parse_day(args.get("date"), shift_months(today, 0, end_of_month=True))
    count, months = periods_arg(args.get("periods"), args.get("timeframe"))
    days = [shift_months(day, -k * months, end_of_month=_is_month_end(day)) for k in range(count + 1)]
    closings = [closing_balances(b, d) for d in days]
    rows = [{"RowType": "Header", "Cells": [cell("")] + [cell(short(d)) for d in days]}]

    def section(title: str, types: set[str], sign: int, total_title: str) -> list[int]:
        accounts = [i for i, a in enumerate(CHART) if a.type in types and any(c.get(i) for c in closings)]
        body = [
            {
                "RowType": "Row",
                "Cells": [cell(account_label(b, i), b.account_id(i))]
                + [cell(fmt(sign * c.get(i, 0)), b.account_id(i)) for c in closings],
            }
            for i in accounts
        ]
        totals = [sum(sign * c.get(i, 0) for i in accounts) for c in closings]
        body.append({"RowType": "SummaryRow", "Cells": [cell(total_title)] + [cell(fmt(t)) for t in totals]})
        rows.append({"RowType": "Section", "Title": title, "Rows": body})
        return totals

    def line(title: str, values: list[int]) -> None:
        rows.append(
            {
                "RowType": "Section",
                "Title": "",
                "Rows": [{"RowType": "SummaryRow", "Cells": [cell(title)] + [cell(fmt(v)) for v in values]}],
            }
        )

    rows.append({"RowType": "Section", "Title": "Assets", "Rows": []})
    bank = section("Bank", {"BANK"}, 1, "Total Bank")
    current = section("Current Assets", {"CURRENT", "INVENTORY", "PREPAYMENT"}, 1, "Total Current Assets")
    fixed = section("Fixed Assets", {"FIXED", "NONCURRENT"}, 1, "Total Fixed Assets")
    assets = [x + y + z for x, y, z in zip(bank, current, fixed, strict=False)]
    line("Total Assets", assets)
    rows.append({"RowType": "Section", "Title": "Liabilities", "Rows": []})
    cur_liab = section("Current Liabilities", {"CURRLIAB", "LIABILITY"}, -1, "Total Current Liabilities")
    term = section("Non-current Liabilities", {"TERMLIAB"}, -1, "Total Non-current Liabilities")
    liabilities = [x + y for x, y in zip(cur_liab, term, strict=False)]
    line("Total Liabilities", liabilities)
    line("Net Assets", [a - li for a, li in zip(assets, liabilities, strict=False)])
    equity_accounts = [i for i, a in enumerate(CHART) if a.type == "EQUITY"]
    earnings = [-sum(v for i, v in c.items() if CHART[i].type in PL_TYPES) for c in closings]
    body = [{"RowType": "Row", "Cells": [cell("Current Year Earnings")] + [cell(fmt(e)) for e in earnings]}]
    for i in equity_accounts:
        if any(c.get(i) for c in closings):
            body.append(
                {
                    "RowType": "Row",
                    "Cells": [cell(account_label(b, i), b.account_id(i))]
                    + [cell(fmt(-c.get(i, 0)), b.account_id(i)) for c in closings],
                }
            )
    equity = [e - sum(c.get(i, 0) for i in equity_accounts) for e, c in zip(earnings, closings, strict=False)]
    body.append({"RowType": "SummaryRow", "Cells": [cell("Total Equity")] + [cell(fmt(t)) for t in equity]})
    rows.append({"RowType": "Section", "Title": "Equity", "Rows": body})
    titles = ["Balance Sheet", b.profile.name, f"As at {nice(day)}"]
    return envelope(b, "BalanceSheet", "Balance Sheet", titles, today, rows, now_ms)


def trial_balance(b: Books, args, today: date, now_ms: int) -> dict:
    day = parse_day(args.get("date"), today)
    month = b.balances(day.replace(day=1).toordinal(), day.toordinal())
    closing = closing_balances(b, day)
    rows = [
        {"RowType": "Header", "Cells": [cell(v) for v in ("Account", "Debit", "Credit", "YTD Debit", "YTD Credit")]}
    ]
    groups = (
        ("Revenue", "REVENUE"),
        ("Expenses", "EXPENSE"),
        ("Assets", "ASSET"),
        ("Liabilities", "LIABILITY"),
        ("Equity", "EQUITY"),
    )
    totals = [0, 0, 0, 0]
    for title, klass in groups:
        body = []
        for i, a in enumerate(CHART):
            if a.klass != klass or not (month.get(i) or closing.get(i)):
                continue
            m, c = month.get(i, 0), closing.get(i, 0)
            values = [max(m, 0), max(-m, 0), max(c, 0), max(-c, 0)]
            totals = [t + v for t, v in zip(totals, values, strict=False)]
            aid = b.account_id(i)
            body.append(
                {
                    "RowType": "Row",
                    "Cells": [cell(f"{b.account_name(i)} ({a.code})", aid)] + [cell(fmt(v), aid) for v in values],
                }
            )
        rows.append({"RowType": "Section", "Title": title, "Rows": body})
    rows.append(
        {
            "RowType": "Section",
            "Title": "",
            "Rows": [{"RowType": "SummaryRow", "Cells": [cell("Total")] + [cell(fmt(t)) for t in totals]}],
        }
    )
    titles = ["Trial Balance", b.profile.name, f"As at {nice(day)}"]
    return envelope(b, "TrialBalance", "Trial Balance", titles, today, rows, now_ms)


def bank_summary(b: Books, args, today: date, now_ms: int) -> dict:
    start = parse_day(args.get("fromDate"), today.replace(day=1))
    end = parse_day(args.get("toDate"), shift_months(today, 0, end_of_month=True))
    if end < start:
        raise ReportError("toDate must not be before fromDate")
    opening = b.balances(None, start.toordinal() - 1)
    rows = [
        {
            "RowType": "Header",
            "Cells": [
                cell(v) for v in ("Bank Accounts", "Opening Balance", "Cash Received", "Cash Spent", "Closing Balance")
            ],
        }
    ]
    body, totals = [], [0, 0, 0, 0]
    for acct in BANKS:
        received = spent = 0
        for (a, ordinal), (money_in, money_out) in b.flows.items():
            if a == acct and start.toordinal() <= ordinal <= end.toordinal():
                received += money_in
                spent += money_out
        first = opening.get(acct, 0)
        values = [first, received, spent, first + received - spent]
        totals = [t + v for t, v in zip(totals, values, strict=False)]
        aid = b.account_id(acct)
        body.append(
            {"RowType": "Row", "Cells": [cell(b.account_name(acct), aid)] + [cell(fmt(v), aid) for v in values]}
        )
    body.append({"RowType": "SummaryRow", "Cells": [cell("Total")] + [cell(fmt(t)) for t in totals]})
    rows.append({"RowType": "Section", "Title": "", "Rows": body})
    titles = ["Bank Summary", b.profile.name, f"From {nice(start)} to {nice(end)}"]
    return envelope(b, "BankSummary", "Bank Summary", titles, today, rows, now_ms)


REPORTS = {
    "profitandloss": profit_and_loss,
    "balancesheet": balance_sheet,
    "trialbalance": trial_balance,
    "banksummary": bank_summary,
}


def report_id() -> str:
    return str(uuid.uuid4())
