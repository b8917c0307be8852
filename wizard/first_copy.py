"""How long a first copy usually takes, measured from our own finished initial syncs (step 1 says it)."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median, quantiles

from sqlalchemy import Select, select

from wizard.extensions import db
from wizard.models import SyncRun
from wizard.models.sync import TIMED_FIRST_COPY

# Recent runs only: the figure should follow the current sync engine and Xero's current limits.
SAMPLE = 50


@dataclass(frozen=True)
class FirstCopyTiming:
    runs: int
    median_seconds: float | None
    slow_seconds: float | None  # 9 in 10 of the timed first copies finished within this


def latest_first_copies(sample: int = SAMPLE) -> Select:
    """The most recent successful initial syncs, across every workspace, newest first.

    The condition is written as the partial index's own text (not bound parameters), so both
    SQLite and PostgreSQL can see that the index `ix_sync_run_timed_first_copy` answers it."""
    return (
        select(SyncRun.started_at, SyncRun.finished_at)
        .where(TIMED_FIRST_COPY, SyncRun.started_at.is_not(None), SyncRun.finished_at.is_not(None))
        .order_by(SyncRun.finished_at.desc())
        .limit(sample)
    )


def first_copy_timing(sample: int = SAMPLE) -> FirstCopyTiming:
    """Median and 90th percentile of the most recent successful initial syncs' durations."""
    query = latest_first_copies(sample)
    durations = [
        (finished - started).total_seconds()
        for started, finished in db.session.execute(query)
        if started is not None and finished is not None  # the query's filter, restated for the type checker
    ]
    if not durations:
        return FirstCopyTiming(0, None, None)
    slow = quantiles(durations, n=10)[-1] if len(durations) >= 10 else max(durations)
    return FirstCopyTiming(len(durations), median(durations), slow)


def _span(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 90:
        return f"about {minutes} minute{'s' if minutes != 1 else ''}"
    return f"about {round(seconds / 3600, 1):g} hours"


def first_copy_sentence(timing: FirstCopyTiming) -> str:
    """Step 1's "First copy" promise, in words, from the measured timing (or an honest fallback)."""
    if timing.median_seconds is None or timing.slow_seconds is None:
        return (
            "We have not timed a first copy yet. It depends on how much is in Xero: Xero limits how fast apps "
            "may read, so years of invoices can take up to an hour. You can leave the page while it runs."
        )
    copies = "first copy" if timing.runs == 1 else f"{timing.runs} first copies"
    sentence = f"Usually {_span(timing.median_seconds)} (the middle of our last {copies})."
    if timing.runs >= 10 and _span(timing.slow_seconds) != _span(timing.median_seconds):
        sentence += f" 9 in 10 finished within {_span(timing.slow_seconds).removeprefix('about ')}."
    rest = (
        "Xero limits how fast apps may read, so large organisations take longer. You can leave the page while it runs."
    )
    return f"{sentence} {rest}"
