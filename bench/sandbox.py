"""How fast the Xero sandbox generates a large organisation and serves 1,000-invoice pages
over real HTTP on loopback. Prints figures only.

Pages are fetched on one persistent keep-alive connection (http.client, so the client costs
little); each pass reports throughput, the median page time, the server's own handler time
(from the sandbox request log) and, separately, what parsing the JSON costs the client.
The cold pass serves pages no request has touched (every record serialised); the warm pass
serves them again from the per-record JSON cache. CPU ms/page is this process's CPU time
(server and client threads together), steadier than wall time on a busy machine.

    .venv/bin/python bench/sandbox.py [--records 200000] [--pages 60] [--requests]
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import orjson
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from xero_sandbox.data import generate, make_profile, sandbox_uuid
from xero_sandbox.server import start_background

RECORDS = 200_000
PAGES = 60
PAGE_SIZE = 1000


def rss_mb() -> float:
    """Resident set size of this process in MB (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError):
        return 0.0


def bench_generation(records: int) -> None:
    from datetime import UTC, datetime

    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    books = generate(sandbox_uuid("org", "Bench"), make_profile("Bench Books Ltd"), records, "bench", datetime.now(UTC))
    took = time.perf_counter() - started
    gc.collect()
    print(
        f"generate {records:,}-record org: {took:.2f} s "
        f"({books.total_records():,} records, {len(books.invoices):,} invoices, {len(books.journals):,} journals;"
        f" +{rss_mb() - before:.0f} MB RSS)"
    )
    del books
    gc.collect()


def connect(server, records: int) -> tuple[str, str]:
    """Log in as the adviser through the sandbox pages and exchange the code."""
    from urllib.parse import parse_qs, urlsplit

    state = server.state
    tenant = state.create_org("Bench Books Ltd", records=records, users={"xero.adviser@demo.test": "Adviser"})
    redirect = "http://127.0.0.1:5000/connect/xero/callback"
    http = requests.Session()
    page = http.get(
        f"{server.url}/identity/connect/authorize",
        params={
            "client_id": "sandbox-client-id",
            "redirect_uri": redirect,
            "response_type": "code",
            "state": "b",
            "scope": "openid offline_access accounting.invoices.read",
        },
    )
    page = http.post(page.url, data={"email": "xero.adviser@demo.test", "password": "xero"})
    answer = http.post(page.url, data={"action": "allow", "tenant": tenant}, allow_redirects=False)
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    token = http.post(
        f"{server.url}/connect/token",
        auth=("sandbox-client-id", "sandbox-client-secret"),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
    ).json()
    return token["access_token"], tenant


class Client:
    """GET /Invoices pages on one keep-alive connection: http.client, or requests.Session."""

    def __init__(self, server, token: str, tenant: str, use_requests: bool = False) -> None:
        self.headers = {"Authorization": f"Bearer {token}", "xero-tenant-id": tenant, "Accept": "application/json"}
        self.url = f"{server.url}/api.xro/2.0/Invoices"
        self.session = requests.Session() if use_requests else None
        self.conn = http.client.HTTPConnection(server.host, server.port)

    def page(self, number: int) -> bytes:
        params = {"page": number, "pageSize": PAGE_SIZE}
        if self.session is not None:
            answer = self.session.get(self.url, headers=self.headers, params=params)
            answer.raise_for_status()
            return answer.content
        self.conn.request("GET", f"/api.xro/2.0/Invoices?{urlencode(params)}", headers=self.headers)
        response = self.conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"page {number}: HTTP {response.status} {body[:200]!r}")
        return body


def run_pass(label: str, client: Client, server, pages: range, keep: int = 0) -> list[bytes]:
    """Fetch the pages; returns the first `keep` bodies."""
    server.state.clear_requests()
    kept: list[bytes] = []
    times: list[float] = []
    size = 0
    cpu, started = time.process_time(), time.perf_counter()
    for number in pages:
        t = time.perf_counter()
        body = client.page(number)
        times.append(time.perf_counter() - t)
        size += len(body)
        if len(kept) < keep:
            kept.append(body)
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    handler = [e["duration_ms"] for e in server.state.requests(path="/api.xro/2.0/Invoices")]
    print(
        f"  {label}: {len(times) / took:.1f} pages/s, median {statistics.median(times) * 1000:.1f} ms/page "
        f"(server handler {statistics.median(handler):.1f} ms), CPU {cpu / len(times) * 1000:.1f} ms/page, "
        f"{size / len(times) / 1e6:.2f} MB/page"
    )
    return kept


def bench_pages(records: int, pages: int, use_requests: bool) -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log lines on stderr
    server = start_background({"LIMITS": {"enabled": False}})
    try:
        gc.collect()
        before = rss_mb()
        token, tenant = connect(server, records)
        gc.collect()
        books_mb = rss_mb() - before
        client = Client(server, token, tenant, use_requests)
        client.page(pages + 5)  # connection, token check and code paths warm; measured pages untouched
        how = "requests.Session" if use_requests else "http.client"
        print(f"serve {pages} pages of {PAGE_SIZE:,} invoices over HTTP ({how}, keep-alive):")
        before_passes = rss_mb()
        run_pass("cold", client, server, range(1, pages + 1))
        sample = run_pass("warm", client, server, range(1, pages + 1), keep=10)
        gc.collect()
        after_passes = rss_mb()
        for name, loads in (("orjson.loads", orjson.loads), ("json.loads", json.loads)):
            times = []
            for body in sample:
                t = time.perf_counter()
                loads(body)
                times.append(time.perf_counter() - t)
            print(
                f"  client parse with {name}: median {statistics.median(times) * 1000:.1f} ms/page (not included above)"
            )
        cache = getattr(server.state.books(tenant), "fragments", None)
        stats = cache.stats() if cache is not None else {"entries": 0, "bytes": 0, "budget": 0}
        print(
            f"  memory: org +{books_mb:.0f} MB RSS; JSON cache {stats['entries']:,} records, "
            f"{stats['bytes'] / 1e6:.0f} MB of {stats['budget'] / 1e6:.0f} MB budget "
            f"(RSS +{after_passes - before_passes:.0f} MB over both passes); process RSS {after_passes:.0f} MB"
        )
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=RECORDS)
    parser.add_argument("--pages", type=int, default=PAGES)
    parser.add_argument("--requests", action="store_true", help="fetch with requests.Session instead")
    parser.add_argument("--skip-generation", action="store_true")
    args = parser.parse_args(argv)
    if not args.skip_generation:
        bench_generation(args.records)
    bench_pages(args.records, args.pages, args.requests)


if __name__ == "__main__":
    main()
