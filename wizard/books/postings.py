"""Which accounts a synced record moves, by how much and on which day: the one place for those rules.

A posting names its account by *reference* (what the record says: an AccountID and code, a
system account, or a bank account with the first bank account as fall-back), not by the account
it resolves to, so postings can be computed and summed as pages arrive, before or without the
chart of accounts, and a changed chart needs no recomputation. `resolve` turns a reference into
an account when the books are read.

Two bases: "journals" (Xero's Journals, every row) and "transactions" (the documents, payments,
transfers and manual journals Xero still has: tombstoned rows do not count).

Amounts are integer cents, debit positive. Every posting counts once untracked (tracking "") and,
for a line tagged with tracking options, once more under each option's id: the FP&A views read
the per-option sums.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Protocol

from wizard.xero.timestamps import xero_timestamp

CREDIT_SIDE = {"ACCREC", "ACCPAYCREDIT", "RECEIVE", "RECEIVE-OVERPAYMENT", "RECEIVE-PREPAYMENT"}
POSTED = {"AUTHORISED", "PAID", "POSTED"}
DOCUMENT_STREAMS = ("Invoices", "CreditNotes", "Overpayments", "Prepayments", "BankTransactions")
_DOCUMENT_STREAMS = frozenset(DOCUMENT_STREAMS)  # per-record membership tests
TRANSACTION_STREAMS = (*DOCUMENT_STREAMS, "Payments", "BankTransfers", "ManualJournals")
POSTING_STREAMS = frozenset((*TRANSACTION_STREAMS, "Journals"))

Posting = tuple[str, date, int, str]  # (account reference, day, cents, tracking option id or "")
Amount = tuple[str, int, tuple[str, ...]]  # (account reference, cents, the line's tracking option ids)


def cents(value: Any) -> int:
    kind = type(value)
    if kind is float or kind is int:  # the usual JSON number, without the isinstance checks below
        return round(value * 100)
    if isinstance(value, float | int) and not isinstance(value, bool):
        return round(value * 100)  # JSON numbers: Xero's amounts have at most 2 decimals here
    try:
        return int((Decimal(str(value or 0)) * 100).to_integral_value())
    except InvalidOperation:
        return 0


def basis(stream: str) -> str:
    return "journals" if stream == "Journals" else "transactions"


def counts(stream: str, tombstoned: bool) -> bool:
    """Journals always count; a tombstoned transaction (voided, deleted, gone from Xero) does not."""
    return stream == "Journals" or not tombstoned


def _ref(ref: dict[str, Any] | None) -> str:
    ref = ref or {}
    return f"a|{ref.get('AccountID', '')}|{ref.get('Code') or ref.get('AccountCode', '')}"


def _bank(stream: str, ref: dict[str, Any] | None) -> str:
    return f"b|{stream}|{_ref(ref)[2:]}"


def _options(tags: Any) -> tuple[str, ...]:
    if not tags:
        return ()  # most lines: no tracking (skips building a generator per line)
    return tuple([t["TrackingOptionID"] for t in tags if isinstance(t, dict) and t.get("TrackingOptionID")])


def _day(value: Any) -> date | None:
    return _day_of(value) if isinstance(value, str) else None


@lru_cache(maxsize=4096)
def _day_of(value: str) -> date | None:
    """Cached: a page's records share a few hundred days, and parsing is most of a posting's cost."""
    moment = xero_timestamp(value)
    return moment.date() if moment else None


def _document(stream: str, doc: dict[str, Any]) -> list[Amount]:
    kind = doc.get("Type", "")
    sign = -1 if kind in CREDIT_SIDE else 1
    inclusive = doc.get("LineAmountTypes") == "Inclusive"
    out = []
    for line in doc.get("LineItems") or []:
        net = cents(line.get("LineAmount")) - (cents(line.get("TaxAmount")) if inclusive else 0)
        tags = line.get("Tracking")
        # `_ref(line)` written out: this runs per line of every document synced.
        ref = f"a|{line.get('AccountID', '')}|{line.get('Code') or line.get('AccountCode', '')}"
        out.append((ref, sign * net, _options(tags) if tags else ()))
    tax = cents(doc.get("TotalTax"))
    if tax:
        out.append(("s|GST", sign * tax, ()))
    if stream in ("Invoices", "CreditNotes"):
        control = "s|DEBTORS" if kind in ("ACCREC", "ACCRECCREDIT") else "s|CREDITORS"
    else:
        control = _bank(stream, doc.get("BankAccount"))
    out.append((control, -sign * cents(doc.get("Total")), ()))
    return out


def _amounts(stream: str, record: dict[str, Any]) -> tuple[Any, list[Amount]]:
    """(the record's date field, [(reference, cents, tracking option ids)]) for one record of a posting stream."""
    if stream in _DOCUMENT_STREAMS:
        return record.get("Date"), _document(stream, record) if record.get("Status") in POSTED else []
    if stream == "Payments":
        if record.get("Status") != "AUTHORISED":
            return None, []
        amount, bank = cents(record.get("Amount")), _ref(record.get("Account"))
        payable = (record.get("Invoice") or {}).get("Type") == "ACCPAY" or record.get("PaymentType") == "ACCPAYPAYMENT"
        if payable:
            return record.get("Date"), [("s|CREDITORS", amount, ()), (bank, -amount, ())]
        return record.get("Date"), [(bank, amount, ()), ("s|DEBTORS", -amount, ())]
    if stream == "BankTransfers":
        amount = cents(record.get("Amount"))
        return record.get("Date"), [
            (_ref(record.get("ToBankAccount")), amount, ()),
            (_ref(record.get("FromBankAccount")), -amount, ()),
        ]
    if stream == "ManualJournals":
        if record.get("Status") != "POSTED":
            return None, []
        return record.get("Date"), [
            (_ref(line), cents(line.get("LineAmount")), _options(line.get("Tracking")))
            for line in record.get("JournalLines") or []
        ]
    if stream == "Journals":
        return record.get("JournalDate"), [
            (_ref(line), cents(line.get("NetAmount")), _options(line.get("TrackingCategories")))
            for line in record.get("JournalLines") or []
        ]
    return None, []


def postings(stream: str, record: dict[str, Any]) -> list[Posting]:
    """What one record posts, ignoring whether it is tombstoned (see `counts`); undated postings never count."""
    when, amounts = _amounts(stream, record)
    day = _day(when) if amounts else None
    if day is None:
        return []
    out: list[Posting] = []
    append = out.append
    for ref, amount, options in amounts:
        if amount:
            append((ref, day, amount, ""))
            for option in options:  # a plain loop: most lines have none or one, a generator costs more
                append((ref, day, amount, option))
    return out


class Chart(Protocol):
    by_id: dict[str, Any]
    by_code: dict[str, Any]
    system: dict[str, Any]
    default_bank: Any


@dataclass
class Resolved:
    account: Any  # an Account of the chart, or None (the posting is left out, as Xero's report would)
    note: str = ""


def resolve(ref: str, chart: Chart) -> Resolved:
    """The account a reference names in the current chart (the bank fall-back says so in a note)."""
    kind, _, rest = ref.partition("|")
    if kind == "s":
        return Resolved(chart.system.get(rest))
    stream = ""
    if kind == "b":
        stream, _, rest = rest.partition("|")
    account_id, _, code = rest.partition("|")
    account = (chart.by_id.get(account_id) if account_id else None) or (chart.by_code.get(code) if code else None)
    if account is None and kind == "b":
        note = f"{stream} carry no bank account in Xero's data; they are counted on the first bank account."
        return Resolved(chart.default_bank, note)
    return Resolved(account)
