"""Books: the FP&A views (P&L by tracking category, budget against actual, scheduled revenue).
Each says whether it matches Xero's own reports and shows any difference."""

from __future__ import annotations

from flask import request

from wizard.books.budget_actual import budget_vs_actual, budgets
from wizard.books.scheduled_revenue import scheduled_revenue
from wizard.books.tracking_pnl import categories, tracking_pnl
from wizard.books.views import bp, render_books
from wizard.clock import utcnow
from wizard.data.lookups import get_connection


def _chosen(param: str, first: str) -> str:
    """The id picked in the view's form, else the first choice."""
    return request.args.get(param) or first


@bp.get("/<id:connection_id>/by-tracking")
def pnl_by_tracking(connection_id: int):
    """Books: profit and loss by month for each option of a tracking category."""
    conn = get_connection(connection_id)
    choices = categories(conn.id)
    chosen = _chosen("category", choices[0].category_id if choices else "")
    result = tracking_pnl(conn.id, chosen, utcnow().date()) if chosen else None
    options = [(c.category_id, c.name) for c in choices]
    return render_books(
        "books/by_tracking.html", conn, options=options, chosen=chosen, result=result, section="tracking"
    )


@bp.get("/<id:connection_id>/budget")
def budget_against_actual(connection_id: int):
    """Books: a budget against actuals by month, reconciled with Xero's Budget Summary."""
    conn = get_connection(connection_id)
    choices = budgets(conn.id)
    chosen = _chosen("budget", choices[0].budget_id if choices else "")
    result = budget_vs_actual(conn.id, chosen, utcnow().date()) if chosen else None
    options = [(b.budget_id, b.description) for b in choices]
    return render_books("books/budget.html", conn, options=options, chosen=chosen, result=result, section="budget")


@bp.get("/<id:connection_id>/scheduled-revenue")
def scheduled(connection_id: int):
    """Books: revenue the repeating invoices will raise over the next 12 months."""
    conn = get_connection(connection_id)
    result = scheduled_revenue(conn.id, utcnow().date())
    return render_books("books/scheduled_revenue.html", conn, result=result, section="scheduled")
