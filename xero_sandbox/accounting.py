"""api.xero.com/api.xro/2.0: read endpoints over the generated books (paths case-insensitive)."""

from __future__ import annotations

import bisect
import math
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import orjson
from flask import Blueprint, g, request

from . import shapes
from .clock import parse_instant
from .gateway import json_response, not_found, query_error, tenant_call, validation_error
from .reports import REPORTS, ReportError
from .state import current_sandbox
from .where import QueryError, filter_records, order_key

bp = Blueprint("accounting", __name__)

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
JOURNALS_PER_CALL = 100


class Stream:
    """How one record collection is served."""

    def __init__(
        self,
        attr: str,
        key: str,
        id_field: str,
        shape,
        paged: bool = True,
        stamp: str = "updated_ms",
        number: str | None = None,
        archivable: bool = False,
        filters: tuple[str, ...] = (),
    ) -> None:
        self.attr, self.key, self.id_field, self.shape = attr, key, id_field, shape
        self.paged, self.stamp, self.number, self.archivable = paged, stamp, number, archivable
        # the list parameters Xero's spec gives this endpoint (IDs, ContactIDs, Statuses, InvoiceNumbers)
        self.filters = filters
        self.type_name = record_type(key)


def record_type(key: str) -> str:
    """The record type Xero's query errors name: Invoices -> Invoice, Currencies -> Currency."""
    return key[:-3] + "y" if key.endswith("ies") else key[:-1]


INVOICE_FILTERS = ("IDs", "InvoiceNumbers", "ContactIDs", "Statuses")
STREAMS = {
    "contacts": Stream(
        "contacts", "Contacts", "ContactID", shapes.contact, number="ContactNumber", archivable=True, filters=("IDs",)
    ),
    "invoices": Stream(
        "invoices", "Invoices", "InvoiceID", shapes.invoice, number="InvoiceNumber", filters=INVOICE_FILTERS
    ),
    "creditnotes": Stream(
        "credit_notes", "CreditNotes", "CreditNoteID", lambda b, r: shapes.credit_note(b, r), number="CreditNoteNumber"
    ),
    "payments": Stream("payments", "Payments", "PaymentID", shapes.payment),
    "overpayments": Stream(
        "overpayments", "Overpayments", "OverpaymentID", lambda b, r: shapes.over_or_prepayment(b, r, "overpayments")
    ),
    "prepayments": Stream(
        "prepayments",
        "Prepayments",
        "PrepaymentID",
        lambda b, r: shapes.over_or_prepayment(b, r, "prepayments"),
        filters=("InvoiceNumbers",),
    ),
    "banktransactions": Stream("bank_transactions", "BankTransactions", "BankTransactionID", shapes.bank_transaction),
    "manualjournals": Stream("manual_journals", "ManualJournals", "ManualJournalID", shapes.manual_journal),
    "items": Stream("items", "Items", "ItemID", shapes.item, paged=False),
    "banktransfers": Stream(
        "bank_transfers", "BankTransfers", "BankTransferID", shapes.bank_transfer, paged=False, stamp="created_ms"
    ),
}

SORT_FIELDS = {
    "updateddateutc": lambda s: lambda r: getattr(r, s.stamp),
    "createddateutc": lambda s: lambda r: getattr(r, s.stamp),
    "date": lambda s: lambda r: r.date,
    "duedate": lambda s: lambda r: r.due,
    "status": lambda s: lambda r: r.status,
    "type": lambda s: lambda r: r.type,
    "total": lambda s: lambda r: r.total,
    "amount": lambda s: lambda r: r.amount,
    "reference": lambda s: lambda r: r.reference,
    "name": lambda s: lambda r: r.name,
    "contactnumber": lambda s: lambda r: r.number,
    "invoicenumber": lambda s: lambda r: r.number,
    "creditnotenumber": lambda s: lambda r: r.number,
    "code": lambda s: lambda r: r.code,
}


def fast_sort(stream: Stream, name: str, sample) -> bool:
    """Can `order=<name>` sort the records directly (the field maps to one of their attributes)?"""
    if name in ("updateddateutc", "createddateutc"):
        return True
    if name.endswith("number"):
        return stream.number is not None and name == stream.number.lower()
    return name in SORT_FIELDS and sample is not None and hasattr(sample, "due" if name == "duedate" else name)


def envelope(key: str, rows: list, pagination: dict | None = None) -> dict:
    sandbox = current_sandbox()
    client = sandbox.store.clients.get(g.get("client_id", ""))
    body: dict[str, Any] = {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": client.name if client else "Sandbox demo app",
        "DateTimeUTC": shapes.ms_date(int(sandbox.clock.time() * 1000)),
    }
    if pagination is not None:
        body["pagination"] = pagination
        body["Warnings"] = []
    body[key] = rows
    return body


def envelope_json(key: str, rows: list[bytes], pagination: dict | None = None) -> bytes:
    """The envelope with already serialised rows: the same bytes orjson.dumps(envelope(...)) gives."""
    head = orjson.dumps(envelope(key, [], pagination))  # ends with "<key>":[]}
    if not rows:
        return head
    parts = list(rows)  # one join, so a 2 MB page is allocated and copied once
    parts[0] = head[:-2] + parts[0]
    parts[-1] += b"]}"
    return b",".join(parts)


def record_rows(
    books, name: str, stream: Stream, indexes, summary: bool = False, with_lines: bool = True
) -> list[bytes]:
    """Serialised records (cached per record version in books.fragments; hold books.lock)."""
    records = getattr(books, stream.attr)
    summary = summary and name in ("contacts", "invoices")
    variant = "summary" if summary else "full" if with_lines or name != "invoices" else "nolines"
    dumps = orjson.dumps
    return books.fragments.rows(
        stream.attr, variant, indexes, lambda i: dumps(shape(books, records[i], name, summary, with_lines))
    )


def if_modified_since() -> int | None:
    """The If-Modified-Since header (ISO-8601 or HTTP-date, UTC) as epoch ms; None if absent/invalid."""
    raw = request.headers.get("If-Modified-Since", "").strip()
    if not raw:
        return None
    try:
        moment = parse_instant(raw)
    except ValueError:
        try:
            moment = parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def flag(name: str) -> bool:
    return request.args.get(name, "").lower() == "true"


def int_arg(name: str, default: int) -> int:
    try:
        return int(request.args.get(name, default))
    except ValueError:
        return default


def parse_order(stream: Stream, raw: str | None, sample=None):
    """`order=UpdatedDateUTC DESC` -> sort keys over the records; None when a field needs the
    records' JSON (nested fields such as Contact.Name: see where.order_key)."""
    if not raw:
        return ()
    keys = []
    for part in raw.split(","):
        words = part.split()
        if not words:
            continue
        name = words[0].lower()
        desc = len(words) == 2 and words[1].upper() == "DESC"
        if len(words) > 2 or (len(words) == 2 and words[1].upper() not in ("ASC", "DESC")):
            return None
        if name == stream.id_field.lower():
            keys.append((lambda r: r.idx, desc))
        elif fast_sort(stream, name, sample):
            keys.append((SORT_FIELDS[name](stream), desc))
        else:
            return None
    return tuple(keys)


def selection(books, stream: Stream, key_parts: tuple, matches, order) -> list[int]:
    """Indexes of matching records in order; cached per stream version."""
    cache = books.__dict__.setdefault("_selection_cache", {})
    key = (stream.attr, books.versions.get(stream.attr, 0), len(getattr(books, stream.attr)), key_parts)
    hit = cache.get(key)
    if hit is not None:
        return hit
    records = getattr(books, stream.attr)
    chosen = [r for r in records if matches(r)] if matches else list(records)
    for sort_key, desc in reversed(order):
        chosen.sort(key=sort_key, reverse=desc)
    result = [r.idx for r in chosen]
    if len(cache) > 64:
        cache.clear()
    cache[key] = result
    return result


def list_arg(stream: Stream, name: str) -> list[str]:
    """A comma-separated list parameter, read only where Xero's spec gives the endpoint one."""
    if name not in stream.filters:
        return []
    return [v.strip() for v in request.args.get(name, "").split(",") if v.strip()]


def list_filter(stream: Stream, books):
    """Build the predicate from If-Modified-Since, includeArchived and the invoice filters."""
    since = if_modified_since()
    include_archived = flag("includeArchived")
    statuses = {s.upper() for s in list_arg(stream, "Statuses")}
    ids = {i.lower() for i in list_arg(stream, "IDs")}
    contact_ids = {i.lower() for i in list_arg(stream, "ContactIDs")}
    numbers = set(list_arg(stream, "InvoiceNumbers"))
    contact_idx = {books.record_index("contacts", c) for c in contact_ids} - {None}
    id_idx = {books.record_index(stream.attr, i) for i in ids} - {None}
    stamp = stream.stamp
    checks = []
    if since is not None:
        checks.append(lambda r: getattr(r, stamp) >= since)
    if stream.archivable and not include_archived:
        checks.append(lambda r: r.status != "ARCHIVED")
    if statuses:
        checks.append(lambda r: r.status in statuses)
    if ids:
        checks.append(lambda r: r.idx in id_idx)
    if contact_ids:
        checks.append(lambda r: r.contact in contact_idx)
    if numbers:
        checks.append(lambda r: r.number in numbers)
    key = (
        since,
        include_archived,
        tuple(sorted(statuses)),
        tuple(sorted(ids)),
        tuple(sorted(contact_ids)),
        tuple(sorted(numbers)),
    )
    if not checks:
        return None, key
    if len(checks) == 1:
        return checks[0], key
    return (lambda r: all(c(r) for c in checks)), key


def serve_stream(name: str, stream: Stream, books, record_id: str | None):
    """A collection (paged or whole) or one record by id."""
    records = getattr(books, stream.attr)
    if record_id:
        idx = books.record_index(stream.attr, record_id)
        if idx is None and stream.number:
            idx = next((r.idx for r in records if r.number == record_id), None)
        if idx is None:
            return not_found()
        g.rows = 1
        with books.lock:
            rows = record_rows(books, name, stream, (idx,))
        return json_response(envelope_json(stream.key, rows))
    order_text = request.args.get("order", "")
    where_text = request.args.get("where", "").strip()
    order = parse_order(stream, order_text, records[0] if records else None)
    matches, key = list_filter(stream, books)
    with books.lock:
        chosen = selection(books, stream, (key, order_text if order is not None else ""), matches, order or ())
        if where_text or order is None:
            try:
                chosen = refine(books, name, stream, chosen, (key, where_text, order_text if order is None else ""))
            except QueryError as bad:
                return query_error(str(bad))
        summary = flag("summaryOnly") and name in ("contacts", "invoices")
        paging = stream.paged and ("page" in request.args or "pageSize" in request.args)
        if not paging:
            rows = record_rows(books, name, stream, chosen, summary, with_lines=name != "invoices")
            g.rows = len(rows)
            return json_response(envelope_json(stream.key, rows))
        size = int_arg("pageSize", DEFAULT_PAGE_SIZE)
        size = DEFAULT_PAGE_SIZE if size < 1 else min(size, MAX_PAGE_SIZE)
        page = max(1, int_arg("page", 1))
        window = chosen[(page - 1) * size : page * size]
        rows = record_rows(books, name, stream, window, summary, with_lines=True)
    g.rows, g.page, g.page_size = len(rows), page, size
    pagination = {"page": page, "pageSize": size, "pageCount": math.ceil(len(chosen) / size), "itemCount": len(chosen)}
    return json_response(envelope_json(stream.key, rows, pagination))


def refine(books, name: str, stream: Stream, chosen: list[int], key: tuple) -> list[int]:
    """Apply `where` and a JSON-field `order` to the selected records, through their JSON shape
    (line items excluded: Xero does not filter on them); cached per stream version like selection."""
    cache = books.__dict__.setdefault("_selection_cache", {})
    cache_key = (stream.attr, books.versions.get(stream.attr, 0), len(getattr(books, stream.attr)), "refine", key)
    hit = cache.get(cache_key)
    if hit is not None:
        return hit
    _filters, where_text, order_text = key
    loads = orjson.loads
    shaped = [loads(row) for row in record_rows(books, name, stream, chosen, with_lines=name != "invoices")]
    refined = query_rows(list(zip(chosen, shaped, strict=True)), stream.type_name, where_text, order_text)
    if len(cache) > 64:
        cache.clear()
    cache[cache_key] = result = [idx for idx, _ in refined]
    return result


def query_rows(pairs: list[tuple], type_name: str, where_text: str, order_text: str) -> list[tuple]:
    """(anything, record JSON) pairs kept by `where` and sorted by `order` (QueryError if refused)."""
    if where_text:
        kept = filter_records(where_text, [row for _, row in pairs], type_name)
        pairs = [pairs[n] for n in kept]
    if order_text:
        keys = order_key(order_text, type_name, pairs[0][1] if pairs else None)
        for sort_key, desc in reversed(keys):
            pairs.sort(key=_on_record(sort_key), reverse=desc)
    return pairs


def _on_record(key: Callable[[dict], Any]) -> Callable[[tuple], Any]:
    """A sort key for (anything, record JSON) pairs, from the record's sort key."""
    return lambda pair: key(pair[1])


def queried(rows: list[dict], type_name: str) -> list[dict]:
    """A small collection's rows after the request's `where` and `order` (QueryError if refused)."""
    where_text, order_text = request.args.get("where", "").strip(), request.args.get("order", "")
    if not where_text and not order_text:
        return rows
    return [row for _, row in query_rows([(None, r) for r in rows], type_name, where_text, order_text)]


def shape(books, record, name: str, summary: bool, with_lines: bool) -> dict:
    if name == "invoices":
        return shapes.invoice(books, record, summary=summary, with_lines=with_lines)
    if name == "contacts":
        return shapes.contact(books, record, summary=summary)
    return STREAMS[name].shape(books, record)


# What posts on a cash basis: cash movements, and manual journals (the sandbox's are all
# ShowOnCashBasisReports); invoices and credit notes post only through their payments.
CASH_SOURCES = {"payments", "bank_transactions", "bank_transfers", "overpayments", "prepayments", "manual_journals"}


def serve_journals(books, record: str | None = None):
    """Up to 100 journals with JournalNumber > offset (and CreatedDateUTC >= If-Modified-Since);
    paymentsOnly=true: the journals on a cash basis (Books.cash_postings), under the numbers of the
    cash movements they rebuild; one journal by JournalID or number."""
    if record is not None:
        return one_journal(books, record)
    offset = max(0, int_arg("offset", 0))
    since = if_modified_since()
    cash_only = flag("paymentsOnly")
    with books.lock:
        start = offset
        numbers: Sequence[int]
        if since is not None:
            start = max(start, bisect.bisect_left(books.journals, since, key=lambda j: j[4]))
        if cash_only:
            numbers = [n + 1 for n in range(start, len(books.journals)) if books.journals[n][0] in CASH_SOURCES]
            numbers = numbers[:JOURNALS_PER_CALL]
        else:
            numbers = range(start + 1, min(start + JOURNALS_PER_CALL, len(books.journals)) + 1)
        rows = [shapes.journal(books, n, cash=cash_only) for n in numbers]
    g.rows, g.offset = len(rows), offset
    return json_response(envelope("Journals", rows))


def one_journal(books, record: str):
    """/Journals/{JournalID} or /Journals/{JournalNumber}."""
    if record.isdigit():
        number = int(record)
    else:
        head = books.id_head("journals")
        text = record.lower()
        number = int(text[24:], 16) if len(text) == 36 and text.startswith(head) else 0
    with books.lock:
        if not 1 <= number <= len(books.journals):
            return not_found()
        rows = [shapes.journal(books, number)]
    g.rows = 1
    return json_response(envelope("Journals", rows))


def serve_settings(name: str, books, record_id: str | None = None):
    """Organisation, Accounts, TaxRates, Currencies, TrackingCategories, Users; one by id (or
    TaxType) where Xero has that path; `where` and `order` on the lists that take them."""
    since = if_modified_since()
    if name == "organisation":
        rows, key = [shapes.organisation(books)], "Organisations"
    elif name == "accounts":
        rows = [shapes.account(books, i) for i in range(len(shapes.CHART))]
        if since is not None:
            rows = rows if books.created_ms >= since else []
        key = "Accounts"
    elif name == "taxrates":
        rows, key = [shapes.tax_rate(books, r) for r in shapes.tax_rate_rows(books)], "TaxRates"
    elif name == "currencies":
        rows, key = shapes.currencies(books), "Currencies"
    elif name == "trackingcategories":
        rows = shapes.tracking_categories(books, flag("includeArchived") or record_id is not None)
        key = "TrackingCategories"
    else:
        rows, key = users(books, None if record_id else since), "Users"
    if record_id is not None:
        id_field = {"taxrates": "TaxType", "trackingcategories": "TrackingCategoryID"}.get(name, key[:-1] + "ID")
        rows = [r for r in rows if str(r.get(id_field, "")).lower() == record_id.lower()]
        if not rows:
            return not_found()
    elif name != "organisation":
        try:
            rows = queried(rows, record_type(key))
        except QueryError as bad:
            return query_error(str(bad))
    g.rows = len(rows)
    return json_response(envelope(key, rows))


def users(books, since: int | None) -> list[dict]:
    store = current_sandbox().store
    with store.lock:
        members = [u for u in store.users.values() if books.tenant_id in u.roles]
    return [
        {
            "UserID": u.user_id,
            "EmailAddress": u.email,
            "FirstName": u.first_name,
            "LastName": u.last_name,
            "UpdatedDateUTC": shapes.ms_date(u.updated_ms),
            "IsSubscriber": n == 0,
            "OrganisationRole": u.roles[books.tenant_id],
        }
        for n, u in enumerate(members)
        if since is None or u.updated_ms >= since
    ]


def serve_report(report: str, books):
    sandbox = current_sandbox()
    now = sandbox.clock.now()
    try:
        body = REPORTS[report](books, request.args, now.date(), int(now.timestamp() * 1000))
    except ReportError as bad:
        return validation_error(str(bad))
    return json_response(envelope("Reports", body["Reports"]))


SETTINGS = {"organisation", "accounts", "taxrates", "currencies", "trackingcategories", "users"}
# paths Xero also answers that clients call: pyxero reads the organisation at /Organisations
ALIASES = {"organisations": "organisation"}
SETTINGS_BY_ID = {"accounts", "taxrates", "trackingcategories", "users"}


@bp.route("/api.xro/2.0/<path:resource>", methods=["GET", "PUT", "POST", "DELETE"])
def resource(resource: str):
    """Dispatch an Accounting API path (case-insensitive) to its handler."""
    parts = [p for p in resource.split("/") if p]
    name = parts[0].lower() if parts else ""
    name = ALIASES.get(name, name)
    if name == "reports" and len(parts) == 2 and parts[1].lower() in REPORTS:
        endpoint, report = f"reports/{parts[1].lower()}", parts[1].lower()
        return guarded(endpoint, lambda books: serve_report(report, books))
    if name == "journals" and len(parts) <= 2:
        record = parts[1] if len(parts) == 2 else None
        return guarded("journals", lambda books: serve_journals(books, record))
    if name == "reports" and len(parts) <= 2:
        # published reports (GST/BAS returns, 1099s) are listed and fetched by ReportID: the sandbox's
        # organisations have none, so the list is empty and every other id is not found
        return guarded(
            "reports", lambda books: json_response(envelope("Reports", [])) if len(parts) == 1 else not_found()
        )
    if name in SETTINGS and (len(parts) == 1 or (len(parts) == 2 and name in SETTINGS_BY_ID)):
        record_id = parts[1] if len(parts) == 2 else None
        return guarded(name, lambda books: serve_settings(name, books, record_id))
    if name in STREAMS and len(parts) <= 2:
        record_id = parts[1] if len(parts) == 2 else None
        return guarded(name, lambda books: serve_stream(name, STREAMS[name], books, record_id))
    from .surface import route  # imports this module: resolved at call time

    served = route(parts) if parts else None
    if served is not None:
        return guarded(*served)
    return not_found()


def guarded(endpoint: str, handler):
    if request.method != "GET":
        return json_response(
            {"Title": "Method Not Allowed", "Status": 405, "Detail": "The Xero sandbox is read-only"},
            405,
            {"Allow": "GET"},
        )
    return tenant_call(endpoint, handler)
