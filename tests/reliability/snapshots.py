"""What "nothing changed" means in the reliability tests: every row of every table."""

from __future__ import annotations


def database_snapshot(app, skip: tuple[str, ...] = ("audit_event", "login_session")) -> dict[str, list]:
    """Every table's rows, sorted. Audit rows and sign-in sessions are expected to grow."""
    from wizard.extensions import db

    with app.app_context():
        db.session.expire_all()
        with db.engine.connect() as conn:
            return {
                table.name: sorted(tuple(map(repr, row)) for row in conn.execute(table.select()))
                for table in db.metadata.sorted_tables
                if table.name not in skip
            }
