"""Reports on a slower schedule than the lists (issue 17: egress).

A scheduled re-sync of a small organisation spends most of its bytes on the three reports, which
Xero sends whole every time (If-Modified-Since does not apply to them). Scheduled re-syncs keep a
report that is younger than SYNC_REPORTS_EVERY_MINUTES (default 6 hours) and say so on its row.
"Sync now" keeps the per-option Profit and Loss the same way (one report per tracking option: 8 of
the demo books' calls), and fetches the three main reports; initial syncs and support re-runs
always fetch everything.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from wizard.extensions import db
from wizard.models import XeroReport
from wizard.xero.streams import TRACKED_PNL

# Which kept reports each kind of sync skips (None: every fresh one).
KEPT_BY_KIND: dict[str, frozenset[str] | None] = {"scheduled": None, "manual": frozenset({TRACKED_PNL})}


def reports_to_keep(connection_id: int, kind: str, now: datetime, every_minutes: float) -> dict[str, datetime]:
    """The fresh reports a sync of `kind` keeps instead of fetching (see the module docstring)."""
    if kind not in KEPT_BY_KIND:
        return {}
    only = KEPT_BY_KIND[kind]
    fresh = fresh_reports(connection_id, now, every_minutes)
    return fresh if only is None else {report: at for report, at in fresh.items() if report in only}


def fresh_reports(connection_id: int, now: datetime, every_minutes: float) -> dict[str, datetime]:
    """Report name -> when its oldest stored period was fetched, for reports fetched within the window."""
    if every_minutes <= 0:
        return {}
    oldest = db.session.execute(
        select(XeroReport.report, func.min(XeroReport.fetched_at))
        .where(XeroReport.connection_id == connection_id)
        .group_by(XeroReport.report)
    )
    cutoff = now - timedelta(minutes=every_minutes)
    return {report: fetched for report, fetched in oldest if fetched is not None and fetched >= cutoff}


def kept_note(fetched_at: datetime, every_minutes: float, report: str = "") -> str:
    hours = every_minutes / 60
    every = f"{hours:g} hours" if hours >= 1 else f"{every_minutes:g} minutes"
    if report == TRACKED_PNL:
        return f"Kept from {fetched_at:%d %b %H:%M} UTC: profit and loss by tracking option is refreshed every {every}."
    return f"Kept from {fetched_at:%d %b %H:%M} UTC: scheduled syncs refresh reports every {every}."
