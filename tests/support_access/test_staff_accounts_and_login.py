"""Security hygiene around staff accounts: no way to create one through the product, and a
sign-in that is throttled (in Redis, shared by every web process) without revealing accounts."""

from __future__ import annotations

import difflib
import re
import uuid

from sqlalchemy import func, select

from tests.support_access.world import login
from wizard.extensions import db
from wizard.models import User

PROBE = {
    "email": "mallory@evil.test",
    "password": "pw",
    "name": "Mallory",
    "role": "support",
    "workspace_id": "",
}


def _users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_no_route_creates_an_account(app, world):
    """Every state-changing route, anonymous and as an admin, given sign-up-shaped fields."""
    before = _users(app)
    rules = [(r, m) for r in app.url_map.iter_rules() for m in r.methods & {"POST", "PUT", "PATCH"} if not r.arguments]
    assert rules, "the app has state-changing routes"
    for signed_in in (False, True):
        client = app.test_client()
        if signed_in:
            login(client, world.emails["admin"])
        for rule, method in rules:
            client.open(rule.rule, method=method, data=PROBE)
    assert _users(app) == before
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == PROBE["email"])) is None
    assert not [r.rule for r in app.url_map.iter_rules() if any(w in r.rule for w in ("signup", "sign-up", "register"))]


def test_support_accounts_come_only_from_the_cli(app):
    result = app.test_cli_runner().invoke(args=["create-support-user", "Sam@Planwise.test"], input="s3cret\ns3cret\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "sam@planwise.test"))
        assert user.role == "support" and user.workspace_id is None and user.check_password("s3cret")


def _throttled_app():
    from wizard import create_app

    return create_app(
        {
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    )


def test_login_is_throttled_in_redis_with_the_same_answer_for_every_email(app, auth, test_env):
    auth.make_user("real@acme.test", "admin")
    throttled = _throttled_app()
    assert throttled.config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "redis+unix://"))
    client = throttled.test_client()
    answers = set()
    for attempt in range(10):
        email = "real@acme.test" if attempt % 2 else "nobody@acme.test"
        response = client.post("/login", data={"email": email, "password": "wrong"})
        assert response.status_code == 401
        body = re.sub(r'name="csrf_token" value="[^"]*"', "", response.get_data(as_text=True))  # signed with a time
        answers.add(body.replace("nobody@acme.test", "").replace("real@acme.test", ""))
    assert len(answers) == 1, "\n".join(difflib.unified_diff(*(a.splitlines() for a in sorted(answers)), lineterm=""))
    assert "did not match an account" in answers.pop()
    locked_unknown = client.post("/login", data={"email": "nobody@acme.test", "password": "pw"})
    locked_real = client.post("/login", data={"email": "real@acme.test", "password": "pw"})  # right password
    assert locked_unknown.status_code == locked_real.status_code == 429
    assert locked_unknown.data == locked_real.data and b"real@acme.test" not in locked_real.data
    # The counter lives in Redis (shared by all web processes), not in this process's memory.
    with throttled.app_context():
        from wizard.jobs import redis

        assert redis().keys("*" + throttled.config["RATELIMIT_KEY_PREFIX"] + "*"), redis().keys("*")
    assert client.get("/login").status_code == 200  # only POSTs are limited
