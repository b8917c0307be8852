"""The Data page: connections with their state, the + button, the picker, roles."""

from __future__ import annotations

from wizard.extensions import db
from wizard.models import Connection, SyncRun, User, XeroRecord


def _connection(app, email="admin@example.test", name="Harbour <b>Coffee</b>", state="synced"):
    with app.app_context():
        user = db.session.query(User).filter_by(email=email).one()
        connection = Connection(workspace_id=user.workspace_id, tenant_id="t-1", tenant_name=name)
        connection.move_to(state)
        db.session.add(connection)
        db.session.flush()
        db.session.add(SyncRun(connection_id=connection.id, state="succeeded"))
        for i in range(3):
            db.session.add(XeroRecord(connection_id=connection.id, stream="Invoices", xero_id=f"i{i}", payload="{}"))
        db.session.add(
            XeroRecord(connection_id=connection.id, stream="Invoices", xero_id="gone", payload="{}", tombstoned=True)
        )
        db.session.commit()
        return connection.id


def test_empty_data_page_has_the_connect_button(auth, client):
    auth.as_new("admin")
    response = client.get("/data")
    assert response.status_code == 200
    assert b'aria-label="Connect a data source"' in response.data
    assert b"No data sources yet" in response.data


def test_data_page_lists_connection_with_state_and_counts_escaped(app, auth, client):
    auth.as_new("admin")
    _connection(app)
    html = client.get("/data").get_data(as_text=True)
    assert "Harbour &lt;b&gt;Coffee&lt;/b&gt;" in html and "<b>Coffee</b>" not in html
    assert "Synced" in html
    assert ">3<" in html  # tombstones are not counted


def test_viewer_sees_read_only_note_and_no_connect_button(app, auth, client):
    auth.make_user("admin@example.test", "admin")
    auth.as_new("viewer")
    _connection(app)
    html = client.get("/data").get_data(as_text=True)
    assert "Connect a data source" not in html
    assert "Only workspace admins can connect" in html
    assert client.get("/connect/xero").status_code == 403


def test_picker_lists_xero_and_links_to_the_wizard(auth, client):
    auth.as_new("admin")
    response = client.get("/data/new")
    assert b"Xero" in response.data and b'href="/connect/xero"' in response.data


def test_other_workspace_connection_is_not_found(app, auth, client):
    auth.make_user("other@example.test", "admin", workspace="Other Co")
    connection_id = _connection(app, email="other@example.test")
    auth.as_new("admin")
    assert client.get(f"/data/connections/{connection_id}").status_code == 404
    assert client.post(f"/data/connections/{connection_id}/sync").status_code == 404


def test_rows_poll_only_while_something_syncs(app, auth, client, htmx):
    auth.as_new("admin")
    connection_id = _connection(app)
    assert b"hx-trigger" not in client.get("/data/rows", headers=htmx).data
    with app.app_context():
        db.session.add(SyncRun(connection_id=connection_id, state="running"))
        db.session.get(Connection, connection_id).move_to("syncing")
        db.session.commit()
    fragment = client.get("/data/rows", headers=htmx)
    assert b"hx-trigger" in fragment.data and b"<html" not in fragment.data
    assert "HX-Request" in fragment.headers["Vary"]


def statements_of(app, client, path) -> list[str]:
    """The SQL statements one GET of `path` runs (it must answer 200)."""
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return statements


def _count_queries(app, client, path):
    return len(statements_of(app, client, path))


def test_data_page_queries_do_not_grow_with_connections(app, auth, client):
    auth.as_new("admin")
    _connection(app)
    one = _count_queries(app, client, "/data")
    with app.app_context():
        user = db.session.query(User).filter_by(email="admin@example.test").one()
        for n in range(9):
            c = Connection(workspace_id=user.workspace_id, tenant_id=f"t-extra-{n}", tenant_name=f"Org {n}")
            c.move_to("synced")
            db.session.add(c)
            db.session.flush()
            db.session.add(SyncRun(connection_id=c.id, state="succeeded"))
        db.session.commit()
    assert _count_queries(app, client, "/data") == one


def test_a_connection_that_breaks_notifies_each_admin_once(app, auth):
    from wizard.connection_health import mark_broken
    from wizard.models import Notification

    auth.make_user("admin@example.test", "admin")
    auth.make_user("second-admin@example.test", "admin")
    auth.make_user("viewer@example.test", "viewer")
    connection_id = _connection(app)
    with app.app_context():
        connection = db.session.get(Connection, connection_id)
        mark_broken(connection, "needs_reauth", "token_dead")
        mark_broken(connection, "needs_reauth", "token_dead")  # a sibling reports it again
        db.session.commit()
        notes = db.session.query(Notification).all()
        assert sorted(n.user_id for n in notes) == sorted(u.id for u in db.session.query(User).filter_by(role="admin"))
        assert all("Xero needs you to log in again" in n.title for n in notes)
        assert connection.state == "needs_reauth"
