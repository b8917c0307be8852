"""The demo accounts command and the support-account command, as an operator runs them."""

from __future__ import annotations

from sqlalchemy import func, select


def _users(app) -> dict[str, str]:
    from wizard.extensions import db
    from wizard.models import User

    with app.app_context():
        return {u.email: u.role for u in db.session.scalars(select(User))}


def test_seed_demo_creates_the_three_demo_logins_once_and_they_sign_in(app, client):
    from wizard.extensions import db
    from wizard.models import Workspace

    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0 and "demo accounts ready: admin@demo.test" in first.output
    assert runner.invoke(args=["seed-demo"]).exit_code == 0  # idempotent
    assert _users(app) == {"admin@demo.test": "admin", "viewer@demo.test": "viewer", "support@demo.test": "support"}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Workspace)) == 1
    signed_in = client.post("/login", data={"email": "admin@demo.test", "password": "demo"}, follow_redirects=True)
    assert "No data sources yet." in signed_in.get_data(as_text=True)  # the Data page, signed in


def test_seed_demo_is_refused_in_production(app):
    app.config["PRODUCTION"] = True
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0 and "never created in production" in result.output
    assert _users(app) == {}


def test_create_support_user_refuses_an_email_that_exists(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["create-support-user", "sam@planwise.test"], input="pw\npw\n").exit_code == 0
    again = runner.invoke(args=["create-support-user", "Sam@Planwise.test"], input="pw\npw\n")
    assert again.exit_code != 0 and "an account with that email exists" in again.output
    assert _users(app) == {"sam@planwise.test": "support"}
