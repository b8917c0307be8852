"""Records derived from the generated books on first use: quotes and purchase orders (most of
which became the books' invoices and bills), budgets (overall and per Department option, with
monthly lines), contact groups and branding themes.

They post nothing to the ledger, so deriving them never changes the journals or the reports
computed from them; each is rebuilt when the records it derives from change in number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from .data import CHART, DAY_MS, OFFER_PREFIX, TRACKING, Books, ordinal_ms

PL_TYPES = {"REVENUE", "DIRECTCOSTS", "EXPENSE"}
BUDGET_DEPARTMENT = 1  # the tracking category budgets are split by (Department)
QUOTE_OPEN = ("DRAFT", "SENT", "ACCEPTED", "DECLINED")
PO_OPEN = ("DRAFT", "SUBMITTED", "AUTHORISED")
CONTACT_GROUPS = ("Key customers", "Preferred suppliers", "Newsletter")
BRANDING_THEMES = ("Standard", "Special projects")


@dataclass(frozen=True)
class Offer:
    """A quote or purchase order: its own header, lines copied from a source document."""

    idx: int
    number: str
    status: str
    contact: int
    date: int
    expiry: int
    source: int  # index of the invoice it became, or whose lines it shows
    invoice: int | None  # the invoice/bill it led to
    updated_ms: int


@dataclass(frozen=True)
class Budget:
    idx: int
    kind: str  # OVERALL or TRACKING
    description: str
    option: int  # Department option for TRACKING budgets, -1 for OVERALL
    months: tuple[date, ...]
    # account -> one amount per month, in cents with the P&L report's sign (income and costs positive)
    lines: dict[int, tuple[int, ...]]
    updated_ms: int


def planning(b: Books) -> dict:
    """The derived records of an organisation, cached while its invoices stay the same in number."""
    key = (len(b.invoices), len(b.contacts), b.versions.get("invoices", 0))
    cache = b.__dict__.get("_planning")
    if cache is None or cache[0] != key:
        records = {
            "quotes": offers(b, "ACCREC", OFFER_PREFIX["ACCREC"], QUOTE_OPEN),
            "purchase_orders": offers(b, "ACCPAY", OFFER_PREFIX["ACCPAY"], PO_OPEN),
            "budgets": budgets(b),
            "contact_groups": contact_groups(b),
        }
        cache = (key, records)
        b.__dict__["_planning"] = cache
    return cache[1]


def offers(b: Books, kind: str, prefix: str, open_statuses: tuple[str, ...]) -> list[Offer]:
    """The quotes (or POs) that became invoices (bills): one per document whose Reference is a
    quote (PO) number (set when the books were generated, see data.link_offers), numbered by it;
    then a few still open, numbered after them, showing the lines of recent documents."""
    out: list[Offer] = []
    pattern = re.compile(rf"{prefix}-(\d+)")
    led = []
    for d in b.invoices:
        found = pattern.fullmatch(d.reference.removesuffix(" (edited)")) if d.type == kind else None
        if found:
            led.append((int(found.group(1)), d))
    status = "INVOICED" if kind == "ACCREC" else "BILLED"
    for number, d in sorted(led, key=lambda pair: pair[0]):
        lead = 3 + d.idx % 11
        out.append(_offer(b, number - 1, prefix, status, d, d.date - lead, d.idx))
    sources = [d for d in b.invoices if d.type == kind and d.repeating < 0 and d.status != "DELETED"]
    first = max((number for number, _d in led), default=0)
    for n, d in enumerate(sources[-max(2, len(sources) // 40) :]):
        day = b.anchor - (n * 5) % 45
        out.append(_offer(b, first + n, prefix, open_statuses[n % len(open_statuses)], d, day, None))
    return out


def _offer(b: Books, idx: int, prefix: str, status: str, source, day: int, invoice: int | None) -> Offer:
    updated = min(ordinal_ms(day) + 10 * 3_600_000, ordinal_ms(b.anchor) + 8 * 3_600_000)
    return Offer(idx, f"{prefix}-{idx + 1:04d}", status, source.contact, day, day + 30, source.idx, invoice, updated)


def budget_months(b: Books) -> tuple[date, ...]:
    """The months budgeted: last financial year and this one (24 months)."""
    start = date.fromordinal(b.financial_year_start(b.financial_year_start(b.anchor) - 1))
    return tuple(_month(start, k) for k in range(24))


def _month(start: date, k: int) -> date:
    index = start.year * 12 + start.month - 1 + k
    return date(index // 12, index % 12 + 1, 1)


def budgets(b: Books) -> list[Budget]:
    """The overall budget and one per Department option: each P&L account's average month of
    actuals (all data), varied by month and rounded to whole currency units."""
    months = budget_months(b)
    days = max(1, b.anchor - min((o for _a, o in b.ledger), default=b.anchor) + 1)
    per_month = days / 30.44
    totals: dict[int, int] = {}
    for (acct, _ordinal), cents in b.ledger.items():
        totals[acct] = totals.get(acct, 0) + cents
    updated = b.created_ms + 3 * DAY_MS
    out = [Budget(0, "OVERALL", "Overall Budget", -1, months, _lines(totals, per_month, months, 0), updated)]
    name, options = TRACKING[BUDGET_DEPARTMENT]
    for option, label in enumerate(options):
        tagged: dict[int, int] = {}
        for (category, o, acct, _ordinal), cents in b.tracked.items():
            if category == BUDGET_DEPARTMENT and o == option:
                tagged[acct] = tagged.get(acct, 0) + cents
        lines = _lines(tagged, per_month, months, option + 1)
        out.append(Budget(option + 1, "TRACKING", f"{name}: {label}", option, months, lines, updated))
    return out


def _lines(totals: dict[int, int], per_month: float, months: tuple[date, ...], salt: int) -> dict[int, tuple]:
    lines = {}
    for acct, cents in sorted(totals.items()):
        if CHART[acct].type not in PL_TYPES or not cents:
            continue
        sign = -1 if CHART[acct].type == "REVENUE" else 1
        base = sign * cents / per_month
        amounts = []
        for k, month in enumerate(months):
            factor = 1 + ((month.month * 37 + acct * 11 + salt * 5 + k // 12 * 3) % 21 - 10) / 100
            amounts.append(int(round(base * factor / 100)) * 100)
        lines[acct] = tuple(amounts)
    return lines


def budget_in(budget: Budget, start: date, end: date) -> dict[int, int]:
    """Budgeted amount per account over the months that start within [start, end]."""
    picked = [k for k, m in enumerate(budget.months) if start <= m <= end]
    return {acct: sum(amounts[k] for k in picked) for acct, amounts in budget.lines.items()}


def contact_groups(b: Books) -> list[tuple[str, str, list[int]]]:
    """(name, status, member contact indexes): members chosen by a rule on each contact."""
    customers = [c.idx for c in b.contacts if c.customer and c.status == "ACTIVE"]
    suppliers = [c.idx for c in b.contacts if c.supplier and c.status == "ACTIVE"]
    return [
        (CONTACT_GROUPS[0], "ACTIVE", customers[::7]),
        (CONTACT_GROUPS[1], "ACTIVE", suppliers[::5]),
        (CONTACT_GROUPS[2], "ACTIVE", [c.idx for c in b.contacts if c.idx % 9 == 4]),
    ]
