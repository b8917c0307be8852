"""Sync runs, their per-stream progress, resumable cursors, and the synced Xero records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, JSON, ForeignKey, ForeignKeyConstraint, Index, String, Text, UniqueConstraint, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wizard.clock import utcnow
from wizard.extensions import Model
from wizard.limit_pauses import SLICE_LIMIT, SLICE_PREFIX
from wizard.sync_progress import OverallProgress, overall_progress

RUN_STATES = ("queued", "running", "paused", "succeeded", "failed")
FINISHED_RUN_STATES = ("succeeded", "failed")
ACTIVE_RUN_STATES = ("queued", "running", "paused")
# One active run per connection, enforced by the database even when two requests race.
_ACTIVE = text("state IN ('queued', 'running', 'paused')")
# A running run between two time slices (workers/sync/engine.py): its next job waits in its queue.
# It is still syncing (not stalled, not a new attempt); the next slice's start clears it.
SLICE_TURN = SLICE_PREFIX + "turn"
# Step 1's "first copy" figure reads the latest of these across the whole fleet: an index of them
# alone, so that read stays a few index entries however many runs the fleet has made.
TIMED_FIRST_COPY = text("kind = 'initial' AND state = 'succeeded'")
# Between slices because a limit of the organisation's own would have held the worker idle (its
# minute, or its share of the app's minute): SLICE_LIMIT + problem; the next slice's job is
# scheduled for `paused_until`, when that frees.


class SyncRun(Model):
    """One execution of a sync for one connection. The DB, not Redis, is what the UI shows."""

    __tablename__ = "sync_run"
    __table_args__ = (
        Index("ix_sync_run_connection_created", "connection_id", "id"),
        Index("uq_sync_run_one_active", "connection_id", unique=True, sqlite_where=_ACTIVE, postgresql_where=_ACTIVE),
        Index(
            "ix_sync_run_timed_first_copy",
            "finished_at",
            sqlite_where=TIMED_FIRST_COPY,
            postgresql_where=TIMED_FIRST_COPY,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connection.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="initial")  # initial/manual/scheduled
    state: Mapped[str] = mapped_column(String(20), default="queued")
    rq_job_id: Mapped[str] = mapped_column(String(100), default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    paused_until: Mapped[datetime | None]
    pause_reason: Mapped[str] = mapped_column(String(60), default="")
    deadline_at: Mapped[datetime | None]
    calls: Mapped[int] = mapped_column(default=0)
    records: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    error_kind: Mapped[str] = mapped_column(String(60), default="")
    error_message: Mapped[str] = mapped_column(Text, default="")
    correlation_id: Mapped[str] = mapped_column(String(100), default="")
    # Every error seen by this run (retried or not): [{at, stream, kind, message, correlation_id}].
    errors: Mapped[list | None] = mapped_column(JSON)
    # Calls per second the governor allowed when progress was last saved (for the ETA).
    call_rate: Mapped[float | None]
    # When an execution last started or committed a page: how long the run has stood still.
    progressed_at: Mapped[datetime | None]

    streams: Mapped[list[StreamProgress]] = relationship(
        back_populates="sync_run", order_by="StreamProgress.position", cascade="all, delete-orphan"
    )

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_RUN_STATES

    @property
    def between_slices(self) -> bool:
        return self.state == "running" and (
            self.pause_reason == SLICE_TURN or self.pause_reason.startswith(SLICE_LIMIT)
        )

    def start(self) -> None:
        if not self.between_slices:
            self.attempts += 1  # the next slice of a sliced run is the same attempt
        self.state = "running"
        self.started_at = self.started_at or utcnow()
        self.progressed_at = utcnow()
        self.paused_until = None
        self.pause_reason = ""

    def succeed(self) -> None:
        self.state, self.finished_at = "succeeded", utcnow()
        self.error_kind = self.error_message = ""

    def fail(self, kind: str, message: str, correlation_id: str = "") -> None:
        self.state, self.finished_at = "failed", utcnow()
        self.error_kind, self.error_message = kind, message[:2000]
        self.correlation_id = correlation_id or self.correlation_id

    def pause(self, until: datetime, reason: str) -> None:
        self.state, self.paused_until, self.pause_reason = "paused", until, reason

    def note_limit_wait(self, until: datetime | None, reason: str) -> None:
        """A running run waits for a short Xero limit (wizard.limit_pauses): say which, and until when."""
        self.paused_until, self.pause_reason = until, reason

    def end_slice(self, resume: datetime | None = None, problem: str = "minute") -> None:
        """This job's slice is over; the run stays running and its next job waits its turn, or
        (`resume`) until the Xero limit `problem` frees for this organisation."""
        self.paused_until, self.progressed_at = resume, utcnow()
        self.pause_reason = SLICE_LIMIT + problem if resume is not None else SLICE_TURN

    def clear_limit_wait(self) -> None:
        if self.state == "running" and self.pause_reason:
            self.paused_until, self.pause_reason = None, ""

    def record_error(self, kind: str, message: str, stream: str = "", correlation_id: str = "") -> None:
        """Keep an error in the run's history (support reads it with Xero's correlation id)."""
        entry = {
            "at": utcnow().isoformat(timespec="seconds"),
            "stream": stream,
            "kind": kind,
            "message": message[:500],
            "correlation_id": correlation_id,
        }
        self.errors = [*(self.errors or [])[-49:], entry]

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        return ((self.finished_at or utcnow()) - self.started_at).total_seconds()

    @property
    def remaining_calls(self) -> int:
        """Calls still needed by the streams whose size is known (pages left)."""
        return sum(s.remaining_calls for s in self.streams)

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the governor's pace; None while nothing is known."""
        if self.state not in ("running", "queued") or not self.call_rate:
            return None
        return self.remaining_calls / self.call_rate

    def stalled_minutes(self, after_seconds: int) -> int | None:
        """Whole minutes a running run has made no progress, once that is `after_seconds` or more."""
        since = self.progressed_at or self.started_at
        if self.state != "running" or since is None or self.between_slices:
            return None
        idle = (utcnow() - since).total_seconds()
        return int(idle // 60) if idle >= after_seconds else None

    @property
    def overall(self) -> OverallProgress:
        """How far the run is, by data types and estimated calls (wizard.sync_progress)."""
        return overall_progress(self.state, list(self.streams))


class StreamProgress(Model):
    """Where one stream of one run is: the customer's progress bar and support's diagnostics."""

    __tablename__ = "stream_progress"
    __table_args__ = (UniqueConstraint("sync_run_id", "stream"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sync_run_id: Mapped[int] = mapped_column(ForeignKey("sync_run.id"), index=True)
    stream: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending/running/done/skipped/failed
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int | None]
    calls: Mapped[int] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    correlation_id: Mapped[str] = mapped_column(String(100), default="")
    page_size: Mapped[int | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    sync_run: Mapped[SyncRun] = relationship(back_populates="streams")

    @property
    def remaining_calls(self) -> int:
        if self.state in ("done", "skipped", "failed"):
            return 0
        if self.total is None or not self.page_size:
            return 1
        left = max(self.total - self.done, 0)
        return -(-left // self.page_size)


class StreamCursor(Model):
    """Per connection and stream: the incremental watermark and the resumable checkpoint."""

    __tablename__ = "stream_cursor"
    __table_args__ = (UniqueConstraint("connection_id", "stream"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connection.id"), index=True)
    stream: Mapped[str] = mapped_column(String(60))
    # Start time of the last complete run of this stream (If-Modified-Since for the next one).
    watermark: Mapped[datetime | None]
    # Next page/offset of the run in progress, committed with each page's rows.
    checkpoint: Mapped[dict | None] = mapped_column(JSON)
    checkpoint_run_id: Mapped[int | None]


class XeroRecord(Model):
    """A record synced from Xero, upserted by (connection, stream, Xero id)."""

    __tablename__ = "xero_record"
    __table_args__ = (
        UniqueConstraint("connection_id", "stream", "xero_id"),
        # On PostgreSQL, statement-level triggers check the connection instead of a per-row foreign
        # key (wizard/models/record_owner.py): the same guarantee at a fraction of a page write's cost.
        ForeignKeyConstraint(["connection_id"], ["connection.id"]).ddl_if(dialect="sqlite"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No separate index: the unique (connection_id, stream, xero_id) constraint leads with it.
    connection_id: Mapped[int]
    stream: Mapped[str] = mapped_column(String(60))
    xero_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(30), default="")
    # DELETED / VOIDED / ARCHIVED in Xero: kept, marked, never hard-deleted.
    tombstoned: Mapped[bool] = mapped_column(default=False)
    xero_updated_at: Mapped[datetime | None]
    payload: Mapped[str] = mapped_column(Text)
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The sync run that last received this record from Xero. At the end of a complete full pass
    # over a stream, live rows not seen by that run are tombstoned (Xero no longer returns them).
    seen_run_id: Mapped[int | None]


# PostgreSQL compresses a payload over about 2 kB as it stores it (half the invoices); lz4 does that
# at a fraction of the default pglz's cost (a quarter less page-write time in bench/sync.py's replay)
# and decompresses faster too. A server built without lz4 keeps pglz. Used by the migration too.
# A server built without lz4 refuses it (feature_not_supported); one older than PostgreSQL 14 does
# not know the clause (syntax_error, caught because the statement is EXECUTEd): both keep pglz.
PAYLOAD_LZ4 = (
    "DO $$ BEGIN EXECUTE 'ALTER TABLE xero_record ALTER COLUMN payload SET COMPRESSION lz4'; "
    "EXCEPTION WHEN feature_not_supported OR syntax_error THEN NULL; END $$"
)
event.listen(XeroRecord.__table__, "after_create", DDL(PAYLOAD_LZ4).execute_if(dialect="postgresql"))


class XeroReport(Model):
    """A Xero report (P&L, balance sheet, trial balance) as fetched, per period."""

    __tablename__ = "xero_report"
    __table_args__ = (UniqueConstraint("connection_id", "report", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connection.id"), index=True)
    report: Mapped[str] = mapped_column(String(60))
    period: Mapped[str] = mapped_column(String(80))
    payload: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
