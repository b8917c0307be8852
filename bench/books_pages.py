"""Server time of the books pages against the Data page's, for bench/sync.py after a large sync.

Requests go through the app in-process (Flask's test client, signed in as a workspace viewer), so
the figure is the server's own time per page: queries, Python and template, no network.
"""

from __future__ import annotations

import statistics
import time
import uuid

PAGES = (
    ("Data page", "/data"),
    ("Books: accounts", "/books/{id}/accounts"),
    ("Books: profit and loss", "/books/{id}/profit-and-loss"),
    ("Books: reconciliation", "/books/{id}/reconciliation"),
)


def _viewer_client(app, connection_id: int):
    from wizard.extensions import db
    from wizard.models import Connection, User

    with app.app_context():
        connection = db.session.get_one(Connection, connection_id)
        email = f"bench-viewer-{uuid.uuid4().hex[:8]}@bench.test"
        user = User(email=email, name="Bench viewer", role="viewer", workspace_id=connection.workspace_id)
        user.set_password("bench")
        db.session.add(user)
        db.session.commit()
    client = app.test_client()
    if client.post("/login", data={"email": email, "password": "bench"}).status_code != 303:
        raise SystemExit("bench viewer could not sign in")
    return client


def _median_ms(client, url: str, headers: dict, status: int, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append(time.perf_counter() - started)
        if response.status_code != status:
            raise SystemExit(f"{url} answered {response.status_code}, not {status}")
    return statistics.median(times)


def print_page_times(connection_id: int, records: int, repeat: int = 7) -> None:
    from wizard import create_app

    # The bench's own app (same database); the sign-in form needs no CSRF token here.
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    client = _viewer_client(app, connection_id)
    medians = {label: _median_ms(client, path.format(id=connection_id), {}, 200, repeat) for label, path in PAGES}
    # The sync-status poll as htmx sends it: rendered (state changed) and in its steady state (304).
    status, poll = f"/data/connections/{connection_id}/status", {"HX-Request": "true"}
    medians["Sync status poll (200)"] = _median_ms(client, status, poll, 200, repeat)
    etag = client.get(status, headers=poll).headers["ETag"]
    medians["Sync status poll (304)"] = _median_ms(client, status, {**poll, "If-None-Match": etag}, 304, repeat)
    data = medians["Data page"]
    print(f"[books pages at {records:,} records] server time, median of {repeat} (goal: within 2x the Data page)")
    for label, seconds in medians.items():
        print(f"    {label:24} {seconds * 1000:8.1f} ms  {seconds / data:5.2f}x the Data page")
