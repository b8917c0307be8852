"""Hypothesis on the OAuth callback (T-28): whatever `code`, `state`, `error`, `iss` and extra
parameters arrive, there is no 5xx, no token row, no token-endpoint call unless the state is the
one this session issued, and nothing is reflected unescaped."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.strategies import assert_not_reflected, hostile
from tests.reliability.flows import token_calls, token_rows

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def admin(auth, client):
    auth.as_new("admin")
    return client


@FUZZ
@given(
    code=hostile,
    state=hostile,
    error=st.one_of(st.none(), hostile),
    iss=st.one_of(st.none(), hostile),
    extra=st.dictionaries(hostile, hostile, max_size=3),
    real_state=st.booleans(),
    htmx=st.booleans(),
)
def test_t28_callback_fuzz_never_fails_or_stores(app, admin, sandbox, code, state, error, iss, extra, real_state, htmx):
    client = admin
    issued = parse_qs(urlsplit(client.get("/connect/xero/authorize").headers["Location"]).query)["state"][0]
    params = {**extra, "code": code, "state": issued if real_state else state}
    if error is not None:
        params["error"] = error
    if iss is not None:
        params["iss"] = iss
    calls = token_calls(sandbox)
    response = client.get("/connect/xero/callback", query_string=params, headers={"HX-Request": "true"} if htmx else {})
    assert response.status_code < 500, response.status_code
    assert token_rows(app) == 0
    if not real_state:
        assert token_calls(sandbox) == calls and response.status_code == 400
    assert_not_reflected(response.get_data(as_text=True))
