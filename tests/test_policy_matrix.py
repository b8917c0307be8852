"""T-15/T-16: every route x every kind of caller gets what wizard.policy says, nothing more.

Routes come from `app.url_map`, so routes added later are covered without touching this file.
The expectation for each (route, persona) is derived from the endpoint's POLICY rule plus
object ownership (all ids in URLs belong to workspace A, or to the support persona's target
connection); an endpoint missing from POLICY fails, and so does a URL parameter this file
cannot fill with a real id.
"""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from tests.support_access.world import World, build_world, login
from wizard import policy

PERSONAS = (
    "anonymous",
    "viewer",
    "admin",
    "other_admin",  # admin of workspace B; every id in the URL belongs to workspace A
    "support_no_grant",
    "support_active_grant",
    "support_expired_grant",
    "support_revoked_grant",
)
SUPPORT_TARGET = {
    "support_no_grant": "none",
    "support_active_grant": "active",
    "support_expired_grant": "expired",
    "support_revoked_grant": "revoked",
}
# URL parameters that are not ids of a workspace's objects.
NOT_OWNED = {"filename"}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _routes() -> list[tuple[str, str, str]]:
    """(endpoint, rule, method) for every route, from an app built only to read its url_map."""
    from wizard import create_app

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "XERO_WEBHOOK_KEY": "policy-matrix-webhook-key",  # the webhook route exists only with a key
        }
    )
    return sorted(
        (rule.endpoint, rule.rule, method)
        for rule in app.url_map.iter_rules()
        for method in sorted(rule.methods & set(METHODS))
    )


ROUTES = _routes()


def _persona_role(persona: str) -> str | None:
    if persona == "anonymous":
        return None
    return "support" if persona.startswith("support") else {"other_admin": "admin"}.get(persona, persona)


def _url_values(world: World, persona: str, arguments: set[str]) -> dict[str, object]:
    """Real ids for the URL: workspace A's objects, or the support persona's target connection."""
    state = SUPPORT_TARGET.get(persona, "active")
    known = {
        "connection_id": world.connections[state],
        "grant_id": world.grants["active"],
        "run_id": world.runs[state],
        "sync_run_id": world.runs[state],
        "workspace_id": world.workspace_a,
        "filename": "css/app.css",
    }
    missing = arguments - known.keys()
    assert not missing, f"the matrix cannot fill URL parameter(s) {sorted(missing)}: add a real fixture id"
    return {name: known[name] for name in arguments}


def expected(rule: str | None, persona: str, owned_object: bool) -> set[str]:
    """Acceptable outcomes: ok, login (sent to sign in), forbidden (403), hidden (404)."""
    assert rule is not None, "endpoint is missing from wizard.policy.POLICY (deny by default)"
    if rule == policy.PUBLIC:
        return {"ok"}
    role = _persona_role(persona)
    if role is None:
        return {"login"}
    if rule == policy.SIGNED_IN:
        return {"ok"}
    if rule in (policy.MEMBER, policy.ADMIN):
        allowed = {"admin", "viewer"} if rule == policy.MEMBER else {"admin"}
        if role not in allowed:
            return {"forbidden"}
        return {"hidden"} if owned_object and persona == "other_admin" else {"ok"}
    if rule == policy.SUPPORT:
        return {"ok"} if role == "support" else {"forbidden"}
    if rule == policy.SUPPORT_GRANT:
        if role != "support":
            return {"forbidden"}
        return {"ok"} if persona == "support_active_grant" else {"hidden"}
    raise AssertionError(f"the matrix does not know policy rule {rule!r}: teach it")


def outcome(response) -> str:
    """The policy's bounce to sign-in carries `next`; a view's own redirect to /login does not."""
    location = response.headers.get("Location", "") or response.headers.get("HX-Redirect", "")
    path, _, query = location.partition("?")
    if response.status_code in (302, 303, 204) and path.endswith("/login") and "next=" in query:
        return "login"
    return {403: "forbidden", 404: "hidden"}.get(response.status_code, "ok")


def test_every_route_is_in_the_policy_table():
    missing = sorted({endpoint for endpoint, _, _ in ROUTES} - policy.POLICY.keys())
    assert not missing, f"routes without a policy rule (deny by default, but declare them): {missing}"


def test_policy_table_has_no_stale_entries():
    """A rule for an endpoint that no longer exists hides typos like `support.docter`."""
    stale = sorted(policy.POLICY.keys() - {endpoint for endpoint, _, _ in ROUTES})
    assert not stale, f"POLICY names endpoints that do not exist: {stale}"


@pytest.mark.parametrize(("endpoint", "rule_path", "method"), ROUTES, ids=[f"{m} {e}" for e, _, m in ROUTES])
def test_route_answers_each_persona_as_policy_says(app, endpoint, rule_path, method):
    rule = policy.POLICY.get(endpoint)
    url_rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and r.rule == rule_path)
    owned = bool(url_rule.arguments - NOT_OWNED)
    wrong = []
    for persona in PERSONAS:
        with app.app_context():
            world = build_world()  # fresh for each persona: POSTs change things
        want = expected(rule, persona, owned)
        client = app.test_client()
        if persona != "anonymous":
            login(
                client,
                world.emails["support" if persona.startswith("support") else persona],
            )
        with app.test_request_context():
            url = url_rule.build(
                _url_values(world, persona, set(url_rule.arguments)),
                append_unknown=False,
            )[1]
        got = outcome(client.open(url, method=method))
        if got not in want:
            wrong.append(f"{persona}: {method} {url} -> {got}, expected {sorted(want)}")
    assert not wrong, f"{endpoint} ({rule}):\n  " + "\n  ".join(wrong)
