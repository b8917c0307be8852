"""The books of one connection, once synced: every view is a real URL (page, or fragment for htmx)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask.typing import ResponseReturnValue

from wizard import syncing
from wizard.books import ledger
from wizard.books.charts import pnl_chart
from wizard.data.lookups import get_connection
from wizard.data.summary import record_counts
from wizard.htmx import render_page
from wizard.models import Connection
from wizard.presentation import base_currency

bp = Blueprint("books", __name__, url_prefix="/books")


def render_books(template: str, conn: Connection, **context: Any) -> ResponseReturnValue:
    """A books page: every one names the organisation's base currency its amounts are in."""
    return render_page(template, connection=conn, currency=base_currency(conn.id), **context)


@bp.get("/<id:connection_id>")
def overview(connection_id: int):
    """Books: record counts per data type and the sync history."""
    conn = get_connection(connection_id)
    return render_books(
        "books/overview.html",
        conn,
        counts=record_counts(conn.id),
        runs=syncing.run_history(conn.id),
        section="overview",
    )


@bp.get("/<id:connection_id>/accounts")
def accounts(connection_id: int):
    """Books: the chart of accounts as synced."""
    conn = get_connection(connection_id)
    return render_books("books/accounts.html", conn, accounts=ledger.chart_of_accounts(conn.id), section="accounts")


@bp.get("/<id:connection_id>/profit-and-loss")
def profit_and_loss(connection_id: int):
    """Books: monthly profit and loss (table and chart) from Xero's report."""
    conn = get_connection(connection_id)
    pnl = ledger.monthly_pnl(conn.id)
    return render_books("books/profit_and_loss.html", conn, pnl=pnl, chart=pnl_chart(pnl), section="pnl")


@bp.get("/<id:connection_id>/reconciliation")
def reconciliation(connection_id: int):
    """Books: our trial balance from synced transactions against Xero's, account by account."""
    conn = get_connection(connection_id)
    return render_books("books/reconciliation.html", conn, result=ledger.reconcile(conn.id), section="reconciliation")


from wizard.books import planning_views  # noqa: E402, F401  (registers the FP&A views on bp)
