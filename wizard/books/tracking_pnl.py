"""Profit and loss by month for each option of a tracking category (e.g. by Department),
computed from the synced lines' tracking, and reconciled option by option against Xero's own
Profit and Loss report run with that tracking category (synced as ProfitAndLossByTracking).

Amounts are integer cents of net profit (income positive, costs negative).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from wizard.books.ledger import _Chart, _payloads, _rows
from wizard.books.ledger import chart_of_accounts as synced_chart
from wizard.books.postings import CREDIT_SIDE, DOCUMENT_STREAMS, POSTED, _day, cents
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
    """One option's 12-month net profit: ours from the synced lines, Xero's from its report."""

    name: str
    ours: int
    xero: int | None

    @property
    def difference(self) -> int | None:
        return None if self.xero is None else self.ours - self.xero


@dataclass
class TrackingPnl:
    category: Category
    months: list[str]  # "YYYY-MM", oldest first
    by_option: dict[str, list[int]]  # option name -> net profit per month
    checks: list[OptionCheck] = field(default_factory=list)
    xero_range: str = ""  # "YYYY-MM-DD to YYYY-MM-DD" of Xero's report, "" when none was synced

    @property
    def differences(self) -> list[OptionCheck]:
        return [c for c in self.checks if c.difference]

    @property
    def matches(self) -> bool:
        return bool(self.checks) and all(c.xero is not None for c in self.checks) and not self.differences


def categories(connection_id: int) -> list[Category]:
    out = []
    for c in _payloads(connection_id, "TrackingCategories"):
        options = [(o.get("TrackingOptionID", ""), o.get("Name", "")) for o in c.get("Options") or []]
        out.append(Category(c.get("TrackingCategoryID", ""), c.get("Name", ""), options))
    return sorted(out, key=lambda c: c.name)


def last_months(today: date, count: int = 12) -> list[str]:
    index = today.year * 12 + today.month - 1
    return [f"{(index - k) // 12}-{(index - k) % 12 + 1:02d}" for k in reversed(range(count))]


def tagged_postings(connection_id: int, category_id: str):
    """(day, option id, net profit cents, account type) for every posted P&L line tagged in the category."""
    chart = _Chart(synced_chart(connection_id))
    for stream in DOCUMENT_STREAMS:
        for doc in _payloads(connection_id, stream, live_only=True):
            if doc.get("Status") not in POSTED:
                continue
            sign = 1 if doc.get("Type") in CREDIT_SIDE else -1
            inclusive = doc.get("LineAmountTypes") == "Inclusive"
            day = _day(doc.get("Date"))
            for line in doc.get("LineItems") or []:
                net = cents(line.get("LineAmount")) - (cents(line.get("TaxAmount")) if inclusive else 0)
                yield from _tagged(chart, line, line.get("Tracking"), category_id, day, sign * net)
    for journal in _payloads(connection_id, "ManualJournals", live_only=True):
        if journal.get("Status") != "POSTED":
            continue
        day = _day(journal.get("Date"))
        for line in journal.get("JournalLines") or []:
            yield from _tagged(chart, line, line.get("Tracking"), category_id, day, -cents(line.get("LineAmount")))


def _tagged(chart: _Chart, line: dict, tracking, category_id: str, day, amount: int):
    account = chart.find(line)
    if account is None or account.type not in PL_TYPES or day is None:
        return
    for tag in tracking or []:
        if tag.get("TrackingCategoryID") == category_id:
            yield day, tag.get("TrackingOptionID", ""), amount, account.type


def xero_columns(connection_id: int, category_id: str) -> tuple[str, dict[str, int]]:
    """(date range, net profit per option name) from the latest synced report for the category."""
    report = db.session.scalar(
        select(XeroReport)
        .where(
            XeroReport.connection_id == connection_id,
            XeroReport.report == REPORT,
            XeroReport.period.like(f"{category_id}:%"),
        )
        .order_by(XeroReport.period.desc())
        .limit(1)
    )
    if report is None:
        return "", {}
    body = json.loads(report.payload)
    rows = body.get("Rows") or []
    header: dict[str, Any] = next((r for r in rows if r.get("RowType") == "Header"), {"Cells": []})
    labels = [c.get("Value", "") for c in header["Cells"][1:]]
    net = next((r for r in _rows(rows) if (r.get("Cells") or [{}])[0].get("Value") == "Net Profit"), None)
    values = [cents(c.get("Value")) for c in (net or {}).get("Cells", [])[1:]]
    titles = body.get("ReportTitles") or []
    return (titles[2] if len(titles) > 2 else ""), dict(zip(labels, values, strict=False))


def tracking_pnl(connection_id: int, category_id: str, today: date) -> TrackingPnl | None:
    """The category's P&L by month and option for the 12 months to `today`; None if unknown."""
    category = next((c for c in categories(connection_id) if c.category_id == category_id), None)
    if category is None:
        return None
    months = last_months(today)
    names = dict(category.options)
    grid: dict[str, list[int]] = defaultdict(lambda: [0] * len(months))
    position = {m: i for i, m in enumerate(months)}
    for day, option_id, amount, _type in tagged_postings(connection_id, category_id):
        slot = position.get(f"{day.year}-{day.month:02d}")
        if slot is not None and day <= today:
            grid[names.get(option_id, option_id)][slot] += amount
    by_option = {name: grid[name] for _id, name in category.options if name in grid or not name.endswith("(old)")}
    span, theirs = xero_columns(connection_id, category_id)
    result = TrackingPnl(category, months, by_option, xero_range=span)
    for name, values in by_option.items():
        result.checks.append(OptionCheck(name, sum(values), theirs.get(name) if theirs else None))
    return result
