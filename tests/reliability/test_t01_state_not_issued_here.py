"""T-01: a callback whose state was not issued to this browser session is refused with 400,
without a token-endpoint call or a token row. (Empty, forged and overlong states:
tests/test_connect_flow.py::test_callback_with_a_state_not_issued_here_is_refused.)"""

from __future__ import annotations

from tests.reliability.flows import callback, consent, start_login, token_calls, token_rows


def test_t01_state_issued_to_another_session_is_refused(app, auth, client, sandbox):
    auth.make_user("victim@example.test")
    auth.as_new("admin", "attacker@example.test")
    # The attacker starts a login and gets a real code + state for their own session...
    attackers_callback = consent(start_login(client))
    victim = app.test_client()
    victim.post("/login", data={"email": "victim@example.test", "password": "pw"})
    start_login(victim)  # the victim has a login of their own in progress
    before = token_calls(sandbox)
    # ...and plants it in the victim's browser (login CSRF): refused, nothing exchanged or stored.
    response = callback(victim, attackers_callback)
    assert response.status_code == 400
    assert token_calls(sandbox) == before
    assert token_rows(app) == 0


def test_t01_callback_without_any_state_is_refused(app, auth, client, sandbox):
    auth.as_new("admin")
    start_login(client)
    before = token_calls(sandbox)
    response = client.get("/connect/xero/callback", query_string={"code": "abc"})
    assert response.status_code == 400
    assert token_calls(sandbox) == before and token_rows(app) == 0


def test_t01_callback_in_a_session_that_never_started_a_login_is_refused(app, auth, client, sandbox):
    auth.as_new("admin")
    before = token_calls(sandbox)
    response = client.get("/connect/xero/callback", query_string={"code": "abc", "state": "x" * 43})
    assert response.status_code == 400
    assert token_calls(sandbox) == before and token_rows(app) == 0
