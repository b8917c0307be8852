"""api.xero.com/api.xro/2.0: read endpoints over the generated books (paths case-insensitive)."""

from __future__ import annotations

import bisect
import math
import uuid
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import orjson
from flask import Blueprint, g, request

from . import shapes
from .clock import parse_instant
from .gateway import json_response, not_found, tenant_call, validation_error
from .reports import REPORTS, ReportError
from .state import current_sandbox

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
    ) -> None:
        self.attr, self.key, self.id_field, self.shape = attr, key, id_field, shape
        self.paged, self.stamp, self.number, self.archivable = paged, stamp, number, archivable


STREAMS = {
    "contacts": Stream("contacts", "Contacts", "ContactID", shapes.contact, archivable=True),
    "invoices": Stream("invoices", "Invoices", "InvoiceID", shapes.invoice, number="InvoiceNumber"),
    "creditnotes": Stream(
        "credit_notes", "CreditNotes", "CreditNoteID", lambda b, r: shapes.credit_note(b, r), number="CreditNoteNumber"
    ),
    "payments": Stream("payments", "Payments", "PaymentID", shapes.payment),
    "overpayments": Stream(
        "overpayments", "Overpayments", "OverpaymentID", lambda b, r: shapes.over_or_prepayment(b, r, "overpayments")
    ),
    "prepayments": Stream(
        "prepayments", "Prepayments", "PrepaymentID", lambda b, r: shapes.over_or_prepayment(b, r, "prepayments")
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


def parse_order(stream: Stream, raw: str | None):
    """`order=UpdatedDateUTC DESC` (comma-separated list) -> sort keys; ValueError if unknown."""
    if not raw:
        return ()
    keys = []
    for part in raw.split(","):
        words = part.split()
        if not words:
            continue
        name = words[0].lower()
        desc = len(words) > 1 and words[1].upper() == "DESC"
        if name == stream.id_field.lower():
            keys.append((lambda r: r.idx, desc))
        elif name in SORT_FIELDS:
            keys.append((SORT_FIELDS[name](stream), desc))
        else:
            raise ValueError(f"Unknown order field {words[0]}")
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


def list_filter(stream: Stream, books):
    """Build the predicate from If-Modified-Since, includeArchived and the invoice filters."""
    since = if_modified_since()
    include_archived = flag("includeArchived")
    statuses = {s.strip().upper() for s in request.args.get("Statuses", "").split(",") if s.strip()}
    ids = {i.strip().lower() for i in request.args.get("IDs", "").split(",") if i.strip()}
    contact_ids = {i.strip().lower() for i in request.args.get("ContactIDs", "").split(",") if i.strip()}
    numbers = {n.strip() for n in request.args.get("InvoiceNumbers", "").split(",") if n.strip()}
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
    try:
        order = parse_order(stream, request.args.get("order"))
    except ValueError as bad:
        return validation_error(str(bad))
    if request.args.get("where"):
        return validation_error(
            "The sandbox does not evaluate 'where' filters; use Statuses, IDs, ContactIDs, If-Modified-Since and order"
        )
    matches, key = list_filter(stream, books)
    with books.lock:
        chosen = selection(books, stream, (key, request.args.get("order", "")), matches, order)
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


def shape(books, record, name: str, summary: bool, with_lines: bool) -> dict:
    if name == "invoices":
        return shapes.invoice(books, record, summary=summary, with_lines=with_lines)
    if name == "contacts":
        return shapes.contact(books, record, summary=summary)
    return STREAMS[name].shape(books, record)


def serve_journals(books):
    """Up to 100 journals with JournalNumber > offset (and CreatedDateUTC >= If-Modified-Since)."""
    offset = max(0, int_arg("offset", 0))
    since = if_modified_since()
    with books.lock:
        start = offset
        if since is not None:
            start = max(start, bisect.bisect_left(books.journals, since, key=lambda j: j[4]))
        numbers = range(start + 1, min(start + JOURNALS_PER_CALL, len(books.journals)) + 1)
        rows = [shapes.journal(books, n) for n in numbers]
    g.rows, g.offset = len(rows), offset
    return json_response(envelope("Journals", rows))


def serve_settings(name: str, books):
    """Organisation, Accounts, TaxRates, Currencies, TrackingCategories, Users."""
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
        rows, key = shapes.tracking_categories(books, flag("includeArchived")), "TrackingCategories"
    else:
        rows, key = users(books, since), "Users"
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


@bp.route("/api.xro/2.0/<path:resource>", methods=["GET", "PUT", "POST", "DELETE"])
def resource(resource: str):
    """Dispatch an Accounting API path (case-insensitive) to its handler."""
    parts = [p for p in resource.split("/") if p]
    name = parts[0].lower() if parts else ""
    if name == "reports" and len(parts) == 2 and parts[1].lower() in REPORTS:
        endpoint, report = f"reports/{parts[1].lower()}", parts[1].lower()
        return guarded(endpoint, lambda books: serve_report(report, books))
    if name == "journals" and len(parts) == 1:
        return guarded("journals", serve_journals)
    if name in SETTINGS and len(parts) == 1:
        return guarded(name, lambda books: serve_settings(name, books))
    if name in STREAMS and len(parts) <= 2:
        record_id = parts[1] if len(parts) == 2 else None
        return guarded(name, lambda books: serve_stream(name, STREAMS[name], books, record_id))
    return not_found()


def guarded(endpoint: str, handler):
    if request.method != "GET":
        return json_response(
            {"Title": "Method Not Allowed", "Status": 405, "Detail": "The Xero sandbox is read-only"},
            405,
            {"Allow": "GET"},
        )
    return tenant_call(endpoint, handler)
