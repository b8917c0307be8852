"""Support-access fixtures: the world in the DB, a frozen clock, a live server for the browser."""

from __future__ import annotations

import socket
import threading
from datetime import datetime

import pytest

from tests.support_access.world import build_world, login


@pytest.fixture
def world(app):
    with app.app_context():
        return build_world()


@pytest.fixture
def as_persona(app, world):
    """A fresh signed-in test client for one persona of the world."""

    def sign_in(persona: str):
        client = app.test_client()
        login(client, world.emails[persona])
        return client

    return sign_in


@pytest.fixture
def frozen_clock():
    """Freeze wizard.clock at a moment; `frozen_clock.set(moment)` moves it."""
    from wizard import clock

    class Frozen:
        moment: datetime | None = None

        def set(self, moment: datetime) -> None:
            self.moment = moment
            clock.set_clock(lambda: self.moment)

    frozen = Frozen()
    yield frozen
    clock.set_clock(None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_app(app):
    """The test app over real HTTP on a free port, served from a thread."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", _free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()
    server.server_close()
