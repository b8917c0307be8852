"""Hypothesis on every form (every POST route, found in the url_map, for the persona allowed to
use it, with a real CSRF token): random and hostile values for every field and for extra ones
give no 5xx, create no token row, and are never reflected unescaped."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.strategies import assert_not_reflected, hostile
from tests.reliability.flows import token_rows
from tests.support_access.world import PASSWORD, build_world
from wizard import create_app, policy

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# Every field name a form of ours reads, plus the CSRF field itself (fuzzed too).
FIELDS = (
    "email",
    "password",
    "next",
    "tenant_id",
    "data",
    "scope",
    "hours",
    "reason",
    "role",
    "role_justification",
    "days",
    "message",
    "answer",
    "q",
    "current_password",
    "csrf_token",
)
PERSONA = {
    policy.ADMIN: "admin",
    policy.MEMBER: "admin",
    policy.SIGNED_IN: "admin",
    policy.PUBLIC: None,
    policy.SUPPORT: "support",
    policy.SUPPORT_GRANT: "support",
}


def _csrf_app():
    return create_app({"TESTING": True, "RATELIMIT_ENABLED": False})


POST_ROUTES = sorted(
    (r.endpoint, r.rule)
    for r in _csrf_app().url_map.iter_rules()
    if "POST" in r.methods and r.endpoint != "auth.logout"
)


def _signed_in(app, email: str | None):
    """A client signed in as `email` (or anonymous) and the CSRF token its pages carry."""
    client = app.test_client()
    token = _csrf(client.get("/login"))
    if email:
        response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 303
        token = _csrf(client.get("/help/xero"))  # every signed-in page carries the sign-out form
    return client, token


def _csrf(response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True)).group(1)


@pytest.mark.parametrize(("endpoint", "rule"), POST_ROUTES, ids=[e for e, _ in POST_ROUTES])
def test_every_form_survives_hostile_input(app, endpoint, rule):
    with app.app_context():
        world = build_world()
    csrf_app = _csrf_app()
    persona = PERSONA[policy.POLICY[endpoint]]
    client, token = _signed_in(csrf_app, world.emails[persona] if persona else None)
    url_rule = next(r for r in csrf_app.url_map.iter_rules() if r.endpoint == endpoint and r.rule == rule)
    ids = {
        "connection_id": world.connections["active"],
        "grant_id": world.grants["active"],
        "run_id": world.runs["active"],
        "request_id": 1,
    }
    with csrf_app.test_request_context():
        url = url_rule.build({k: ids.get(k, 1) for k in url_rule.arguments}, append_unknown=False)[1]
    rows = token_rows(app)
    statuses = []

    @FUZZ
    @given(
        form=st.dictionaries(st.one_of(st.sampled_from(FIELDS), hostile), hostile, max_size=6),
        keep_csrf=st.booleans(),
        query=st.dictionaries(st.sampled_from(("next", "q", "mode")), hostile, max_size=2),
        htmx=st.booleans(),
    )
    def post(form, keep_csrf, query, htmx):
        if keep_csrf:
            form = {**form, "csrf_token": token}
        response = client.post(url, data=form, query_string=query, headers={"HX-Request": "true"} if htmx else {})
        assert response.status_code < 500, f"{endpoint}: {response.status_code} for {form!r}"
        assert_not_reflected(response.get_data(as_text=True))
        statuses.append(response.status_code)

    post()
    assert token_rows(app) == rows
    assert set(statuses) - {400}, "no example got past the CSRF check: the view itself was never fuzzed"


GET_ROUTES = sorted(
    (r.endpoint, r.rule)
    for r in _csrf_app().url_map.iter_rules()
    if "GET" in r.methods and r.endpoint not in ("static", "connect.callback")
)


@pytest.mark.parametrize(("endpoint", "rule"), GET_ROUTES, ids=[e for e, _ in GET_ROUTES])
def test_every_page_survives_hostile_query_strings(app, endpoint, rule):
    with app.app_context():
        world = build_world()
    csrf_app = _csrf_app()
    persona = PERSONA[policy.POLICY[endpoint]]
    client, _ = _signed_in(csrf_app, world.emails[persona] if persona else None)
    url_rule = next(r for r in csrf_app.url_map.iter_rules() if r.endpoint == endpoint and r.rule == rule)
    ids = {
        "connection_id": world.connections["active"],
        "grant_id": world.grants["active"],
        "run_id": world.runs["active"],
        "request_id": 1,
    }
    with csrf_app.test_request_context():
        url = url_rule.build({k: ids.get(k, 1) for k in url_rule.arguments}, append_unknown=False)[1]

    @settings(FUZZ, max_examples=25)
    @given(
        query=st.dictionaries(
            st.one_of(st.sampled_from(("q", "next", "problem", "mode", "reconnect", "page")), hostile),
            hostile,
            max_size=4,
        ),
        htmx=st.booleans(),
    )
    def get(query, htmx):
        response = client.get(url, query_string=query, headers={"HX-Request": "true"} if htmx else {})
        assert response.status_code < 500, f"{endpoint}: {response.status_code} for {query!r}"
        assert_not_reflected(response.get_data(as_text=True))

    get()
