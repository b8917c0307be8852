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

from .data import BANKS, CHART, TRACKING, Books
from .planning import budget_in, planning
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
    chosen = tracking_filter(b, args)
    titles = ["Profit & Loss", b.profile.name, f"{nice(start)} to {nice(end)}"]
    if chosen and any(option is None for option in chosen.values()):
        if args.get("periods"):
            raise ReportError("periods cannot be used with a tracking category's columns")
        return by_tracking_category(b, chosen, start, end, titles, today, now_ms)
    if not chosen:
        moves = [b.balances(s.toordinal(), e.toordinal()) for s, e in spans]
    else:
        options = {c: o for c, o in chosen.items() if o is not None}
        moves = [b.filtered_balances(options, s.toordinal(), e.toordinal()) for s, e in spans]
        titles.append(", ".join(f"{TRACKING[c][0]}: {TRACKING[c][1][o]}" for c, o in options.items()))
    rows = [{"RowType": "Header", "Cells": [cell("")] + [cell(short(e)) for _, e in spans]}]
    pl_sections(b, moves, rows)
    return envelope(b, "ProfitAndLoss", "Profit and Loss", titles, today, rows, now_ms)


def by_tracking_category(
    b: Books, chosen: dict[int, int | None], start: date, end: date, titles, today: date, now_ms: int
) -> dict:
    """Xero's P&L run with a tracking category whose option is not fixed: a column per option
    (with two categories, per combination of the first's and the second's options, a fixed option
    standing alone), then Unassigned and Total, over one date range. Total is every line the fixed
    options allow (the whole P&L when none is fixed); Unassigned is Total less the columns."""
    first, last = start.toordinal(), end.toordinal()
    choices = [[(c, o)] if o is not None else [(c, n) for n in range(len(TRACKING[c][1]))] for c, o in chosen.items()]
    combos: list[list[tuple[int, int]]] = [[]]
    for options in choices:
        combos = [[*combo, option] for combo in combos for option in options]
    columns = [b.filtered_balances(dict(combo), first, last) for combo in combos]
    fixed = {c: o for c, o in chosen.items() if o is not None}
    total = b.filtered_balances(fixed, first, last) if fixed else b.balances(first, last)
    unassigned = {a: v - sum(c.get(a, 0) for c in columns) for a, v in total.items()}
    labels = [", ".join(TRACKING[c][1][o] for c, o in combo) for combo in combos] + ["Unassigned", "Total"]
    rows = [{"RowType": "Header", "Cells": [cell("")] + [cell(label) for label in labels]}]
    pl_sections(b, [*columns, unassigned, total], rows)
    titles.append("By " + " and ".join(TRACKING[c][0] for c in chosen))
    return envelope(b, "ProfitAndLoss", "Profit and Loss", titles, today, rows, now_ms)


def tracking_filter(b: Books, args) -> dict[int, int | None]:
    """{category: option, or None for a column per option} from trackingCategoryID(2) and
    trackingOptionID(2), in the order given; {} when not filtered. An option names its category
    (trackingCategoryID may be left out); naming the same category twice is refused."""
    chosen: dict[int, int | None] = {}
    for suffix in ("", "2"):
        category_id = (args.get(f"trackingCategoryID{suffix}") or "").lower()
        option_id = (args.get(f"trackingOptionID{suffix}") or "").lower()
        if not category_id and not option_id:
            continue
        found = _tracking_ids(b, category_id, option_id)
        if found[0] in chosen:
            raise ReportError("trackingCategoryID2 must name a different tracking category from trackingCategoryID")
        chosen[found[0]] = found[1]
    return chosen


def _tracking_ids(b: Books, category_id: str, option_id: str) -> tuple[int, int | None]:
    if option_id:
        for category, (_name, options) in enumerate(TRACKING):
            for option in range(len(options)):
                if b.tracking_ids(category, option) == option_id and category_id in ("", b.tracking_ids(category)):
                    return category, option
        raise ReportError(f"Tracking option {option_id} was not found")
    found = next((c for c in range(len(TRACKING)) if b.tracking_ids(c) == category_id), None)
    if found is None:
        raise ReportError(f"Tracking category {category_id} was not found")
    return found, None


def pl_sections(b: Books, moves: list[dict[int, int]], rows: list) -> list[int]:
    """Income, cost of sales, gross profit, other income, expenses and net profit sections
    from per-column account movements (debit +); returns the net profit per column."""

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
    return net


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


def budget_summary(b: Books, args, today: date, now_ms: int) -> dict:
    """The overall budget by period from the month of `date`: `periods` columns (1-12, default
    12) of `timeframe` months (1, 3 or 12); the same sections as the Profit and Loss."""
    day = parse_day(args.get("date"), today).replace(day=1)
    try:
        count = int(args.get("periods") or 12)
        step = int(args.get("timeframe") or 1)
    except ValueError:
        raise ReportError("periods and timeframe must be numbers") from None
    if not 1 <= count <= 12 or step not in (1, 3, 12):
        raise ReportError("periods must be between 1 and 12 and timeframe 1, 3 or 12")
    overall = planning(b)["budgets"][0]
    starts = [shift_months(day, k * step) for k in range(count)]
    columns = [budget_in(overall, s, shift_months(s, step - 1, end_of_month=True)) for s in starts]
    # budgets hold P&L-signed amounts; the section builder reads ledger signs (income as credit)
    moves = [{a: (-v if CHART[a].type == "REVENUE" else v) for a, v in c.items()} for c in columns]
    rows = [{"RowType": "Header", "Cells": [cell("Account")] + [cell(s.strftime("%b-%y")) for s in starts]}]
    pl_sections(b, moves, rows)
    end = shift_months(starts[-1], step - 1, end_of_month=True)
    titles = ["Budget Summary", b.profile.name, f"{nice(starts[0])} to {nice(end)}", overall.description]
    return envelope(b, "BudgetSummary", "Budget Summary", titles, today, rows, now_ms)


def executive_summary(b: Books, args, today: date, now_ms: int) -> dict:
    """Cash, profitability and position for the month of `date` against the month before."""
    day = parse_day(args.get("date"), today)
    months = [(day.replace(day=1), shift_months(day, 0, end_of_month=True))]
    months.append((shift_months(months[0][0], -1), shift_months(months[0][0], -1, end_of_month=True)))
    figures = [_executive_figures(b, start, end) for start, end in months]
    rows = [
        {"RowType": "Header", "Cells": [cell("")] + [cell(s.strftime("%b %Y")) for s, _ in months] + [cell("Variance")]}
    ]
    for title, names in EXECUTIVE_SECTIONS:
        body = []
        for name in names:
            now_value, before = figures[0][name], figures[1][name]
            change = f"{(now_value - before) / abs(before) * 100:.0f}%" if before else ""
            body.append(
                {"RowType": "Row", "Cells": [cell(name), cell(fmt(now_value)), cell(fmt(before)), cell(change)]}
            )
        rows.append({"RowType": "Section", "Title": title, "Rows": body})
    titles = ["Executive Summary", b.profile.name, f"For the month of {day.strftime('%B %Y')}"]
    return envelope(b, "ExecutiveSummary", "Executive Summary", titles, today, rows, now_ms)


EXECUTIVE_SECTIONS = (
    ("Cash", ("Cash received", "Cash spent", "Cash surplus (deficit)", "Closing bank balance")),
    ("Profitability", ("Income", "Direct costs", "Gross profit (loss)", "Other Income", "Expenses", "Profit (loss)")),
    ("Balance Sheet", ("Debtors", "Creditors", "Net assets")),
)


def _executive_figures(b: Books, start: date, end: date) -> dict[str, int]:
    received = spent = 0
    for (acct, ordinal), (money_in, money_out) in b.flows.items():
        if acct in BANKS and start.toordinal() <= ordinal <= end.toordinal():
            received, spent = received + money_in, spent + money_out
    moves = b.balances(start.toordinal(), end.toordinal())
    closing = closing_balances(b, end)

    def total(types: set[str], sign: int, source: dict) -> int:
        return sum(sign * v for a, v in source.items() if CHART[a].type in types)

    income, direct = total({"REVENUE", "SALES"}, -1, moves), total({"DIRECTCOSTS"}, 1, moves)
    other, expenses = total({"OTHERINCOME"}, -1, moves), total({"EXPENSE", "OVERHEADS", "DEPRECIATN"}, 1, moves)
    assets = sum(v for a, v in closing.items() if CHART[a].klass == "ASSET")
    liabilities = -sum(v for a, v in closing.items() if CHART[a].klass == "LIABILITY")
    return {
        "Cash received": received,
        "Cash spent": spent,
        "Cash surplus (deficit)": received - spent,
        "Closing bank balance": sum(closing.get(a, 0) for a in BANKS),
        "Income": income,
        "Direct costs": direct,
        "Gross profit (loss)": income - direct,
        "Other Income": other,
        "Expenses": expenses,
        "Profit (loss)": income - direct + other - expenses,
        "Debtors": closing.get(next(i for i, a in enumerate(CHART) if a.system == "DEBTORS"), 0),
        "Creditors": -closing.get(next(i for i, a in enumerate(CHART) if a.system == "CREDITORS"), 0),
        "Net assets": assets - liabilities,
    }


def aged_by_contact(kind: str):
    """AgedReceivablesByContact (ACCREC) or AgedPayablesByContact (ACCPAY): the contact's
    invoices outstanding at `date` (paid = payments dated on or before it)."""
    title = "Aged Receivables By Contact" if kind == "ACCREC" else "Aged Payables By Contact"

    def report(b: Books, args, today: date, now_ms: int) -> dict:
        contact_id = (args.get("contactId") or args.get("contactID") or "").lower()
        contact = b.record_index("contacts", contact_id) if contact_id else None
        if contact is None:
            raise ReportError("contactId is required and must be one of the organisation's contacts")
        day = parse_day(args.get("date"), today)
        first = parse_day(args.get("fromDate"), date.min)
        last = parse_day(args.get("toDate"), day)
        header = ("Date", "Reference", "Due Date", "", "Total", "Paid", "Credited", "Due")
        rows = [{"RowType": "Header", "Cells": [cell(v) for v in header]}]
        body, totals = [], [0, 0, 0]
        for d in b.invoices:
            if d.contact != contact or d.type != kind or d.status not in ("AUTHORISED", "PAID"):
                continue
            if not (first.toordinal() <= d.date <= min(last, day).toordinal()):
                continue
            paid = sum(b.payments[p].amount for p in d.payments if b.payments[p].date <= day.toordinal())
            if d.total - paid <= 0:
                continue
            values = [d.total, paid, d.total - paid]
            totals = [t + v for t, v in zip(totals, values, strict=True)]
            when, due = date.fromordinal(d.date), date.fromordinal(d.due)
            cells = [cell(when.isoformat()), cell(d.number), cell(due.isoformat()), cell("")]
            cells += [cell(fmt(values[0])), cell(fmt(values[1])), cell("0.00"), cell(fmt(values[2]))]
            body.append({"RowType": "Row", "Cells": cells})
        summary = [cell("Total"), cell(""), cell(""), cell(""), cell(fmt(totals[0])), cell(fmt(totals[1]))]
        body.append({"RowType": "SummaryRow", "Cells": summary + [cell("0.00"), cell(fmt(totals[2]))]})
        rows.append({"RowType": "Section", "Title": "", "Rows": body})
        titles = [title.replace(" By Contact", ""), b.contacts[contact].name, b.profile.name, f"As at {nice(day)}"]
        report_id = title.replace(" ", "")
        return envelope(b, report_id, title, titles, today, rows, now_ms)

    return report


REPORTS = {
    "profitandloss": profit_and_loss,
    "balancesheet": balance_sheet,
    "trialbalance": trial_balance,
    "banksummary": bank_summary,
    "budgetsummary": budget_summary,
    "executivesummary": executive_summary,
    "agedreceivablesbycontact": aged_by_contact("ACCREC"),
    "agedpayablesbycontact": aged_by_contact("ACCPAY"),
}


def report_id() -> str:
    return str(uuid.uuid4())
