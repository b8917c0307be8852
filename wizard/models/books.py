"""Books aggregates kept as pages are committed: per account reference and month (or day), the cents posted."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from wizard.extensions import Model

FILLFACTOR = 70  # PostgreSQL; the migration f1c3a8e5d260 sets it too


class BookTotal(Model):
    """The sum of one connection's postings to one account reference in one month (under its
    first day) or, for the month of the write and later, on one day; on one basis; either for
    every line (`tracking_option` "") or for the lines tagged with one tracking option (its id),
    so a line tagged with two options also counts once under each.

    Written in the transaction of the page that changed it (workers/sync/store.py), so it always
    equals a recomputation from the committed records (wizard/books/totals.py `bucket`).
    """

    __tablename__ = "book_total"
    __table_args__ = (
        UniqueConstraint("connection_id", "basis", "account_ref", "day", "tracking_option", name="uq_book_total_key"),
        # Every page updates a few hundred totals in place: room on each page keeps those updates
        # HOT (no new index entries), where a full page moves the row and indexes it again.
        {"postgresql_with": {"fillfactor": FILLFACTOR}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connection.id"))
    basis: Mapped[str] = mapped_column(String(20))  # "journals" | "transactions"
    # What the records name (wizard/books/postings.py), resolved to an account when read.
    account_ref: Mapped[str] = mapped_column(String(200))
    day: Mapped[date]
    amount: Mapped[int] = mapped_column(BigInteger, default=0)  # cents, debit positive
    tracking_option: Mapped[str] = mapped_column(String(64), default="", server_default="")
