"""Which Xero limit a sync is waiting for, and when it resumes, in words (issue 17).

The engine records a wait on the run: `pause_reason` is `limit_<problem>` and `paused_until` the
moment syncing resumes. A daily allowance parks the run (state `paused`); the three short limits
(the organisation's minute, its calls at once, the whole app's minute) are waited out by the
running worker, which notes them on the run while it waits. The Data page, the connection page,
the progress sentence and the connection doctor all say it with these words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app

PREFIX = "limit_"
# A run between slices whose worker was handed back until a limit frees says `slice_limit_<problem>`
# (workers/sync/engine.py); both prefixes live here so the writer and the reader cannot drift apart.
SLICE_PREFIX = "slice_"
SLICE_LIMIT = SLICE_PREFIX + PREFIX
PROBLEMS = ("minute", "concurrent", "day", "app_minute")
LEGACY = {"rate_limited": "day"}  # runs parked before limits were named were always the daily allowance


def reason_for(problem: str) -> str:
    """The run's pause_reason for a wait on Xero limit `problem` (Xero's X-Rate-Limit-Problem words)."""
    problem = (problem or "").lower()
    if "app" in problem:
        return PREFIX + "app_minute"
    if problem in PROBLEMS:
        return PREFIX + problem
    return PREFIX + "minute"  # Xero names no other per-organisation limit


@dataclass(frozen=True)
class LimitPause:
    problem: str
    until: datetime | None
    limit: str  # the limit, in words

    @property
    def sentence(self) -> str:
        """Which limit, in one sentence; the template adds when syncing resumes (in the viewer's zone)."""
        if self.problem == "day":
            return f"Paused: {self.limit} is used up."
        return f"Waiting for Xero: {self.limit} was reached."


def _words(problem: str) -> str:
    config = current_app.config
    if problem == "minute":
        return f"Xero's limit of {config['XERO_CALLS_PER_MINUTE']} calls a minute for this organisation"
    if problem == "concurrent":
        return f"Xero's limit of {config['XERO_MAX_IN_FLIGHT']} calls at once for this organisation"
    if problem == "day":
        return f"this organisation's daily allowance of {config['XERO_DAY_BUDGET']:,} Xero calls"
    return (
        f"Xero's limit of {config['XERO_APP_CALLS_PER_MINUTE']:,} calls a minute for all organisations "
        "connected to this app together"
    )


def limit_pause(run) -> LimitPause | None:
    """The limit `run` is waiting for now, if any."""
    if run is None or run.state not in ("running", "paused"):
        return None
    reason = (run.pause_reason or "").removeprefix(SLICE_PREFIX)  # slice_limit_<problem> -> limit_<problem>
    problem = LEGACY.get(reason) or (reason[len(PREFIX) :] if reason.startswith(PREFIX) else "")
    if problem not in PROBLEMS:
        return None
    return LimitPause(problem, run.paused_until, _words(problem))
