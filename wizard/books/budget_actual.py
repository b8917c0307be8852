"""Budget against actual by month for one of the organisation's budgets, with the overall
budget's lines reconciled account by account and month by month against Xero's own
BudgetSummary report (synced as a report; it covers the overall budget only).

Amounts are integer cents with the P&L's signs: income and costs positive, net = income - costs.
Actuals come from the synced tracked lines for a tracking budget, else from Xero's P&L report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from wizard.books.ledger import _payloads, _report, _rows, cents, monthly_pnl
from wizard.books.ledger import chart_of_accounts as synced_chart
from wizard.books.tracking_pnl import last_months, month_span, tagged_amounts

INCOME_TYPES = {"REVENUE", "SALES", "OTHERINCOME"}


@dataclass
class BudgetChoice:
    budget_id: str
    description: str
    kind: str  # OVERALL | TRACKING
    tracking: tuple[str, str] | None  # (category id, option id) of a tracking budget


@dataclass
class MonthLine:
    month: str
    budget_income: int
    budget_costs: int
    actual_income: int | None
    actual_costs: int | None

    @property
    def budget_net(self) -> int:
        return self.budget_income - self.budget_costs

    @property
    def actual_net(self) -> int | None:
        if self.actual_income is None or self.actual_costs is None:
            return None
        return self.actual_income - self.actual_costs

    @property
    def variance(self) -> int | None:
        return None if self.actual_net is None else self.actual_net - self.budget_net


@dataclass
class BudgetDifference:
    account: str
    month: str
    ours: int
    xero: int


@dataclass
class BudgetVsActual:
    budget: BudgetChoice
    months: list[MonthLine]
    checked: int = 0  # budget cells compared with Xero's BudgetSummary
    summary_period: str = ""  # "" when no BudgetSummary was synced or the budget is not the overall one
    differences: list[BudgetDifference] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return self.checked > 0 and not self.differences


def budgets(connection_id: int) -> list[BudgetChoice]:
    out = []
    for b in _payloads(connection_id, "Budgets"):
        tag = (b.get("Tracking") or [None])[0]
        tracking = (tag.get("TrackingCategoryID", ""), tag.get("TrackingOptionID", "")) if tag else None
        out.append(BudgetChoice(b.get("BudgetID", ""), b.get("Description", ""), b.get("Type", ""), tracking))
    return sorted(out, key=lambda b: (b.kind != "OVERALL", b.description))


def _budget_payload(connection_id: int, budget_id: str) -> dict:
    return next((b for b in _payloads(connection_id, "Budgets") if b.get("BudgetID") == budget_id), {})


def budget_cells(connection_id: int, budget_id: str) -> dict[tuple[str, str], int]:
    """(account id, "YYYY-MM") -> budgeted cents."""
    cells = {}
    for line in _budget_payload(connection_id, budget_id).get("BudgetLines") or []:
        for balance in line.get("BudgetBalances") or []:
            cells[(line.get("AccountID", ""), balance.get("Period", "")[:7])] = cents(balance.get("Amount"))
    return cells


def _actuals(connection_id: int, choice: BudgetChoice, months: list[str], today: date):
    """month -> (income, costs) actual cents, or None where Xero's data is missing."""
    if choice.tracking is None:
        pnl = monthly_pnl(connection_id)
        found = {m: (i, e) for m, i, e in zip(pnl.months, pnl.income, pnl.expenses, strict=False)}
        return {m: found.get(m) for m in months}
    _category_id, option_id = choice.tracking
    out = {m: [0, 0] for m in months}
    first, last = month_span(months, today)
    for day, _option, amount, account_type in tagged_amounts(connection_id, [option_id], first, last):
        key = f"{day.year}-{day.month:02d}"
        if key in out:
            if account_type in INCOME_TYPES:
                out[key][0] += amount
            else:
                out[key][1] -= amount
    return {m: tuple(v) for m, v in out.items()}


def budget_vs_actual(connection_id: int, budget_id: str, today: date) -> BudgetVsActual | None:
    choice = next((b for b in budgets(connection_id) if b.budget_id == budget_id), None)
    if choice is None:
        return None
    kinds = {a.account_id: a.type for a in synced_chart(connection_id)}
    cells = budget_cells(connection_id, budget_id)
    months = last_months(today)
    actual = _actuals(connection_id, choice, months, today)
    lines = []
    for month in months:
        income = sum(v for (a, m), v in cells.items() if m == month and kinds.get(a) in INCOME_TYPES)
        costs = sum(v for (a, m), v in cells.items() if m == month and kinds.get(a) not in INCOME_TYPES)
        found = actual.get(month)
        lines.append(MonthLine(month, income, costs, *(found if found else (None, None))))
    result = BudgetVsActual(choice, lines)
    if choice.kind == "OVERALL":
        _reconcile_summary(connection_id, cells, result)
    return result


def _reconcile_summary(connection_id: int, cells: dict[tuple[str, str], int], result: BudgetVsActual) -> None:
    """Every account x month cell of Xero's latest BudgetSummary against the synced budget."""
    reports = _report(connection_id, "BudgetSummary")
    if not reports:
        return
    latest = reports[-1]
    body = json.loads(latest.payload)
    rows = body.get("Rows") or []
    header: dict[str, Any] = next((r for r in rows if r.get("RowType") == "Header"), {"Cells": []})
    months = [_month_key(c.get("Value", "")) for c in header["Cells"][1:]]
    names = {a.account_id: f"{a.name} ({a.code})" for a in synced_chart(connection_id)}
    result.summary_period = latest.period
    seen = set()
    for row in _rows(rows):
        if row.get("RowType") != "Row":
            continue
        account_id = next(
            (
                a.get("Value", "")
                for a in (row.get("Cells") or [{}])[0].get("Attributes") or []
                if a.get("Id") == "account"
            ),
            "",
        )
        if not account_id:
            continue
        for month, value in zip(months, row.get("Cells", [])[1:], strict=False):
            ours, theirs = cells.get((account_id, month), 0), cents(value.get("Value"))
            seen.add((account_id, month))
            result.checked += 1
            if ours != theirs:
                result.differences.append(BudgetDifference(names.get(account_id, account_id), month, ours, theirs))
    for (account_id, month), ours in cells.items():
        if month in months and (account_id, month) not in seen and ours:
            result.differences.append(BudgetDifference(names.get(account_id, account_id), month, ours, 0))


def _month_key(label: str) -> str:
    """BudgetSummary's "May-26" -> "2026-05"."""
    try:
        moment = datetime.strptime(label, "%b-%y")
    except ValueError:
        return label
    return f"{moment.year}-{moment.month:02d}"
