"""Issue 11 item 8: sign-ins end server-side after an idle and an absolute lifetime; "Sign out
everywhere"; a role change ends every session of that user. A signed-in request loads the user
and the sign-in in one query and writes nothing, except last-seen at most once a minute."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event

from wizard import clock
from wizard.extensions import db

START = datetime(2026, 12, 2, 9, 0, 0)


@pytest.fixture
def moving_clock():
    class Clock:
        now = START

        def advance(self, **delta):
            self.now += timedelta(**delta)

    moved = Clock()
    clock.set_clock(lambda: moved.now)
    yield moved
    clock.set_clock(None)


def _signed_out(response) -> bool:
    return response.status_code == 303 and response.headers["Location"].startswith("/login")


def test_a_sign_in_idle_for_longer_than_the_idle_lifetime_ends(app, auth, client, moving_clock):
    auth.as_new("admin")
    moving_clock.advance(minutes=59)
    assert client.get("/data").status_code == 200  # activity moves the idle window
    moving_clock.advance(minutes=59)
    assert client.get("/data").status_code == 200
    moving_clock.advance(minutes=61)
    response = client.get("/data")
    assert _signed_out(response)
    login_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="password"' in login_page and "Your sign-in has ended. Sign in again to carry on." in login_page
    assert "Your sign-in has ended" not in client.get("/login").get_data(as_text=True)  # said once


def test_a_sign_in_ends_at_its_absolute_lifetime_however_busy(app, auth, client, moving_clock):
    auth.as_new("admin")
    for _ in range(23):
        moving_clock.advance(minutes=30)
        assert client.get("/data").status_code == 200
    moving_clock.advance(minutes=31)  # 12 h 1 min after signing in
    assert _signed_out(client.get("/data"))


def test_lifetimes_come_from_the_configuration(auth, client, app, moving_clock):
    app.config.update(SESSION_IDLE_MINUTES=5)
    auth.as_new("admin")
    moving_clock.advance(minutes=6)
    assert _signed_out(client.get("/data"))


def test_a_read_request_loads_user_and_sign_in_in_one_query_and_writes_at_most_once_a_minute(
    app, auth, client, moving_clock
):
    auth.as_new("admin")
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def record(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        moving_clock.advance(seconds=30)
        assert client.get("/data").status_code == 200
        first = list(statements)
        moving_clock.advance(seconds=20)
        statements.clear()
        assert client.get("/data").status_code == 200
        second = list(statements)
        moving_clock.advance(seconds=61)
        statements.clear()
        assert client.get("/data").status_code == 200
        third = list(statements)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    for seen in (first, second, third):
        loads = [s for s in seen if "login_session" in s and s.startswith("SELECT")]
        assert len(loads) == 1 and "user_account" in loads[0], loads
    writes = [s for s in first + second if re.match(r"(INSERT|UPDATE|DELETE)", s)]
    assert writes == [], writes
    assert [s for s in third if re.match(r"(INSERT|UPDATE|DELETE)", s)] == [
        next(s for s in third if s.startswith("UPDATE login_session SET last_seen_at"))
    ]


def _press(client, page_url: str, button: str):
    """Submit the form whose button reads `button` on the page, as a browser would."""
    page = client.get(page_url).get_data(as_text=True)
    form = next(
        f for f in re.findall(r"<form[^>]*>.*?</form>", page, re.S) if re.search(rf">\s*{button}\s*</button>", f)
    )
    action = re.search(r'action="([^"]+)"', form).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    return client.post(action, data=fields)


def test_sign_out_everywhere_ends_every_sign_in_of_the_user_only(app, auth):
    auth.make_user("ann@example.test")
    auth.make_user("bob@example.test")
    laptop, phone, bob = app.test_client(), app.test_client(), app.test_client()
    for client, email in ((laptop, "ann@example.test"), (phone, "ann@example.test"), (bob, "bob@example.test")):
        assert client.post("/login", data={"email": email, "password": "pw"}).status_code == 303
    response = _press(laptop, "/data", "Sign out everywhere")
    assert _signed_out(response)
    assert "You have signed out everywhere (2 sign-ins ended)." in laptop.get("/login").get_data(as_text=True)
    assert _signed_out(laptop.get("/data"))
    assert _signed_out(phone.get("/data"))
    assert bob.get("/data").status_code == 200


def test_a_role_change_ends_every_session_of_that_user(app, auth):
    from wizard.models import User

    admin_id = auth.make_user("ann@example.test")
    auth.make_user("bob@example.test")
    ann, bob = app.test_client(), app.test_client()
    ann.post("/login", data={"email": "ann@example.test", "password": "pw"})
    bob.post("/login", data={"email": "bob@example.test", "password": "pw"})
    with app.app_context():
        db.session.get(User, admin_id).role = "viewer"
        db.session.commit()
    ended = ann.get("/data", headers={"HX-Request": "true"})  # htmx too: a full-page hop to sign in
    assert ended.status_code == 204 and ended.headers["HX-Redirect"].startswith("/login")
    assert "Your sign-in has ended." in ann.get("/login").get_data(as_text=True)
    assert bob.get("/data").status_code == 200
    ann.post("/login", data={"email": "ann@example.test", "password": "pw"})
    assert ann.get("/data").status_code == 200  # signing in again works, as a viewer now
    assert "Sign out everywhere" in ann.get("/data").get_data(as_text=True)
