"""Run one sync: every stream, page by page, each page committed together with its checkpoint.

Fetcher threads (at most the governor's 5 concurrent calls per tenant) page through streams,
decode each page straight into table rows (the decoded JSON is dropped at once, so a queued page
costs about its size on the wire) and hand it to the job's main thread, which alone writes to the
database: rows, progress and the stream's checkpoint in one transaction per page. The hand-over
queue is bounded, so memory does not grow with the organisation. A crash at any point resumes at
the first uncommitted page; a daily limit or an offline organisation parks the run with a resume job.

When the run lock turns out to be held by another execution, that execution owns the run: this one
stops writing at once, leaves the run's state, progress and checkpoints as they are, and returns
`{"stopped": "owned_elsewhere"}`; it never reports the run succeeded or failed.

A full pass over a stream (no If-Modified-Since) that completes also reconciles deletes: rows of
the stream that Xero did not return in this run are tombstoned with the final checkpoint; an
interrupted pass tombstones nothing (reliability.md §4.2 step 6, T-26).
"""

from __future__ import annotations

import gc
import logging
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask, current_app
from rq import get_current_job

from wizard import jobs, limit_pauses, priorities
from wizard.clock import utcnow
from wizard.connection_health import mark_broken, mark_login_dead
from wizard.extensions import db
from wizard.models import Connection, StreamCursor, StreamProgress, SyncRun
from wizard.schedule import next_sync_at
from wizard.webhooks import intake as webhook_intake
from wizard.xero.api import XeroApi
from wizard.xero.errors import (
    InsufficientScope,
    InvalidGrant,
    NotPermitted,
    OrganisationOffline,
    RateLimited,
    TenantForbidden,
    XeroBadRequest,
    XeroError,
    XeroNotFound,
    XeroUnavailable,
)
from wizard.xero.streams import STREAMS, TRACKED_PNL, Stream, report_calls, stream, tracked_report_calls
from workers.sync import store
from workers.sync.client import CallResult, TenantClient
from workers.sync.db_retry import retry_on_lost_connection
from workers.sync.governor import Governor, Limits
from workers.sync.report_schedule import kept_note, reports_to_keep

log = logging.getLogger(__name__)

# Errors that end one stream (noted on it) but not the run.
STREAM_ERRORS = (InsufficientScope, NotPermitted, XeroBadRequest, XeroNotFound)
CATEGORIES = "TrackingCategories"
SKIP_NOTE = "Not synced: the Xero login did not grant this data."
SLOT_MARGIN_SECONDS = 10


def settings(app: Flask) -> dict[str, Any]:
    """Sync settings from app config (defaults and parsing: wizard/config.py)."""
    config = app.config
    return {
        "page_size": config["SYNC_PAGE_SIZE"],
        "threads": config["SYNC_THREADS"],
        "backoff": config["SYNC_RETRY_BACKOFF"],
        "offline_retry": config["SYNC_OFFLINE_RETRY_SECONDS"],
        "watermark_margin": config["SYNC_WATERMARK_MARGIN_SECONDS"],
        "db_retries": config["SYNC_DB_RETRIES"],
        "reports_every": config["SYNC_REPORTS_EVERY_MINUTES"],
        "slice": config["SYNC_SLICE_SECONDS"],
        "turn": config["SYNC_TURN_SECONDS"],
        "limit_yield": config["SYNC_LIMIT_YIELD_SECONDS"],
        "limits": Limits(
            concurrent=config["XERO_MAX_IN_FLIGHT"],
            per_minute=config["XERO_CALLS_PER_MINUTE"],
            per_day=config["XERO_DAY_BUDGET"],
            time_scale=config["XERO_TIME_SCALE"],
            # A dead worker's call slots come back once its calls would have timed out anyway,
            # so the execution that takes its run over is not held at the door for two minutes.
            slot_timeout=config["XERO_HTTP_TIMEOUT"] + SLOT_MARGIN_SECONDS,
            app_per_minute=config["XERO_APP_CALLS_PER_MINUTE"],
            app_share=config["XERO_APP_SHARE"],
        ),
    }


@contextmanager
def long_lived_heap_frozen() -> Iterator[None]:
    """Keep the collector off the objects that exist before the pages arrive (app, models, imports).

    Decoding a page allocates tens of thousands of containers, so collections run often, and each
    full one would walk the whole long-lived heap: that halved the records per CPU-second.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@dataclass
class Task:
    connection_id: int
    stream: Stream
    since: datetime | None
    checkpoint: dict[str, Any]
    run_id: int | None = None

    @property
    def full_pass(self) -> bool:
        """Every record of the stream is asked for (no If-Modified-Since): its end reconciles deletes."""
        return self.since is None and not self.stream.is_report


@dataclass
class Page:
    rows: list[dict[str, Any]]  # xero_record rows, ready for the upsert
    next_checkpoint: dict[str, Any] | None
    last: bool
    calls: int
    correlation_id: str
    total: int | None = None
    report_period: str = ""
    report_body: dict[str, Any] = field(default_factory=dict)


@dataclass
class Timings:
    """Where this attempt's time went: our own processing vs waiting for Xero's pages.

    `decode` is CPU time of the fetcher threads turning JSON bytes into rows (thread CPU time, so
    waiting on the network or for the GIL is not counted); `write` is the writer's wall time in
    upsert + progress + commit (`write_cpu`: its CPU time; the rest is waiting for the database,
    the disk, the GIL or a CPU); `idle` is the writer's wall time waiting for the next page.
    """

    decode: float = 0.0
    write: float = 0.0
    write_cpu: float = 0.0
    idle: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_decode(self, seconds: float) -> None:
        with self._lock:
            self.decode += seconds

    def as_dict(self) -> dict[str, float]:
        return {
            "decode_seconds": round(self.decode, 3),
            "write_seconds": round(self.write, 3),
            "write_cpu_seconds": round(self.write_cpu, 3),
            "idle_seconds": round(self.idle, 3),
        }


@dataclass
class Message:
    stream: str
    page: Page | None = None
    error: BaseException | None = None
    exited: bool = False


class SyncEngine:
    def __init__(self, sync_run_id: int) -> None:
        self.run_id = sync_run_id
        self.app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        self.settings = settings(self.app)
        self.api = XeroApi(self.app.config["XERO_API_URL"], timeout=self.app.config["XERO_HTTP_TIMEOUT"])
        self.stop = threading.Event()
        # Set (with `stop`) when another execution holds the run lock: the run is theirs now.
        self.owned_elsewhere = threading.Event()
        self.full_passes: set[str] = set()  # streams this attempt pages through without a watermark
        self.writing = False  # the main thread is still consuming fetched pages
        self.timings = Timings()
        # Set once this run has stored the TrackingCategories (or will not fetch them): the
        # per-option P&L reads the stored categories instead of calling Xero for them again.
        self.categories_ready = threading.Event()
        self.cursors: dict[str, StreamCursor] = {}  # by stream, while the pump writes (see `_pump`)
        # Time slices: once this job has worked `slice` seconds it ends at the next committed page
        # and queues the rest of the run behind the other waiting jobs (round robin on workers).
        started = time.monotonic()
        self.slice_ends = started + self.settings["slice"] if self.settings["slice"] > 0 else None
        # A shorter turn ends the slice early, but only when another job waits for a worker.
        self.turn_ends = started + self.settings["turn"] if self.settings["turn"] > 0 else None
        self.sliced = False
        self.waiting_queues: list[str] = []  # the RQ queues at this job's priority or above (set at start)
        # Set when the slice ends because the organisation's own minute would hold the worker idle:
        # the next slice is scheduled for when the minute frees (epoch seconds), not queued at once.
        self.resume_at: float | None = None
        self.resume_problem = "minute"

    def yield_to_owner(self) -> None:
        """Another execution holds the run lock: stop now and leave the run to it."""
        self.owned_elsewhere.set()
        self.stop.set()

    # the run -------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        run = db.session.get(SyncRun, self.run_id)
        if run is None or run.finished:
            return {"skipped": True}
        connection = db.session.get_one(Connection, run.connection_id)
        if not connection.is_usable:
            run.fail(connection.state_reason or "sync_failed", "The connection needs attention before it can sync.")
            db.session.commit()
            return {"failed": run.error_kind}
        run.start()
        connection.move_to("syncing", run.kind)
        self._prepare_progress(run, connection)
        run.call_rate = self.settings["limits"].calls_per_second
        db.session.commit()
        log.info("sync.start run=%s connection=%s attempt=%s", run.id, connection.id, run.attempts)
        job = get_current_job()
        self.waiting_queues = priorities.waiting_keys(job.origin if job else priorities.queue_for(run.kind).name)
        governor = Governor(
            jobs.redis(), connection.tenant_id, self.settings["limits"], waiting_queues=self.waiting_queues
        )
        assert connection.token_set_id is not None, "a usable connection has a Xero login"
        client = TenantClient(
            self.api,
            governor,
            connection.token_set_id,
            connection.tenant_id,
            run.id,
            self.stop,
            backoff=self.settings["backoff"],
            db_retries=self.settings["db_retries"],
        )
        with long_lived_heap_frozen():
            fatal = self._pump(run, connection, client)
        if self.owned_elsewhere.is_set():
            return self._leave_to_owner(fatal)
        if fatal is not None:
            return self._handle_fatal(fatal)
        if self.sliced and any(p.state in ("pending", "running") for p in run.streams):
            return self._end_slice(run)
        return self._finish(run, connection)

    def _prepare_progress(self, run: SyncRun, connection: Connection) -> None:
        if run.streams:
            return
        granted = set(connection.token_set.scope_list) if connection.token_set else set()
        only = webhook_intake.claim_streams(connection.id, run.kind)  # a webhook run: just what changed
        every = self.settings["reports_every"]
        kept = reports_to_keep(connection.id, run.kind, utcnow(), every)
        for position, s in enumerate(STREAMS):
            if only is not None and s.name not in only:
                continue
            progress = StreamProgress(stream=s.name, position=position, page_size=self._page_size(s) or None)
            if granted and not s.granted(granted):
                progress.state, progress.note = "skipped", s.optional_note or SKIP_NOTE
            elif s.name in kept:
                progress.state, progress.note = "skipped", kept_note(kept[s.name], every, s.name)
            run.streams.append(progress)

    def _page_size(self, s: Stream) -> int:
        if s.paging == "page":
            return min(s.page_size, self.settings["page_size"])
        return s.page_size

    def _tasks(self, run: SyncRun, connection: Connection) -> list[Task]:
        tasks = []
        for progress in run.streams:
            if progress.state in ("done", "skipped", "failed"):
                continue
            s = stream(progress.stream)
            cursor = store.cursor_for(connection.id, s.name)
            checkpoint = cursor.checkpoint if cursor.checkpoint and cursor.checkpoint_run_id == run.id else {}
            since = cursor.watermark if s.modified_since else None
            tasks.append(Task(connection.id, s, since, dict(checkpoint), run.id))
            if progress.state == "pending":
                progress.state, progress.started_at = "running", utcnow()
        db.session.commit()
        self.full_passes = {t.stream.name for t in tasks if t.full_pass}
        # Biggest streams first, so the long poles start early; the per-option P&L last, as it
        # waits for this run's TrackingCategories (with one fetcher, first would wait forever).
        return sorted(
            tasks,
            key=lambda t: (t.stream.name == TRACKED_PNL, t.stream.paging not in ("page", "offset"), t.stream.name),
        )

    # threads --------------------------------------------------------------------------
    def _pump(self, run: SyncRun, connection: Connection, client: TenantClient) -> BaseException | None:
        """Start the fetchers, write what they fetch; returns the error that stopped the run, if any."""
        tasks = self._tasks(run, connection)
        if not tasks:
            return None
        if not any(t.stream.name == CATEGORIES for t in tasks):
            self.categories_ready.set()
        todo: queue.Queue[Task] = queue.Queue()
        for task in tasks:
            todo.put(task)
        out: queue.Queue[Message] = queue.Queue(maxsize=2 * self.settings["threads"])
        threads = [
            threading.Thread(target=self._fetcher, args=(todo, out, client), daemon=True, name=f"sync-{run.id}-{n}")
            for n in range(min(self.settings["threads"], len(tasks)))
        ]
        for thread in threads:
            thread.start()
        running, fatal = len(threads), None
        progress = {p.stream: p for p in run.streams}
        self.writing = True
        # Page commits keep the run, its progress rows, the connection and the stream cursors loaded:
        # while the run is ours only this thread writes them, and re-reading four rows after every
        # commit cost more round trips than the page's own rows. A rollback (db_retry) still expires
        # them, discarding the failed page's changes; once the pump ends they are read afresh.
        session = db.session()
        expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
        try:
            while running:
                waiting = time.perf_counter()
                try:
                    message = out.get(timeout=1.0)
                except queue.Empty:
                    if not any(t.is_alive() for t in threads):
                        break
                    self._note_limit_wait(run, client)
                    self._yield_to_limit(client)
                    continue
                finally:
                    self.timings.idle += time.perf_counter() - waiting
                if message.exited:
                    running -= 1
                elif self.owned_elsewhere.is_set():
                    continue  # the run is another execution's now: write nothing more, just drain
                elif message.page is not None:
                    self._write(run, connection, progress[message.stream], message.page)
                    if not self.sliced and self._slice_over():
                        # Page boundary past the slice: fetchers stop after the page in hand (every
                        # call made is still written, so slicing costs no extra call).
                        self.sliced = True
                        self.stop.set()
                elif message.error is not None and self.sliced and isinstance(message.error, XeroUnavailable):
                    continue  # gave up retrying because the slice ended: the next slice asks again
                elif message.error is not None:
                    fatal = fatal or self._stream_failed(run, progress[message.stream], message.error)
        finally:
            session.expire_on_commit = expire_on_commit
            session.expire_all()  # every page is committed (or rolled back) by now
            self.cursors.clear()
            self.writing = False
            self.stop.set()
            for thread in threads:
                thread.join(timeout=30)
        return fatal

    def _slice_over(self) -> bool:
        """The slice is over, or the turn is and another job waits for a worker at this job's
        priority or above (asked once per page after the turn, one Redis round trip)."""
        now = time.monotonic()
        if self.slice_ends is not None and now >= self.slice_ends:
            return True
        if self.turn_ends is None or now < self.turn_ends:
            return False
        return get_current_job() is not None and priorities.others_waiting(self.waiting_queues)

    def _yield_to_limit(self, client: TenantClient) -> None:
        """Every call waits `limit_yield` seconds or more for the organisation's own window (its
        minute, Xero's block or its share of the app's minute): end the slice and hand the worker
        to another organisation until the window frees."""
        if self.sliced or self.settings["limit_yield"] <= 0:
            return
        waiting = client.governor.own_wait()
        if waiting is None or waiting[1] - time.time() < self.settings["limit_yield"]:
            return
        self.sliced, self.resume_at, self.resume_problem = True, waiting[1], waiting[0]
        self.stop.set()

    def _note_limit_wait(self, run: SyncRun, client: TenantClient) -> None:
        """Nothing arrived for a second: if a Xero limit holds the calls back, say which on the run
        and when syncing resumes (Data page, progress sentence, doctor), not only in the logs."""
        waiting = client.governor.current_wait()
        if waiting is None:
            return
        problem, resume = waiting
        reason = limit_pauses.reason_for(problem)
        until = datetime.fromtimestamp(resume, UTC).replace(tzinfo=None, microsecond=0)
        if (
            run.pause_reason == reason
            and run.paused_until is not None
            and abs((run.paused_until - until).total_seconds()) < 2
        ):
            return  # already said
        run.note_limit_wait(until, reason)
        db.session.commit()
        log.info("sync.limit_wait run=%s limit=%s until=%s", run.id, problem, until.isoformat(timespec="seconds"))

    def _fetcher(self, todo: queue.Queue, out: queue.Queue, client: TenantClient) -> None:
        with self.app.app_context():
            try:
                while not self.stop.is_set():
                    try:
                        task = todo.get_nowait()
                    except queue.Empty:
                        break
                    try:
                        for page in self._pages(client, task):
                            self._offer(out, Message(task.stream.name, page=page))
                            if self.stop.is_set():
                                break
                    except InterruptedError:
                        break
                    except Exception as exc:  # noqa: BLE001 - the writer records or re-raises it
                        self._offer(out, Message(task.stream.name, error=exc))
            finally:
                db.session.remove()
                self._offer(out, Message("", exited=True))

    def _offer(self, out: queue.Queue, message: Message) -> None:
        """Hand a message to the writer; give up only if the writer itself has stopped."""
        while True:
            try:
                out.put(message, timeout=0.5)
                return
            except queue.Full:
                if self.stop.is_set() and not self.writing:
                    return

    def _pages(self, client: TenantClient, task: Task) -> Iterator[Page]:
        s, checkpoint = task.stream, task.checkpoint
        if s.is_report:
            calls, extra = report_calls(s.name, date.today()), 0
            if s.name == TRACKED_PNL:
                if not self._wait_for_categories():
                    return
                calls = tracked_report_calls(store.live_payloads(task.connection_id, CATEGORIES), date.today())
                if not calls:
                    yield Page([], None, True, 0, "", total=0)
            for index in range(int(checkpoint.get("call", 0)), len(calls)):
                period, query = calls[index]
                result = client.get(s.name, s.report_resource, query, None)
                yield Page(
                    [],
                    {"call": index + 1},
                    index + 1 == len(calls),
                    result.calls + extra,
                    result.response.correlation_id,
                    total=len(calls),
                    report_period=period,
                    report_body=self._decode(result) or {},
                )
                extra = 0
            return
        if s.paging == "page":
            size, page = self._page_size(s), int(checkpoint.get("page", 1))
            while True:
                params = {"page": page, "pageSize": size, "order": f"{s.key} ASC", **s.params}
                result = client.get(s.name, s.resource, params, task.since)
                rows, count, total, _number = self._rows(task, result)
                # A short page ends it; so does reaching itemCount (saves the empty last call).
                last = count < size or (total is not None and page * size >= total)
                yield Page(rows, {"page": page + 1}, last, result.calls, result.response.correlation_id, total=total)
                if last:
                    return
                page += 1
        if s.paging == "offset":
            offset = int(checkpoint.get("offset", 0))
            while True:
                result = client.get(s.name, s.resource, {"offset": offset, **s.params}, task.since)
                rows, count, _total, number = self._rows(task, result)
                offset = max(offset, number)
                yield Page(rows, {"offset": offset}, count < s.page_size, result.calls, result.response.correlation_id)
                if count < s.page_size:
                    return
        result = client.get(s.name, s.resource, dict(s.params) or None, task.since)
        rows, count, _total, _number = self._rows(task, result)
        yield Page(rows, None, True, result.calls, result.response.correlation_id, total=count)

    def _wait_for_categories(self) -> bool:
        """Wait (in a fetcher) until the writer has committed this run's TrackingCategories, or
        the stream ended without them; False when the run stops first."""
        while not self.categories_ready.wait(0.2):
            if self.stop.is_set():
                return False
        db.session.rollback()  # read what the writer committed, not an older snapshot
        return True

    def _decode(self, result: CallResult) -> Any:
        started = time.thread_time()
        try:
            return store.decode(result.response.body)
        finally:
            result.response.body = None
            self.timings.add_decode(time.thread_time() - started)

    def _rows(self, task: Task, result: CallResult) -> tuple[list[dict[str, Any]], int, int | None, int]:
        """One list response -> (table rows, records Xero sent, pagination itemCount, highest
        JournalNumber). Runs in the fetcher; the decoded page is dropped before it waits to hand over."""
        started = time.thread_time()
        body = store.decode(result.response.body) or {}
        result.response.body = None  # only the rows travel on; the page's bytes and dicts are dropped
        items = body.get(task.stream.collection) or []
        rows = store.record_rows(task.connection_id, task.stream, items, utcnow(), task.run_id)
        total = (body.get("pagination") or {}).get("itemCount")
        number = (
            max((int(i.get("JournalNumber") or 0) for i in items), default=0) if task.stream.paging == "offset" else 0
        )
        self.timings.add_decode(time.thread_time() - started)
        return rows, len(items), int(total) if total is not None else None, number

    # writing ---------------------------------------------------------------------------
    def _write(self, run: SyncRun, connection: Connection, progress: StreamProgress, page: Page) -> None:
        """Commit one page; a lost database connection rolls it back and writes it again."""
        retry_on_lost_connection(
            lambda: self._write_page(run, connection, progress, page), self.settings["db_retries"], "write_page"
        )

    def _write_page(self, run: SyncRun, connection: Connection, progress: StreamProgress, page: Page) -> None:
        started, started_cpu = time.perf_counter(), time.thread_time()
        s = stream(progress.stream)
        cursor = self.cursors.get(s.name) or store.cursor_for(connection.id, s.name)
        if page.report_period:
            store.save_report(connection.id, s.name, page.report_period, page.report_body)
            progress.done += 1
        else:
            written = store.upsert_rows(page.rows)
            progress.done += written
            run.records += written
        progress.calls += page.calls
        run.calls += page.calls
        run.progressed_at = utcnow()
        run.clear_limit_wait()
        progress.correlation_id = page.correlation_id or progress.correlation_id
        if page.total is not None:
            progress.total = page.total
        if page.last:
            if s.modified_since and run.started_at is not None:
                # Next run asks for changes since this run began (minus clock-skew margin).
                cursor.watermark = run.started_at - timedelta(seconds=self.settings["watermark_margin"])
            if s.name in self.full_passes:
                # Every page of this full pass is written (earlier attempts of this run included):
                # what the run did not see, Xero no longer has.
                gone = store.tombstone_unseen(connection.id, s.name, run.id)
                if gone:
                    log.info("sync.tombstoned run=%s stream=%s rows=%s", run.id, s.name, gone)
            cursor.checkpoint, cursor.checkpoint_run_id = None, None
            progress.state, progress.finished_at = "done", utcnow()
            progress.total = max(progress.total or 0, progress.done)
        else:
            cursor.checkpoint, cursor.checkpoint_run_id = page.next_checkpoint, run.id
        db.session.commit()  # rows + checkpoint + progress: one transaction
        if page.last and s.name == CATEGORIES:
            self.categories_ready.set()
        self.cursors[s.name] = cursor  # committed, so a later rollback only expires it
        self.timings.write += time.perf_counter() - started
        self.timings.write_cpu += time.thread_time() - started_cpu

    def _stream_failed(self, run: SyncRun, progress: StreamProgress, error: BaseException) -> BaseException | None:
        """Record a stream's error; returns it when it must stop the whole run."""
        kind = getattr(error, "kind", "sync_failed")
        correlation = getattr(error, "correlation_id", "")
        if progress.stream == CATEGORIES:
            self.categories_ready.set()  # the per-option P&L uses whatever categories are stored
        run.record_error(kind, str(error), progress.stream, correlation)
        run.calls += 1
        progress.calls += 1
        if isinstance(error, STREAM_ERRORS):
            skipped = isinstance(error, (InsufficientScope, NotPermitted))
            progress.state = "skipped" if skipped else "failed"
            progress.note = SKIP_NOTE if skipped else ""
            progress.error, progress.correlation_id = str(error)[:500], correlation
            db.session.commit()
            return None
        db.session.commit()
        self.stop.set()
        log.warning(
            "sync.stopping run=%s stream=%s kind=%s correlation_id=%s",
            run.id,
            progress.stream,
            kind,
            correlation or "-",
        )
        return error

    # endings ---------------------------------------------------------------------------
    def _finish(self, run: SyncRun, connection: Connection) -> dict[str, Any]:
        unfinished = [p.stream for p in run.streams if p.state in ("pending", "running")]
        if unfinished:
            # Never a verdict on a run whose streams are not all ended: RQ retries the job, which
            # resumes those streams at their checkpoints.
            raise RuntimeError(f"sync run {run.id} stopped with unfinished streams: {', '.join(unfinished)}")
        failed = [p for p in run.streams if p.state == "failed"]
        if failed:
            run.fail(
                "sync_failed",
                f"{len(failed)} data type(s) could not be synced: " + ", ".join(p.stream for p in failed),
                failed[0].correlation_id,
            )
            connection.move_to("failed", "sync_failed", run.error_message)
        else:
            run.succeed()
            connection.move_to("synced", "")
            connection.last_synced_at = run.finished_at
        connection.next_sync_at = next_sync_at(
            connection.id, connection.sync_interval_minutes, utcnow(), self.app.config["SYNC_SCHEDULE_HEADROOM"]
        )
        db.session.commit()
        timings = self.timings.as_dict()
        log.info(
            "sync.%s run=%s records=%s calls=%s seconds=%.1f %s",
            run.state,
            run.id,
            run.records,
            run.calls,
            run.duration_seconds or 0,
            " ".join(f"{k}={v}" for k, v in timings.items()),
        )
        return {"state": run.state, "records": run.records, "calls": run.calls, **timings}

    def _end_slice(self, run: SyncRun) -> dict[str, Any]:
        """The slice is over with streams left: the run stays running (the Data page still says
        syncing) with its checkpoints committed, and its next job goes to the back of the queue."""
        from wizard.syncing import enqueue_next_slice

        resume = datetime.fromtimestamp(self.resume_at, UTC).replace(tzinfo=None) if self.resume_at else None
        run.end_slice(resume, self.resume_problem)
        job = get_current_job()
        enqueue_next_slice(run, job.origin if job else None, dict(job.meta) if job else None, at=resume)
        log.info(
            "sync.slice_end run=%s records=%s calls=%s job=%s resume=%s",
            run.id,
            run.records,
            run.calls,
            run.rq_job_id,
            resume.isoformat(timespec="seconds") if resume else "queued",
        )
        return {"sliced": True, "records": run.records, "calls": run.calls, **self.timings.as_dict()}

    def _leave_to_owner(self, fatal: BaseException | None) -> dict[str, Any]:
        """Stopped because another execution owns the run: no verdict on it (the owner gives it),
        no pause, no retry; checkpoints and progress stay as committed, for the owner to go on from."""
        db.session.rollback()
        run = db.session.get_one(SyncRun, self.run_id)
        log.warning(
            "sync.left_to_owner run=%s state=%s records=%s error=%s",
            run.id,
            run.state,
            run.records,
            type(fatal).__name__ if fatal is not None else "-",
        )
        return {
            "stopped": "owned_elsewhere",
            "state": run.state,
            "records": run.records,
            "calls": run.calls,
            **self.timings.as_dict(),
        }

    def _handle_fatal(self, exc: BaseException) -> dict[str, Any]:
        db.session.rollback()
        run = db.session.get_one(SyncRun, self.run_id)
        connection = db.session.get_one(Connection, run.connection_id)
        if isinstance(exc, (RateLimited, OrganisationOffline)):
            return self._pause(run, connection, exc)
        if not isinstance(exc, (TenantForbidden, InvalidGrant)):
            raise exc  # 5xx after backoff, bugs: RQ retries the job (it resumes at the checkpoint)
        state = "disconnected" if isinstance(exc, TenantForbidden) else "needs_reauth"
        mark_broken(connection, state, exc.kind, str(exc))
        if isinstance(exc, InvalidGrant):
            mark_login_dead(connection.token_set_id)  # the sibling connections on the same Xero login
        run.fail(exc.kind, str(exc), exc.correlation_id)
        db.session.commit()
        log.warning("sync.failed run=%s kind=%s correlation_id=%s", run.id, exc.kind, exc.correlation_id or "-")
        return {"failed": exc.kind}

    def _pause(self, run: SyncRun, connection: Connection, exc: XeroError) -> dict[str, Any]:
        from wizard.syncing import schedule_resume

        if isinstance(exc, OrganisationOffline):
            wait = exc.retry_after or self.settings["offline_retry"]
        else:
            wait = exc.retry_after or self.settings["limits"].day_seconds / 24
        until = utcnow() + timedelta(seconds=wait)
        run.pause(until, limit_pauses.reason_for(exc.problem) if isinstance(exc, RateLimited) else exc.kind)
        connection.move_to("paused", exc.kind)
        db.session.commit()
        schedule_resume(run, until)
        log.warning("sync.paused run=%s kind=%s until=%s", run.id, exc.kind, until.isoformat(timespec="seconds"))
        return {"paused_until": until.isoformat()}
