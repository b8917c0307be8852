"""Public troubleshooting page: every hint, searchable by the code shown in the wizard."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from wizard.hints import HINTS

bp = Blueprint("help", __name__, url_prefix="/help")


@bp.get("/xero")
def xero():
    """All Xero connection hints; `?q=` filters by code or words."""
    query = request.args.get("q", "")[:100].strip().lower()
    hints = [
        h
        for h in HINTS.values()
        if not query or query in h.code or query in h.title.lower() or query in h.cause.lower()
    ]
    return render_template("help/xero.html", hints=hints, query=query)
