"""How far a sync run is, by the work known to remain, not by the records seen so far.

Each data type is weighed by the Xero calls it needs: the calls made plus the pages still to
fetch (from Xero's pagination itemCount and the page size). A data type whose size is not known
yet counts as at least one call. The figure reaches 100 % only when the run has ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

ENDED_STREAM_STATES = ("done", "skipped", "failed")
ENDED_RUN_STATES = ("succeeded", "failed")


class StreamLike(Protocol):
    state: str
    calls: int
    done: int

    @property
    def remaining_calls(self) -> int: ...


@dataclass(frozen=True)
class OverallProgress:
    percent: int  # 0..100; 100 only for an ended run
    types_done: int
    types_total: int
    records: int  # rows written so far (the per-type table says which)

    @property
    def label(self) -> str:
        return f"{self.types_done} of {self.types_total} data types done"


def overall_progress(run_state: str, streams: list[StreamLike]) -> OverallProgress:
    """Calls done over calls needed (done + estimated remaining), per data type."""
    ended = [s for s in streams if s.state in ENDED_STREAM_STATES]
    done_work = needed_work = 0
    for s in streams:
        if s.state in ENDED_STREAM_STATES:
            work = max(s.calls, 1)
            done_work, needed_work = done_work + work, needed_work + work
        else:
            done_work += s.calls
            needed_work += s.calls + max(s.remaining_calls, 1)
    if run_state in ENDED_RUN_STATES:
        percent = 100
    elif not needed_work:
        percent = 0
    else:
        percent = min(99, int(100 * done_work / needed_work))  # never full while it still runs
    return OverallProgress(percent, len(ended), len(streams), sum(s.done for s in streams))
