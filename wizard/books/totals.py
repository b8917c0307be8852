"""Keeping `book_total` equal to the committed records, page by page, and reading it back.

The sync calls `page_delta` before it writes a page and `apply` after, in the page's transaction:
the delta is what the page's winning copies post minus what the copies they replace posted (a
record only moves forward, so an older copy changes nothing). `tombstone_delta` does the same for
the rows a complete full pass tombstones. `recompute` is the slow, obvious sum over every record:
what the totals must always equal, and what `rebuild` stores for books synced before totals existed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any, cast

import orjson
from sqlalchemy import Insert, Table, delete, func, null, select, text
from sqlalchemy.dialects import sqlite

from wizard.books import postings
from wizard.clock import utcnow
from wizard.extensions import db
from wizard.models import BookTotal, Connection, SyncRun, XeroRecord
from wizard.models.sync import ACTIVE_RUN_STATES

Key = tuple[str, str, date, str]  # (basis, account reference, day, tracking option id or "")
_PG_PREVIOUS = text(
    "SELECT r.xero_id, r.xero_updated_at, r.tombstoned, r.payload"
    " FROM unnest(CAST(:ids AS varchar[])) AS page(xero_id) JOIN LATERAL ("
    "  SELECT xero_id, xero_updated_at, tombstoned, payload FROM xero_record"
    "  WHERE connection_id = :connection_id AND stream = :stream AND xero_id = page.xero_id LIMIT 1) AS r ON true"
)
_ADD: dict[str, Insert] = {}


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _add_statement() -> Insert:
    """`amount = amount + new amount` upsert for SQLite (executemany), built once."""
    if "sqlite" not in _ADD:
        table = cast(Table, BookTotal.__table__)
        insert = sqlite.insert(table)
        _ADD["sqlite"] = insert.on_conflict_do_update(
            index_elements=[
                table.c.connection_id,
                table.c.basis,
                table.c.account_ref,
                table.c.day,
                table.c.tracking_option,
            ],
            set_={"amount": table.c.amount + insert.excluded.amount},
        )
    return _ADD["sqlite"]


# PostgreSQL: one statement, the rows as five array literals (one parameter each, parsed by the
# server's array input). Bound as Python lists they were rendered as ARRAY[...] constructors of a few
# hundred constants each, which PostgreSQL parsed, cast and folded one by one (about 40 % of the
# statement's time); an executemany would cost a round of parameter quoting per row.
_PG_ADD = text(
    "INSERT INTO book_total (connection_id, basis, account_ref, day, tracking_option, amount)"
    " SELECT :connection_id, unnest(CAST(:bases AS varchar[])), unnest(CAST(:refs AS varchar[])),"
    " unnest(CAST(:days AS date[])), unnest(CAST(:options AS varchar[])), unnest(CAST(:amounts AS bigint[]))"
    " ON CONFLICT (connection_id, basis, account_ref, day, tracking_option)"
    " DO UPDATE SET amount = book_total.amount + excluded.amount"
)


def _array(values: Iterable[str]) -> str:
    """A PostgreSQL array literal of these strings (each quoted: commas, braces and spaces are data)."""
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def _this_month() -> date:
    return utcnow().date().replace(day=1)


def bucket(day: date, this_month: date) -> date:
    """Days before this month are summed per month (under its first day): a page then touches a
    few hundred totals, not thousands. This month and later stay daily, so a trial balance as at
    any day since is exact (Xero's is fetched as at the sync's day; financial years start on a 1st)."""
    return day.replace(day=1) if day < this_month else day


def _add(
    delta: Counter,
    stream: str,
    posted: Iterable[postings.Posting],
    sign: int,
    this_month: date,
    buckets: dict[date, date] | None = None,
) -> None:
    """Add `posted` times `sign` into `delta`; `buckets` (day -> its bucket) may be shared by the
    calls of one page: a page's postings fall on a few hundred days, and `bucket` is per posting."""
    basis = postings.basis(stream)
    if buckets is None:
        buckets = {}
    for ref, day, amount, option in posted:
        period = buckets.get(day)
        if period is None:
            period = buckets[day] = bucket(day, this_month)
        delta[(basis, ref, period, option)] += sign * amount


Stored = dict[str, tuple[datetime | None, bool, str | None]]  # xero_id -> (updated, tombstoned, payload)
_PG_STORED = text(
    "SELECT r.xero_id, r.xero_updated_at, r.tombstoned, NULL"
    " FROM unnest(CAST(:ids AS varchar[])) AS page(xero_id) JOIN LATERAL ("
    "  SELECT xero_id, xero_updated_at, tombstoned FROM xero_record"
    "  WHERE connection_id = :connection_id AND stream = :stream AND xero_id = page.xero_id LIMIT 1) AS r ON true"
)


def stored_copies(connection_id: int, stream: str, ids: list[str], payloads: bool = True) -> Stored:
    """The stored copies of these ids of a stream (payloads only when asked), in the current transaction."""
    if _dialect() == "postgresql":
        # One index probe per id, whatever the statistics say: while a first sync fills the table
        # they are stale, and `xero_id = ANY(..)` or a plain join was then planned as a scan (or a
        # hash) of the whole stream. LIMIT 1 keeps the planner from flattening the LATERAL probe.
        # The ids go as one array literal (see `_PG_ADD`).
        statement = _PG_PREVIOUS if payloads else _PG_STORED
        found = db.session.execute(statement, {"ids": _array(ids), "connection_id": connection_id, "stream": stream})
    else:
        found = db.session.execute(
            select(
                XeroRecord.xero_id,
                XeroRecord.xero_updated_at,
                XeroRecord.tombstoned,
                XeroRecord.payload if payloads else null(),
            ).where(XeroRecord.connection_id == connection_id, XeroRecord.stream == stream, XeroRecord.xero_id.in_(ids))
        )
    return {xero_id: (updated, tombstoned, payload) for xero_id, updated, tombstoned, payload in found}


def page_delta(
    connection_id: int,
    stream: str,
    rows: list[dict[str, Any]],
    posted: dict[str, list[postings.Posting]],
    old: Stored | None = None,
) -> Counter:
    """What writing this page (rows from the sync's `record_rows`, `posted` their postings by Xero
    id) changes in the totals; call it before the page is written, in its transaction. `old`: the
    page's `stored_copies` with payloads, when the caller has looked them up already."""
    delta: Counter = Counter()
    this_month = _this_month()
    if old is None:
        old = stored_copies(connection_id, stream, [row["xero_id"] for row in rows])
    buckets: dict[date, date] = {}
    for row in rows:
        xero_id = row["xero_id"]
        previous = old.get(xero_id) if old else None
        if previous is not None:
            new_updated: datetime | None = row["xero_updated_at"]
            updated, tombstoned, payload = previous
            if updated is not None and new_updated is not None and new_updated < updated:
                continue  # the stored copy is newer and stays (store.py's rule)
            if postings.counts(stream, tombstoned):
                replaced = postings.postings(stream, orjson.loads(cast(str, payload)))
                _add(delta, stream, replaced, -1, this_month, buckets)
        new_postings = posted.get(xero_id)
        if new_postings and postings.counts(stream, row["tombstoned"]):
            _add(delta, stream, new_postings, 1, this_month, buckets)
    return delta


def tombstone_delta(unseen_payloads: Iterable[str], stream: str) -> Counter:
    """What tombstoning these live rows (their payloads) takes out of the totals."""
    delta: Counter = Counter()
    this_month = _this_month()
    for payload in unseen_payloads:
        _add(delta, stream, postings.postings(stream, orjson.loads(payload)), -1, this_month)
    return delta


def apply(connection_id: int, delta: Counter) -> None:
    """Add a delta to the stored totals, in the current transaction."""
    changed = [(basis, ref, day, option, amount) for (basis, ref, day, option), amount in delta.items() if amount]
    if not changed:
        return
    if _dialect() == "postgresql":
        bases, refs, days, options, amounts = zip(*changed, strict=True)
        db.session.execute(
            _PG_ADD,
            {
                "connection_id": connection_id,
                "bases": _array(bases),
                "refs": _array(refs),
                "days": "{" + ",".join(day.isoformat() for day in days) + "}",
                "options": _array(options),
                "amounts": "{" + ",".join(map(str, amounts)) + "}",
            },
        )
        return
    rows = [
        {
            "connection_id": connection_id,
            "basis": basis,
            "account_ref": ref,
            "day": day,
            "tracking_option": option,
            "amount": amount,
        }
        for basis, ref, day, option, amount in changed
    ]
    db.session.execute(_add_statement(), rows)


def stored(connection_id: int) -> dict[Key, int]:
    """The stored totals, bucketed as today's writes would bucket them (days of a month that has
    since passed are summed into it), so they compare with `recompute`."""
    this_month, totals = _this_month(), Counter[Key]()
    query = select(
        BookTotal.basis, BookTotal.account_ref, BookTotal.day, BookTotal.tracking_option, BookTotal.amount
    ).where(BookTotal.connection_id == connection_id)
    for basis, ref, day, option, amount in db.session.execute(query):
        totals[(basis, ref, bucket(day, this_month), option)] += amount
    return {key: amount for key, amount in totals.items() if amount}


def _records(connection_id: int) -> Iterator[tuple[str, bool, str]]:
    query = select(XeroRecord.stream, XeroRecord.tombstoned, XeroRecord.payload).where(
        XeroRecord.connection_id == connection_id, XeroRecord.stream.in_(sorted(postings.POSTING_STREAMS))
    )
    yield from db.session.execute(query.execution_options(yield_per=2000))


def recompute(connection_id: int) -> dict[Key, int]:
    """Every committed record's postings summed from scratch (slow: reads every payload)."""
    delta: Counter = Counter()
    this_month = _this_month()
    for stream, tombstoned, payload in _records(connection_id):
        if postings.counts(stream, tombstoned):
            _add(delta, stream, postings.postings(stream, orjson.loads(payload)), 1, this_month)
    return {key: amount for key, amount in delta.items() if amount}


def rebuild(connection_id: int) -> int:
    """Replace a connection's totals with a recomputation (books synced before totals existed); returns rows."""
    db.session.execute(delete(BookTotal).where(BookTotal.connection_id == connection_id))
    fresh = Counter(recompute(connection_id))
    apply(connection_id, fresh)
    return len(fresh)


def rebuild_idle_connections() -> tuple[int, list[int]]:
    """`rebuild` every connection with no active sync run, one commit each; (rebuilt, ids left busy).

    A connection that is syncing is left alone: its pages move the totals while we would recompute."""
    rebuilt, busy = 0, []
    for connection_id in db.session.scalars(select(Connection.id).order_by(Connection.id)).all():
        active = select(SyncRun.id).where(SyncRun.connection_id == connection_id, SyncRun.state.in_(ACTIVE_RUN_STATES))
        if db.session.scalar(active.limit(1)) is not None:
            busy.append(connection_id)
            continue
        rebuild(connection_id)
        db.session.commit()
        rebuilt += 1
    return rebuilt, busy


def balances(connection_id: int, basis: str, as_at: date, fy_start: date) -> list[tuple[str, bool, int]]:
    """(account reference, dated before `fy_start`, cents) summed over every day up to `as_at`."""
    before = (BookTotal.day < fy_start).label("before_year")
    query = (
        select(BookTotal.account_ref, before, func.sum(BookTotal.amount))
        .where(
            BookTotal.connection_id == connection_id,
            BookTotal.basis == basis,
            BookTotal.day <= as_at,
            BookTotal.tracking_option == "",
        )
        .group_by(BookTotal.account_ref, before)
    )
    return [(ref, bool(before_year), int(amount)) for ref, before_year, amount in db.session.execute(query)]


def tracked(connection_id: int, options: list[str], first: date, last: date) -> Iterator[tuple[str, str, date, int]]:
    """(tracking option id, account reference, day, cents) on the transactions basis for the
    given options between two days: months before this one come summed under their first day."""
    query = (
        select(BookTotal.tracking_option, BookTotal.account_ref, BookTotal.day, func.sum(BookTotal.amount))
        .where(
            BookTotal.connection_id == connection_id,
            BookTotal.basis == "transactions",
            BookTotal.tracking_option.in_(options),
            BookTotal.day >= first,
            BookTotal.day <= last,
        )
        .group_by(BookTotal.tracking_option, BookTotal.account_ref, BookTotal.day)
    )
    for option, ref, day, amount in db.session.execute(query):
        yield option, ref, day, int(amount)
