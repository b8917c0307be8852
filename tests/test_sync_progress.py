"""The progress figure (issue 12 item 5): based on work known to remain, never full before the run ends."""

from __future__ import annotations

import re

from tests.helpers.connections import syncing_with_streams
from wizard.models import StreamProgress
from wizard.sync_progress import overall_progress

STREAMS = ("Accounts", "Contacts", "Invoices", "CreditNotes", "Payments", "Overpayments", "Prepayments")
STREAMS += ("BankTransactions", "BankTransfers", "ManualJournals", "Items", "TrackingCategories", "ProfitAndLoss")


def _stream(name: str, state: str = "pending", done: int = 0, total: int | None = None, calls: int = 0, size=1000):
    return StreamProgress(stream=name, state=state, done=done, total=total, calls=calls, page_size=size)


def test_one_small_type_done_and_twelve_waiting_is_far_from_full():
    streams = [_stream("Contacts", "done", 87, 87, calls=1)] + [_stream(n) for n in STREAMS[2:]]
    overall = overall_progress("running", streams)
    assert overall.types_done == 1 and overall.types_total == 12 and overall.records == 87
    assert overall.percent < 10


def test_known_pages_weigh_by_calls_left():
    invoices = _stream("Invoices", "running", done=2000, total=10_000, calls=2)  # 8 pages left
    contacts = _stream("Contacts", "done", 500, 500, calls=1)
    assert overall_progress("running", [contacts, invoices]).percent == int(100 * 3 / 11)


def test_never_100_while_running_and_100_once_ended():
    streams = [_stream("Contacts", "done", 10, 10, calls=1), _stream("Invoices", "done", 5, 5, calls=1)]
    assert overall_progress("running", streams).percent == 99
    assert overall_progress("succeeded", streams).percent == 100
    assert overall_progress("queued", []).percent == 0


def test_the_connection_page_shows_types_done_not_records_of_records(app, auth, client):
    auth.as_new("admin")
    streams = [_stream("Contacts", "done", 87, 87, calls=1)] + [_stream(n) for n in STREAMS[2:]]
    connection_id = syncing_with_streams(app, streams, records=87)
    page = client.get(f"/data/connections/{connection_id}").get_data(as_text=True)
    assert "87 of 87" not in page
    assert "1 of 12 data types done" in page and "87 records received so far" in page
    value = int(re.search(r'<progress max="100" value="(\d+)" aria-label="Overall sync progress"', page).group(1))
    assert value < 10
    rows = client.get("/data").get_data(as_text=True)
    assert "87 of 87" not in rows and "1 of 12 data types done" in rows
