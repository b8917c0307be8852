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


def syncing_with_streams(app, streams: list, records: int = 0, name: str = "Harbour Coffee") -> int:
    """A connection of the (only) workspace user, syncing, whose running run has these StreamProgress rows."""
    from wizard.extensions import db
    from wizard.models import Connection, SyncRun, User

    with app.app_context():
        user = db.session.query(User).one()
        connection = Connection(workspace_id=user.workspace_id, tenant_id="t-1", tenant_name=name)
        connection.move_to("syncing", "initial")
        db.session.add(connection)
        db.session.flush()
        run = SyncRun(
            connection_id=connection.id, state="running", calls=sum(s.calls or 0 for s in streams), records=records
        )
        run.streams = streams
        db.session.add(run)
        db.session.commit()
        return connection.id
