"""A live sandbox connection in the `synced` state with records stored, without running a sync."""

from __future__ import annotations

from tests.sync.helpers import Connected, connect_org


def synced_with_records(app, sandbox, records: int, stream: str = "Invoices", name: str | None = None) -> Connected:
    """connect_org, plus Xero's connection id (for DELETE /connections) and `records` stored rows."""
    from wizard.extensions import db
    from wizard.models import Connection, XeroRecord

    with app.app_context():
        org = connect_org(app, sandbox, records=5, name=name)
        connection = db.session.get(Connection, org.connection_id)
        connection.xero_connection_id = next(
            c["id"] for c in sandbox.state.connections() if c["tenantId"] == org.tenant_id
        )
        connection.move_to("syncing", "initial")
        connection.move_to("synced", "")
        db.session.add_all(
            XeroRecord(connection_id=connection.id, stream=stream, xero_id=f"{stream}-{i}", payload="{}")
            for i in range(records)
        )
        db.session.commit()
    return org


def workspace_name(app, workspace_id: int) -> str:
    from wizard.extensions import db
    from wizard.models import Workspace

    with app.app_context():
        return db.session.get(Workspace, workspace_id).name


def connection_in_state(app, state: str, reason: str = "", detail: str = "", name: str = "Harbour Coffee") -> int:
    """A connection (no Xero behind it) in the workspace of the only user, created in `state`."""
    from wizard.extensions import db
    from wizard.models import Connection, User

    with app.app_context():
        user = db.session.query(User).one()
        connection = Connection(workspace_id=user.workspace_id, tenant_id="t-1", tenant_name=name)
        connection.move_to(state, reason, detail)
        db.session.add(connection)
        db.session.commit()
        return connection.id


def syncing_with_streams(app, streams: list, records: int = 0, name: str = "Harbour Coffee") -> int:
    """A syncing connection whose running run has these StreamProgress rows."""
    from wizard.extensions import db
    from wizard.models import SyncRun

    connection_id = connection_in_state(app, "syncing", "initial", name=name)
    with app.app_context():
        calls = sum(s.calls or 0 for s in streams)
        db.session.add(
            SyncRun(connection_id=connection_id, state="running", calls=calls, records=records, streams=streams)
        )
        db.session.commit()
    return connection_id


def stored_records(app, connection_id: int) -> int:
    """Every row we hold for the connection, tombstones included."""
    from sqlalchemy import func, select

    from wizard.extensions import db
    from wizard.models import XeroRecord

    with app.app_context():
        return db.session.scalar(select(func.count(XeroRecord.id)).where(XeroRecord.connection_id == connection_id))


def fresh_connection(app, connection_id: int):
    """The connection as the database has it now, detached (readable outside the app context)."""
    from wizard.extensions import db
    from wizard.models import Connection

    with app.app_context():
        db.session.expire_all()
        connection = db.session.get(Connection, connection_id)
        db.session.expunge(connection)
        return connection
