"""Profit and loss by month for each option of a tracking category (e.g. by Department),
read from the books totals kept per tracking option, and reconciled option by option and month by
month against Xero's own Profit and Loss run for that option (synced as ProfitAndLossByTracking).

Amounts are integer cents of net profit (income positive, costs negative).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from wizard.books import postings, totals
from wizard.books.ledger import _Chart, _payloads, _rows
from wizard.books.ledger import chart_of_accounts as synced_chart
from wizard.books.postings import cents
from wizard.extensions import db
from wizard.models import XeroReport

PL_TYPES = {"REVENUE", "SALES", "OTHERINCOME", "DIRECTCOSTS", "EXPENSE", "OVERHEADS", "DEPRECIATN"}
REPORT = "ProfitAndLossByTracking"


@dataclass
class Category:
    category_id: str
    name: str
    options: list[tuple[str, str]]  # (option id, name)


@dataclass
class OptionCheck:
    """One option's net profit per month: ours from the synced lines, Xero's from its Profit and
    Loss run for that option (None for a month Xero's synced report does not cover)."""

    name: str
    ours: list[int]
    xero: list[int | None]

    @property
    def differences(self) -> list[int | None]:
        """Ours minus Xero's per month; None where Xero's figure is missing."""
        return [None if x is None else o - x for o, x in zip(self.ours, self.xero, strict=True)]

    @property
    def differing_months(self) -> int:
        return sum(1 for d in self.differences if d)

    @property
    def complete(self) -> bool:
        return all(x is not None for x in self.xero)

    @property
    def total(self) -> int:
        return sum(self.ours)


@dataclass
class TrackingPnl:
    category: Category
    months: list[str]  # "YYYY-MM", oldest first
    checks: list[OptionCheck] = field(default_factory=list)
    xero_month: str = ""  # "YYYY-MM" of the newest synced per-option reports, "" when none was synced

    @property
    def differences(self) -> list[OptionCheck]:
        return [c for c in self.checks if c.differing_months]

    @property
    def differing_cells(self) -> int:
        return sum(c.differing_months for c in self.checks)

    @property
    def matches(self) -> bool:
        return bool(self.checks) and all(c.complete for c in self.checks) and not self.differences


def categories(connection_id: int) -> list[Category]:
    out = []
    for c in _payloads(connection_id, "TrackingCategories"):
        options = [(o.get("TrackingOptionID", ""), o.get("Name", "")) for o in c.get("Options") or []]
        out.append(Category(c.get("TrackingCategoryID", ""), c.get("Name", ""), options))
    return sorted(out, key=lambda c: c.name)


def last_months(today: date, count: int = 12) -> list[str]:
    index = today.year * 12 + today.month - 1
    return [f"{(index - k) // 12}-{(index - k) % 12 + 1:02d}" for k in reversed(range(count))]


def tagged_amounts(connection_id: int, option_ids: list[str], first: date, last: date):
    """(day, option id, net profit cents, account type) of the posted P&L lines tagged with the
    options between two days, read from the books totals (per option, kept as pages are
    committed: wizard/books/totals.py), never from the records; a month before this one comes
    summed under its first day."""
    chart = _Chart(synced_chart(connection_id))
    for option_id, ref, day, amount in totals.tracked(connection_id, option_ids, first, last):
        account = postings.resolve(ref, chart).account
        if account is not None and account.type in PL_TYPES:
            yield day, option_id, -amount, account.type  # debit positive -> profit positive


def month_span(months: list[str], today: date) -> tuple[date, date]:
    """The first day of the first month and `today`."""
    year, month = (int(part) for part in months[0].split("-"))
    return date(year, month, 1), today


def xero_months(connection_id: int, option_id: str) -> tuple[str, dict[str, int]]:
    """(YYYY-MM of the newest column, net profit per month) from the latest synced Profit and
    Loss run for one tracking option. Its columns are months, newest first (Xero's `periods`)."""
    report = db.session.scalar(
        select(XeroReport)
        .where(
            XeroReport.connection_id == connection_id,
            XeroReport.report == REPORT,
            XeroReport.period.like(f"{option_id}:%"),
        )
        .order_by(XeroReport.period.desc())
        .limit(1)
    )
    if report is None:
        return "", {}
    newest = report.period.rsplit(":", 1)[1]
    year, month = (int(part) for part in newest.split("-"))
    rows = json.loads(report.payload).get("Rows") or []
    net = next((r for r in _rows(rows) if (r.get("Cells") or [{}])[0].get("Value") == "Net Profit"), None)
    values = [cents(c.get("Value")) for c in (net or {}).get("Cells", [])[1:]]
    out = {}
    for back, value in enumerate(values):
        index = year * 12 + month - 1 - back
        out[f"{index // 12}-{index % 12 + 1:02d}"] = value
    return newest, out


def tracking_pnl(connection_id: int, category_id: str, today: date) -> TrackingPnl | None:
    """The category's P&L by month and option for the 12 months to `today`, each month of each
    option checked against Xero's P&L run for that option; None if the category is unknown."""
    category = next((c for c in categories(connection_id) if c.category_id == category_id), None)
    if category is None:
        return None
    months = last_months(today)
    grid: dict[str, list[int]] = defaultdict(lambda: [0] * len(months))
    position = {m: i for i, m in enumerate(months)}
    first, last = month_span(months, today)
    for day, option_id, amount, _type in tagged_amounts(connection_id, [o for o, _n in category.options], first, last):
        slot = position.get(f"{day.year}-{day.month:02d}")
        if slot is not None:
            grid[option_id][slot] += amount
    result = TrackingPnl(category, months)
    for option_id, name in category.options:
        newest, theirs = xero_months(connection_id, option_id)
        if option_id not in grid and name.endswith("(old)") and not any(theirs.values()):
            continue  # an archived option with nothing in the 12 months
        result.xero_month = max(result.xero_month, newest)
        result.checks.append(OptionCheck(name, grid[option_id], [theirs.get(m) for m in months]))
    return result
