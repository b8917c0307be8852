"""The served-JSON cache (xero_sandbox/fragments.py) and the keep-alive HTTP server: a cached
sandbox answers byte for byte what one building every record afresh answers, before and after
records change "inside Xero", and If-Modified-Since stays exact."""

from __future__ import annotations

import http.client
import re
from datetime import timedelta

import orjson
import pytest

from xero_sandbox import create_app
from xero_sandbox.shapes import ms_date

from .conftest import ADVISER, KOWHAI, THAMES, Xero, sandbox_config

ENVELOPE_ID = re.compile(rb'"Id":"[0-9a-f-]{36}"')
LISTINGS = [
    ("Invoices", {"page": 1, "pageSize": 1000}),
    ("Invoices", {}),
    ("Invoices", {"summaryOnly": "true"}),
    ("Invoices", {"page": 2, "pageSize": 40, "order": "UpdatedDateUTC DESC"}),
    ("Contacts", {"page": 1}),
    ("Contacts", {"includeArchived": "true"}),
    ("Payments", {"page": 1}),
    ("CreditNotes", {"page": 1}),
    ("BankTransactions", {"page": 1}),
    ("Overpayments", {}),
    ("Items", {}),
    ("ManualJournals", {"page": 1}),
    ("BankTransfers", {}),
]


class Pair:
    """Two identical sandboxes, one caching served JSON and one not; every action goes to both."""

    def __init__(self, cache_mb: float = 256) -> None:
        self.cached = Xero(create_app(sandbox_config(CACHE_MB=cache_mb)))
        self.plain = Xero(create_app(sandbox_config(CACHE_MB=0)))
        self.tokens = {id(x): x.connect(ADVISER, [KOWHAI, THAMES])["access_token"] for x in self.both}
        self.tenant = self.cached.tenant(KOWHAI)

    @property
    def both(self) -> tuple[Xero, Xero]:
        return self.cached, self.plain

    def tick(self, seconds: float) -> None:
        """Both (frozen) clocks to the same instant, `seconds` later."""
        moment = self.cached.state.clock.now().replace(microsecond=0) + timedelta(seconds=seconds)
        for x in self.both:
            x.state.set_time(moment)

    def act(self, method: str, *args) -> list:
        results = [getattr(x.state, method)(*args) for x in self.both]
        assert results[0] == results[1]
        return results[0]

    def get(self, x: Xero, path: str, headers: dict | None = None, **params) -> bytes:
        response = x.api(path, self.tokens[id(x)], self.tenant, headers, **params)
        assert response.status_code == 200, response.get_data(as_text=True)
        return ENVELOPE_ID.sub(b'"Id":"-"', response.data)

    def same(self, path: str, headers: dict | None = None, **params) -> dict:
        """Both sandboxes give the same bytes (envelope Id aside); returns the parsed body."""
        cached, plain = (self.get(x, path, headers, **params) for x in self.both)
        assert cached == plain, (path, params)
        return orjson.loads(cached)

    def same_everywhere(self) -> None:
        for path, params in LISTINGS:
            self.same(path, **params)


@pytest.fixture
def pair() -> Pair:
    return Pair()


def test_cache_serves_the_same_bytes_and_is_used(pair):
    books = pair.cached.state.books(pair.tenant)
    pair.same_everywhere()
    first = books.fragments.stats()
    assert first["misses"] > first["hits"] and first["entries"] == first["misses"]
    assert pair.plain.state.books(pair.tenant).fragments.stats()["entries"] == 0
    pair.same_everywhere()
    second = books.fragments.stats()
    assert second["misses"] == first["misses"]  # nothing built twice
    assert second["hits"] - first["hits"] == first["hits"] + first["misses"]
    invoice_id = books.record_id("invoices", 3)
    assert pair.same(f"Invoices/{invoice_id}")["Invoices"][0]["InvoiceID"] == invoice_id


def test_modified_records_are_served_in_their_new_version(pair):
    pair.same_everywhere()  # every record cached
    pair.tick(600)
    now_ms = int(pair.cached.state.clock.time() * 1000)
    ids = set(pair.act("modify_records", pair.tenant, "invoices", 5))
    rows = {r["InvoiceID"]: r for r in pair.same("Invoices", page=1, pageSize=1000)["Invoices"]}
    for invoice_id in ids:
        assert rows[invoice_id]["Reference"].endswith("(edited)")
        assert rows[invoice_id]["UpdatedDateUTC"] == ms_date(now_ms)
    one = pair.same(f"Invoices/{min(ids)}")["Invoices"][0]
    assert one["Reference"].endswith("(edited)")
    pair.same_everywhere()


def test_changes_reach_the_records_that_show_them(pair):
    """A payment's reference shows on its invoice, an item's name on invoice lines, a contact on
    documents; voiding a payment changes its invoice's amounts."""
    books = pair.cached.state.books(pair.tenant)
    pair.same_everywhere()
    for stream in ("payments", "items", "contacts", "credit_notes", "bank_transactions", "manual_journals"):
        pair.tick(60)
        pair.act("modify_records", pair.tenant, stream, 4)
        pair.same_everywhere()
    for stream in ("payments", "invoices", "contacts", "bank_transactions", "manual_journals"):
        pair.tick(60)
        pair.act("void_records", pair.tenant, stream, 2)
        pair.same_everywhere()
    edited = [p for p in books.payments if p.reference.endswith("(edited)") and p.status == "AUTHORISED"]
    invoices = {r["InvoiceID"]: r for r in pair.same("Invoices", page=1, pageSize=1000)["Invoices"]}
    assert edited
    for payment in edited:
        shown = invoices[books.record_id("invoices", payment.invoice)]["Payments"]
        assert {p["Reference"] for p in shown} >= {payment.reference}
    renamed = [it.idx for it in books.items if it.name.endswith(" *")]
    lines = [line for row in invoices.values() for line in row["LineItems"] if "Item" in line]
    assert any(
        line["Item"]["Name"].endswith(" *")
        for line in lines
        if line["Item"]["ItemID"] in {books.record_id("items", i) for i in renamed}
    )


def test_if_modified_since_stays_exact(pair):
    state = pair.cached.state
    books = state.books(pair.tenant)
    pair.same_everywhere()
    pair.tick(600)
    since_ms = int(state.clock.time() * 1000)
    header = {"If-Modified-Since": state.clock.now().strftime("%Y-%m-%dT%H:%M:%S")}
    assert pair.same("Invoices", header, page=1)["Invoices"] == []
    modified = set(pair.act("modify_records", pair.tenant, "invoices", 4))
    pair.tick(1)
    voided = pair.act("void_records", pair.tenant, "payments", 2)
    paid_invoices = {
        books.record_id("invoices", books.payments[books.record_index("payments", p)].invoice) for p in voided
    }
    expected = {books.record_id("invoices", r.idx) for r in books.invoices if r.updated_ms >= since_ms}
    assert expected == modified | paid_invoices
    for _ in range(2):  # the second time from the cache
        rows = pair.same("Invoices", header, page=1)["Invoices"]
        assert {r["InvoiceID"] for r in rows} == expected
        assert len(rows) == len(expected)
    full = {r["InvoiceID"]: r for r in pair.same("Invoices", page=1, pageSize=1000)["Invoices"]}
    assert all(full[r["InvoiceID"]] == r for r in rows)
    payments = pair.same("Payments", header, page=1)["Payments"]
    assert {p["PaymentID"] for p in payments} == set(voided)
    assert all(p["Status"] == "DELETED" for p in payments)


def test_reset_and_resize_start_from_fresh_books(pair):
    pair.same_everywhere()
    pair.act("modify_records", pair.tenant, "invoices", 3)
    pair.act("reset_org", pair.tenant)
    assert pair.cached.state.books(pair.tenant).fragments.stats()["entries"] == 0
    pair.same_everywhere()
    pair.act("resize_org", pair.tenant, 1500)
    pair.same_everywhere()


def test_cache_stays_within_its_budget():
    pair = Pair(cache_mb=0.05)
    pair.act("resize_org", pair.tenant, 3000)
    books = pair.cached.state.books(pair.tenant)
    for _ in range(2):
        for page in range(1, 4):
            pair.same("Invoices", page=page, pageSize=500)
    stats = books.fragments.stats()
    assert 0 < stats["bytes"] <= stats["budget"] == 50_000
    assert stats["entries"] < len(books.invoices)


# the HTTP server -------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["lean", "werkzeug"])
def served(request):
    from xero_sandbox.server import start_background

    server = start_background(sandbox_config(), engine=request.param)
    yield server
    server.stop()


def test_both_servers_answer_alike(served):
    conn = http.client.HTTPConnection(served.host, served.port, timeout=10)
    for _ in range(2):
        conn.request("GET", "/.well-known/openid-configuration")
        response = conn.getresponse()
        body = response.read()
        assert response.status == 200 and orjson.loads(body)["issuer"].startswith("http://127.0.0.1:")
        assert response.getheader("Content-Type") == "application/json"
        assert response.getheader("Xero-Correlation-Id")
    conn.request("HEAD", "/.well-known/openid-configuration")
    response = conn.getresponse()
    assert response.status == 200 and response.read() == b""
    conn.close()


def test_lean_server_keeps_connections_alive_and_skips_unread_bodies(live):
    assert live.engine == "lean"  # the default; werkzeug's server closes every connection
    conn = http.client.HTTPConnection(live.host, live.port, timeout=10)
    conn.request("GET", "/connections")
    response = conn.getresponse()
    assert response.status == 401 and response.getheader("Connection") is None
    response.read()
    sock = conn.sock
    # a body the app never reads must not be taken for the next request line
    conn.request("POST", "/sandbox/nowhere", body=b"x" * 70_000, headers={"Content-Type": "text/plain"})
    response = conn.getresponse()
    assert response.status == 404
    response.read()
    conn.request(
        "POST",
        "/connect/token",
        body=b"grant_type=password",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    response = conn.getresponse()
    assert response.status in (400, 401) and "error" in orjson.loads(response.read())
    assert conn.sock is sock  # one TCP connection throughout
    conn.close()
