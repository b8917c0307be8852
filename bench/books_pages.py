"""Server time of the books pages against the Data page's, for bench/sync.py after a large sync.

Requests go through the app in-process (Flask's test client, signed in as a workspace viewer), so
the figure is the server's own time per page: queries, Python and template, no network.
"""

from __future__ import annotations

import statistics
import time

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
        connection = db.session.get(Connection, connection_id)
        email = f"bench-viewer-{connection_id}@bench.test"
        user = User(email=email, name="Bench viewer", role="viewer", workspace_id=connection.workspace_id)
        user.set_password("bench")
        db.session.add(user)
        db.session.commit()
    client = app.test_client()
    if client.post("/login", data={"email": email, "password": "bench"}).status_code != 303:
        raise SystemExit("bench viewer could not sign in")
    return client


def print_page_times(connection_id: int, records: int, repeat: int = 7) -> None:
    from wizard import create_app

    # The bench's own app (same database); the sign-in form needs no CSRF token here.
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    client = _viewer_client(app, connection_id)
    medians = {}
    for label, path in PAGES:
        url, times = path.format(id=connection_id), []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
        medians[label] = statistics.median(times)
    data = medians["Data page"]
    print(f"[books pages at {records:,} records] server time, median of {repeat} (goal: within 2x the Data page)")
    for label, seconds in medians.items():
        print(f"    {label:24} {seconds * 1000:8.1f} ms  {seconds / data:5.2f}x the Data page")
