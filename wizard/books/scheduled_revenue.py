"""Revenue the organisation's repeating invoices are scheduled to raise over the next 12 months,
month by month and template by template, from the synced RepeatingInvoices. Each template is
checked against the invoices Xero has already generated from it (synced Invoices carrying its
RepeatingInvoiceID): the last one should carry the template's amount.

Amounts are integer cents excluding tax (SubTotal), as revenue is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from wizard.books.ledger import _payloads
from wizard.books.postings import _day, cents
from wizard.books.tracking_pnl import last_months

ACTIVE = {"AUTHORISED"}


@dataclass
class Template:
    repeating_invoice_id: str
    contact: str
    reference: str
    every: str  # "1 month", "3 months", "2 weeks"
    amount: int
    dates: list[date]  # the invoices it will raise in the window
    last_generated: int | None = None  # SubTotal of the latest invoice Xero generated from it

    @property
    def matches_xero(self) -> bool:
        return self.last_generated is None or self.last_generated == self.amount


@dataclass
class ScheduledRevenue:
    months: list[str]
    totals: list[int]
    templates: list[Template] = field(default_factory=list)

    @property
    def differences(self) -> list[Template]:
        return [t for t in self.templates if not t.matches_xero]

    @property
    def checked(self) -> int:
        return sum(1 for t in self.templates if t.last_generated is not None)


def _next_dates(schedule: dict, today: date, until: date) -> list[date]:
    """Dates from NextScheduledDate every Period weeks or months, up to EndDate and `until`."""
    start, end = _day(schedule.get("NextScheduledDate")), _day(schedule.get("EndDate"))
    period, unit = int(schedule.get("Period") or 1), schedule.get("Unit", "MONTHLY")
    out, k = [], 0
    while start is not None:
        if unit == "WEEKLY":
            when = start + timedelta(weeks=period * k)
        else:
            index = start.year * 12 + start.month - 1 + period * k
            year, month = divmod(index, 12)
            last = (date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1) - timedelta(days=1)).day
            when = date(year, month + 1, min(start.day, last))
        if when > until or (end is not None and when > end):
            break
        if when >= today:
            out.append(when)
        k += 1
    return out


def scheduled_revenue(connection_id: int, today: date) -> ScheduledRevenue:
    first = date(today.year, today.month, 1)
    months = last_months(date(first.year + (first.month + 10) // 12, (first.month + 10) % 12 + 1, 1))
    until = date.fromisoformat(f"{months[-1]}-28") + timedelta(days=4)
    until = until - timedelta(days=until.day)
    latest: dict[str, tuple[date, int]] = {}
    for invoice in _payloads(connection_id, "Invoices", live_only=True):
        template_id, day = invoice.get("RepeatingInvoiceID"), _day(invoice.get("Date"))
        if template_id and day and (template_id not in latest or day >= latest[template_id][0]):
            latest[template_id] = (day, cents(invoice.get("SubTotal")))
    result = ScheduledRevenue(months, [0] * len(months))
    position = {m: i for i, m in enumerate(months)}
    for t in _payloads(connection_id, "RepeatingInvoices", live_only=True):
        if t.get("Status") not in ACTIVE or t.get("Type") != "ACCREC":
            continue
        schedule = t.get("Schedule") or {}
        unit = "week" if schedule.get("Unit") == "WEEKLY" else "month"
        period = int(schedule.get("Period") or 1)
        template = Template(
            t.get("RepeatingInvoiceID", ""),
            (t.get("Contact") or {}).get("Name", ""),
            t.get("Reference", ""),
            f"{period} {unit}{'s' if period > 1 else ''}",
            cents(t.get("SubTotal")),
            _next_dates(schedule, today, until),
            latest.get(t.get("RepeatingInvoiceID", ""), (None, None))[1],
        )
        for when in template.dates:
            result.totals[position[f"{when.year}-{when.month:02d}"]] += template.amount
        result.templates.append(template)
    result.templates.sort(key=lambda t: (-t.amount * len(t.dates), t.contact))
    return result
