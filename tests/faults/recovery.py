"""Measuring a fault: when the run moved again and finished, and which pages it fetched twice.

A page counts as committed at the fault when its stream is done, or when the stream's checkpoint
is past it; the pages fetched before the fault and not committed then were in flight (fetched,
queued for the writer or being written). After the fault, only those may be fetched again.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

from tests.conftest import ROOT

FIGURES = ROOT / "test-output" / "fault-recovery.jsonl"


def _fetched(requests: list[dict], tenant_id: str) -> set[tuple[str, str]]:
    """The run's organisation's data pages Xero answered, as (path, query)."""
    return {
        (r["path"].lower(), r["query"])
        for r in requests
        if r["status"] == 200 and r["tenant"] == tenant_id and "/api.xro/" in r["path"].lower()
    }


@dataclass
class FaultClock:
    """Started at the fault: records the run's committed calls then, and the sandbox log length."""

    app: object
    sandbox: object
    run_id: int
    scenario: str
    at: float = field(default_factory=time.monotonic)
    moved_after: float | None = None
    finished_after: float | None = None

    def __post_init__(self) -> None:
        self.calls, self.committed, self.tenant_id = _committed(self.app, self.run_id)

    def settle(self, seconds: float = 2.0) -> None:
        """Let the requests the dead execution had sent be answered and logged, then mark the log."""
        time.sleep(seconds)
        self.before = self.sandbox.state.requests()

    def wait_until_moving(self, bound: float) -> float:
        """Seconds from the fault until the run commits a page again."""
        while time.monotonic() - self.at < bound:
            if _committed(self.app, self.run_id)[0] > self.calls:
                self.moved_after = round(time.monotonic() - self.at, 1)
                return self.moved_after
            time.sleep(0.2)
        raise AssertionError(f"{self.scenario}: the run did not move within {bound:.0f}s of the fault")

    def finished(self) -> float:
        self.finished_after = round(time.monotonic() - self.at, 1)
        return self.finished_after

    def refetched(self) -> tuple[set, set]:
        """(pages fetched again after the fault, pages in flight at the fault)."""
        before = _fetched(self.before, self.tenant_id)
        after = _fetched(self.sandbox.state.requests()[len(self.before) :], self.tenant_id)
        in_flight = {key for key in before if not self.committed(key)}
        return before & after, in_flight

    def report(self, **extra) -> None:
        figures = {"scenario": self.scenario, "moved_after_s": self.moved_after}
        figures["finished_after_s"] = self.finished_after
        FIGURES.parent.mkdir(exist_ok=True)
        with Path(FIGURES).open("a") as out:
            out.write(json.dumps({**figures, **extra}) + "\n")
        print(figures, extra)


def _committed(app, run_id: int):
    """The run's committed call count, a test of whether a page request was committed, its tenant."""
    from sqlalchemy import select

    from wizard.extensions import db
    from wizard.models import Connection, StreamCursor, SyncRun

    with app.app_context():
        db.session.expire_all()
        run = db.session.get(SyncRun, run_id)
        done = {p.stream.lower() for p in run.streams if p.state in ("done", "skipped")}
        next_page = {
            c.stream.lower(): int((c.checkpoint or {}).get("page", 0))
            for c in db.session.scalars(select(StreamCursor).where(StreamCursor.connection_id == run.connection_id))
            if c.checkpoint_run_id == run_id
        }
        calls, tenant_id = run.calls, db.session.get(Connection, run.connection_id).tenant_id

    def committed(key: tuple[str, str]) -> bool:
        path, query = key
        stream = path.rsplit("/", 1)[-1]
        if stream in done:
            return True
        page = parse_qs(query).get("page")
        return bool(page) and int(page[0]) < next_page.get(stream, 0)

    return calls, committed, tenant_id
