"""Polls are cheap: an unchanged state answers 304 without rendering; a change renders again;
only fragments that show something running poll at all."""

from __future__ import annotations

import re
from contextlib import contextmanager

from flask import template_rendered

from wizard.extensions import db
from wizard.models import Connection, StreamProgress, SyncRun, User, XeroRecord


def _syncing_connection(app, email="admin@example.test") -> tuple[int, int]:
    with app.app_context():
        user = db.session.query(User).filter_by(email=email).one()
        connection = Connection(workspace_id=user.workspace_id, tenant_id="t-poll", tenant_name="Poll Ltd")
        connection.move_to("syncing")
        db.session.add(connection)
        db.session.flush()
        run = SyncRun(connection_id=connection.id, state="running")
        run.streams.append(StreamProgress(stream="Invoices", state="running", done=1000, total=5000))
        db.session.add(run)
        db.session.add(XeroRecord(connection_id=connection.id, stream="Invoices", xero_id="i1", payload="{}"))
        db.session.commit()
        return connection.id, run.id


@contextmanager
def _rendered(app):
    names: list[str] = []

    def record(sender, template, context, **extra):
        names.append(template.name)

    template_rendered.connect(record, app)
    try:
        yield names
    finally:
        template_rendered.disconnect(record, app)


def _etag_in(html: str) -> str:
    """The ETag the polling element will send back, as the browser sends it."""
    return re.search(r'hx-headers=\'\{"If-None-Match": "(\\"[0-9a-f]+\\")"\}\'', html).group(1).replace("\\", "")


def _progress(app, run_id: int, done: int) -> None:
    with app.app_context():
        db.session.get(SyncRun, run_id).streams[0].done = done
        db.session.commit()


def test_unchanged_sync_status_answers_304_without_rendering_and_a_change_renders(app, auth, client, htmx):
    auth.as_new("admin")
    connection_id, run_id = _syncing_connection(app)
    url = f"/data/connections/{connection_id}/status"
    first = client.get(url, headers=htmx)
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and "1,000 of 5,000" in html and 'hx-trigger="every 1s"' in html
    etag = _etag_in(html)
    assert first.headers["ETag"] == etag

    with _rendered(app) as rendered:
        again = client.get(url, headers={**htmx, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and rendered == []
    assert again.headers["ETag"] == etag and "HX-Request" in again.headers["Vary"]

    _progress(app, run_id, 2500)
    changed = client.get(url, headers={**htmx, "If-None-Match": etag})
    assert changed.status_code == 200 and "2,500 of 5,000" in changed.get_data(as_text=True)
    assert _etag_in(changed.get_data(as_text=True)) != etag


def test_the_page_that_first_shows_the_status_carries_the_etag_its_poll_sends(app, auth, client, htmx):
    auth.as_new("admin")
    connection_id, _run_id = _syncing_connection(app)
    page = client.get(f"/data/connections/{connection_id}").get_data(as_text=True)
    poll = client.get(f"/data/connections/{connection_id}/status", headers={**htmx, "If-None-Match": _etag_in(page)})
    assert poll.status_code == 304


def test_full_page_requests_are_always_rendered(app, auth, client, htmx):
    auth.as_new("admin")
    connection_id, _run_id = _syncing_connection(app)
    url = f"/data/connections/{connection_id}/status"
    etag = client.get(url, headers=htmx).headers["ETag"]
    page = client.get(url, headers={"If-None-Match": etag})
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)


def test_another_users_etag_does_not_match(app, auth, client, htmx):
    auth.make_user("admin@example.test", "admin")
    auth.as_new("viewer")
    connection_id, _run_id = _syncing_connection(app)
    url = f"/data/connections/{connection_id}/status"
    etag = client.get(url, headers=htmx).headers["ETag"]
    client.post("/logout")
    auth.login("admin@example.test")
    assert client.get(url, headers={**htmx, "If-None-Match": etag}).status_code == 200


def test_finished_sync_status_stops_polling(app, auth, client, htmx):
    auth.as_new("admin")
    connection_id, run_id = _syncing_connection(app)
    with app.app_context():
        db.session.get(SyncRun, run_id).succeed()
        db.session.commit()
    html = client.get(f"/data/connections/{connection_id}/status", headers=htmx).get_data(as_text=True)
    assert "Sync complete" in html and "hx-trigger" not in html and "If-None-Match" not in html


def test_unchanged_rows_answer_304_and_a_finished_sync_renders_without_polling(app, auth, client, htmx):
    auth.as_new("admin")
    _connection_id, run_id = _syncing_connection(app)
    first = client.get("/data/rows", headers=htmx).get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in first
    etag = _etag_in(first)
    with _rendered(app) as rendered:
        again = client.get("/data/rows", headers={**htmx, "If-None-Match": etag})
    assert again.status_code == 304 and rendered == []

    with app.app_context():
        db.session.get(SyncRun, run_id).succeed()
        db.session.commit()
    done = client.get("/data/rows", headers={**htmx, "If-None-Match": etag})
    assert done.status_code == 200 and "hx-trigger" not in done.get_data(as_text=True)


def test_a_run_that_stops_moving_is_rendered_again_to_say_so(app, auth, client, htmx):
    """The stall note depends on time alone: an unchanged run must not keep answering 304 past it."""
    from datetime import timedelta

    from wizard.clock import utcnow

    auth.as_new("admin")
    connection_id, run_id = _syncing_connection(app)
    with app.app_context():
        db.session.get(SyncRun, run_id).progressed_at = utcnow()
        db.session.commit()
    url = f"/data/connections/{connection_id}/status"
    etag = _etag_in(client.get(url, headers=htmx).get_data(as_text=True))
    rows_etag = _etag_in(client.get("/data/rows", headers=htmx).get_data(as_text=True))
    with app.app_context():
        db.session.get(SyncRun, run_id).progressed_at = utcnow() - timedelta(minutes=4)
        db.session.commit()
    stalled = client.get(url, headers={**htmx, "If-None-Match": etag})
    assert stalled.status_code == 200 and "No progress for 4 minutes" in stalled.get_data(as_text=True)
    assert client.get("/data/rows", headers={**htmx, "If-None-Match": rows_etag}).status_code == 200
    assert "No progress for 4 minutes" in client.get("/data").get_data(as_text=True)


def test_a_webhook_change_is_not_hidden_behind_a_304(app, auth, client, htmx):
    """The rows show the webhook's "last changed in Xero" note: a new event must render them again."""
    from datetime import datetime

    from wizard.models import ConnectionWebhook

    auth.as_new("admin")
    connection_id, _run_id = _syncing_connection(app)
    with app.app_context():
        db.session.add(
            ConnectionWebhook(connection_id=connection_id, events=1, last_event_at=datetime(2026, 3, 1, 9, 0))
        )
        db.session.commit()
    first = client.get("/data/rows", headers=htmx).get_data(as_text=True)
    assert 'last changed in Xero <time datetime="2026-03-01T09:00:00Z"' in first
    etag = _etag_in(first)
    with app.app_context():
        db.session.get(ConnectionWebhook, connection_id).note({"Invoices"}, datetime(2026, 3, 2, 10, 30), 1)
        db.session.commit()
    changed = client.get("/data/rows", headers={**htmx, "If-None-Match": etag})
    assert changed.status_code == 200
    assert 'last changed in Xero <time datetime="2026-03-02T10:30:00Z"' in changed.get_data(as_text=True)
    assert _etag_in(changed.get_data(as_text=True)) != etag


def test_the_status_poll_of_another_workspaces_connection_is_not_found(app, auth, client, htmx):
    """The poll reads the connection and its run in one query: the workspace check is in that query."""
    auth.make_user("other@example.test", "admin", workspace="Other Co")
    connection_id, _run_id = _syncing_connection(app, email="other@example.test")
    auth.as_new("admin")
    assert client.get(f"/data/connections/{connection_id}/status", headers=htmx).status_code == 404
    assert client.get(f"/data/connections/{connection_id}/status").status_code == 404
