"""T-05: Xero's error callbacks (access_denied and others) show a page, never a 5xx, store
nothing and consume the state. (Consent cancelled through the sandbox's pages:
tests/test_connect_flow.py::test_cancel_at_consent_shows_hint_and_stores_nothing.)"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.reliability.flows import callback, consent, start_login, token_calls, token_rows


def test_t05_access_denied_consumes_the_state(app, auth, client, sandbox):
    auth.as_new("admin")
    denied = consent(start_login(client), consent="Cancel")
    assert "error=access_denied" in denied
    response = callback(client, denied)
    assert response.status_code == 200 and 'data-hint="access_denied"' in response.get_data(as_text=True)
    state = parse_qs(urlsplit(denied).query)["state"][0]
    before = token_calls(sandbox)
    # The same state cannot be used again, even with a code.
    replay = client.get("/connect/xero/callback", query_string={"state": state, "code": "stolen-code"})
    assert replay.status_code == 400
    assert token_calls(sandbox) == before and token_rows(app) == 0


@pytest.mark.parametrize(
    "error", ["server_error", "temporarily_unavailable", "invalid_scope", "<script>alert(1)</script>", "x" * 5000]
)
def test_t05_other_callback_errors_show_a_hint_and_store_nothing(app, auth, client, sandbox, error):
    auth.as_new("admin")
    state = parse_qs(urlsplit(start_login(client)).query)["state"][0]
    before = token_calls(sandbox)
    response = client.get(
        "/connect/xero/callback", query_string={"state": state, "error": error, "error_description": error}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-hint="token_exchange_failed"' in html
    assert "<script>alert(1)</script>" not in html
    assert token_calls(sandbox) == before and token_rows(app) == 0
