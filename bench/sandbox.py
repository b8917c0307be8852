"""How fast the Xero sandbox generates a large organisation and serves 1,000-invoice pages
over real HTTP on loopback. Prints figures only."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from xero_sandbox.data import generate, make_profile, sandbox_uuid
from xero_sandbox.server import start_background

RECORDS = 200_000
PAGES = 60


def bench_generation() -> None:
    from datetime import UTC, datetime

    started = time.perf_counter()
    books = generate(sandbox_uuid("org", "Bench"), make_profile("Bench Books Ltd"), RECORDS, "bench",
                     datetime.now(UTC))
    took = time.perf_counter() - started
    print(f"generate {RECORDS:,}-record org: {took:.2f} s "
          f"({books.total_records():,} records, {len(books.invoices):,} invoices, {len(books.journals):,} journals)")


def connect(server) -> tuple[str, str]:
    """Log in as the adviser through the sandbox pages and exchange the code."""
    from urllib.parse import parse_qs, urlsplit

    state = server.state
    tenant = state.create_org("Bench Books Ltd", records=RECORDS, users={"xero.adviser@demo.test": "Adviser"})
    redirect = "http://127.0.0.1:5000/connect/xero/callback"
    http = requests.Session()
    page = http.get(f"{server.url}/identity/connect/authorize", params={
        "client_id": "sandbox-client-id", "redirect_uri": redirect, "response_type": "code", "state": "b",
        "scope": "openid offline_access accounting.invoices.read"})
    page = http.post(page.url, data={"email": "xero.adviser@demo.test", "password": "xero"})
    answer = http.post(page.url, data={"action": "allow", "tenant": tenant}, allow_redirects=False)
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    token = http.post(f"{server.url}/connect/token", auth=("sandbox-client-id", "sandbox-client-secret"),
                      data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect}).json()
    return token["access_token"], tenant


def bench_pages() -> None:
    server = start_background({"LIMITS": {"enabled": False}})
    try:
        token, tenant = connect(server)
        http = requests.Session()
        headers = {"Authorization": f"Bearer {token}", "xero-tenant-id": tenant, "Accept": "application/json"}
        url = f"{server.url}/api.xro/2.0/Invoices"
        http.get(url, headers=headers, params={"page": 1, "pageSize": 1000}).raise_for_status()
        started = time.perf_counter()
        size = 0
        for page in range(1, PAGES + 1):
            response = http.get(url, headers=headers, params={"page": page, "pageSize": 1000})
            response.raise_for_status()
            size += len(response.content)
        took = time.perf_counter() - started
        print(f"serve {PAGES} pages of 1,000 invoices over HTTP: {PAGES / took:.1f} pages/s "
              f"({took / PAGES * 1000:.1f} ms/page, {size / PAGES / 1e6:.2f} MB/page)")
    finally:
        server.stop()


if __name__ == "__main__":
    bench_generation()
    bench_pages()
