"""T-03: a callback arriving more than 10 minutes after the authorize redirect is refused (400)
and nothing is stored, even with a valid code and the right state."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.reliability.flows import callback, consent, start_login, token_calls, token_rows


@pytest.fixture
def app_clock():
    from wizard import clock

    class Clock:
        offset = timedelta(0)

        def move(self, by: timedelta) -> None:
            self.offset = by
            real = clock.datetime.now
            clock.set_clock(lambda: real(clock.UTC).replace(tzinfo=None) + self.offset)

    yield Clock()
    clock.set_clock(None)


def test_t03_callback_after_ten_minutes_is_refused_and_stores_nothing(app, auth, client, sandbox, app_clock):
    auth.as_new("admin")
    url = consent(start_login(client))
    app_clock.move(timedelta(minutes=10, seconds=5))
    before = token_calls(sandbox)
    response = callback(client, url)
    assert response.status_code == 400
    assert 'data-hint="state_invalid"' in response.get_data(as_text=True)
    assert token_calls(sandbox) == before and token_rows(app) == 0


def test_t03_callback_within_ten_minutes_still_works(app, auth, client, sandbox, app_clock):
    auth.as_new("admin")
    url = consent(start_login(client))
    app_clock.move(timedelta(minutes=9, seconds=30))
    assert callback(client, url).status_code == 303
    assert token_rows(app) == 1
