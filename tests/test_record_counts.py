"""One definition of "records" (issue 12 item 8): live ones, tombstones excluded, the same number on
step 4, the Data page, the connection page and the books; a run's own figure is labelled "received"."""

from __future__ import annotations

import re

from tests.helpers.connections import connection_in_state
from wizard.models import Connection, StreamProgress, SyncRun, XeroRecord


def _synced_with_tombstones(app) -> int:
    """342 live records and 13 voided ones; the run that fetched them received all 355."""
    from wizard.extensions import db

    connection_id = connection_in_state(app, "synced")
    with app.app_context():
        connection = db.session.get(Connection, connection_id)
        run = SyncRun(connection_id=connection.id, state="succeeded", calls=3, records=355)
        run.streams = [StreamProgress(stream="Invoices", state="done", done=355, total=355, calls=3)]
        db.session.add(run)
        db.session.add_all(
            XeroRecord(
                connection_id=connection.id, stream="Invoices", xero_id=f"i{i}", payload="{}", tombstoned=i >= 342
            )
            for i in range(355)
        )
        db.session.commit()
        return connection.id


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_every_page_counts_the_same_live_records_and_labels_what_a_run_received(app, auth, client):
    auth.as_new("admin")
    connection_id = _synced_with_tombstones(app)
    step4 = _text(client.get(f"/connect/xero/complete/{connection_id}").get_data(as_text=True))
    connection_page = _text(client.get(f"/data/connections/{connection_id}").get_data(as_text=True))
    data_page = client.get("/data").get_data(as_text=True)
    books = _text(client.get(f"/books/{connection_id}").get_data(as_text=True))

    assert "Your Xero data is ready: 342 records." in step4
    assert "Your Xero data is ready: 342 records." in connection_page
    assert re.search(r'<td class="num" data-label="Records">342</td>\s*</tr>', data_page)
    assert "Invoices and bills 342" in books
    # The run's 355 appears only where it is called what it is.
    for page in (step4, connection_page, books):
        assert "the latest sync received 355" in page
        assert "deleted, voided and archived ones are kept but not counted" in page
        assert "355 records" not in page
    assert "Received" in connection_page and "Received" in books
