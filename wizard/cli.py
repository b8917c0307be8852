"""Commands: `flask --app wsgi seed-demo` (demo accounts), `create-support-user`, and the
periodic `expire-grants` / `xero-access-reminders`."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select

from wizard.extensions import db
from wizard.models import User, Workspace

DEMO_PASSWORD = "demo"
DEMO_USERS = (
    ("admin@demo.test", "Ada Admin", "admin"),
    ("viewer@demo.test", "Victor Viewer", "viewer"),
    ("support@demo.test", "Sam Support", "support"),
)


def seed_demo_accounts() -> None:
    """Idempotent: the demo workspace and its three accounts (demo mode only)."""
    workspace = db.session.scalar(select(Workspace).where(Workspace.name == "Demo Workspace"))
    if workspace is None:
        workspace = Workspace(name="Demo Workspace")
        db.session.add(workspace)
        db.session.flush()
    for email, name, role in DEMO_USERS:
        if db.session.scalar(select(User).where(User.email == email)) is None:
            user = User(email=email, name=name, role=role, workspace_id=None if role == "support" else workspace.id)
            user.set_password(DEMO_PASSWORD)
            db.session.add(user)
    db.session.commit()


def register_commands(app: Flask) -> None:
    @app.cli.command("seed-demo")
    def seed_demo() -> None:
        """Create the demo workspace and accounts (refused in production)."""
        if app.config.get("PRODUCTION"):
            raise click.ClickException("demo accounts are never created in production")
        seed_demo_accounts()
        click.echo("demo accounts ready: " + ", ".join(e for e, _, _ in DEMO_USERS) + f" (password {DEMO_PASSWORD!r})")

    @app.cli.command("create-support-user")
    @click.argument("email")
    @click.password_option()
    def create_support_user(email: str, password: str) -> None:
        """Support staff accounts exist only through this command, never through sign-up."""
        if db.session.scalar(select(User).where(User.email == email.lower())):
            raise click.ClickException("an account with that email exists")
        user = User(email=email.lower(), name=email, role="support")
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        click.echo(f"support user {email} created")

    @app.cli.command("expire-grants")
    def expire_grants() -> None:
        """Background cleanup: record support grants that ran out (access already ends on expiry)."""
        from wizard.support.grants import record_expiries
        from wizard.support.xero_access import send_reminders

        click.echo(f"{record_expiries()} expired support grant(s) recorded")
        sent = send_reminders()
        click.echo(f"{sent.before_expiry + sent.at_expiry} Xero access reminder(s) sent")

    @app.cli.command("xero-access-reminders")
    def xero_access_reminders() -> None:
        """Periodic: remind admins to remove the support user from Xero (24 h before, at expiry)."""
        from wizard.support.xero_access import send_reminders

        sent = send_reminders()
        click.echo(f"{sent.before_expiry} 24-hour and {sent.at_expiry} expiry reminder(s) sent")

    @app.cli.command("rebuild-book-totals")
    def rebuild_book_totals() -> None:
        """Once after upgrading: recompute every connection's books totals from its stored records."""
        from wizard.books.totals import rebuild_idle_connections

        rebuilt, busy = rebuild_idle_connections()
        click.echo(f"books totals rebuilt for {rebuilt} connection(s)")
        if busy:
            click.echo(f"syncing now, run again when done: connection(s) {', '.join(map(str, busy))}")

    @app.cli.command("audit-log")
    @click.option("--after-id", default=0, help="Only rows with a larger id (incremental export).")
    def audit_log(after_id: int) -> None:
        """Security reviewers: print the support audit log as JSON lines (read-only)."""
        import json

        from wizard.support.audit import since

        for row in since(after_id):
            click.echo(
                json.dumps(
                    {
                        "id": row.id,
                        "at": row.at.isoformat() + "Z",
                        "actor_id": row.actor_id,
                        "actor_email": row.actor_email,
                        "actor_role": row.actor_role,
                        "grant_id": row.grant_id,
                        "workspace_id": row.workspace_id,
                        "connection_id": row.connection_id,
                        "action": row.action,
                        "allowed": row.allowed,
                        "remote_addr": row.remote_addr,
                        "detail": row.detail,
                    }
                )
            )
