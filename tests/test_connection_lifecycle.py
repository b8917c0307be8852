"""Connection lifecycle (issue 12 item 9): states and allowed moves live in one place, move_to refuses the rest."""

from __future__ import annotations

import pytest

from tests.helpers.connections import connection_in_state
from wizard.models.connections import CONNECTION_STATES, TRANSITIONS, Connection, TransitionRefused


def _saved_connection(db, state: str) -> Connection:
    from wizard.models import Workspace

    workspace = Workspace(name=f"Lifecycle {state}")
    db.session.add(workspace)
    db.session.flush()
    connection = Connection(workspace_id=workspace.id, tenant_id=f"t-{state}", tenant_name="Org")
    connection.move_to(state, "set up")
    db.session.add(connection)
    db.session.commit()
    return connection


def test_every_state_has_its_moves_listed():
    assert set(TRANSITIONS) == set(CONNECTION_STATES)
    for targets in TRANSITIONS.values():
        assert targets <= set(CONNECTION_STATES)


@pytest.mark.parametrize("source", CONNECTION_STATES)
def test_move_to_allows_exactly_the_listed_moves_and_records_each(app, source):
    from wizard.extensions import db

    with app.app_context():
        for target in CONNECTION_STATES:
            connection = _saved_connection(db, source)
            events = len(connection.events)
            if target == source or target in TRANSITIONS[source]:
                connection.move_to(target, "because")
                assert connection.state == target and len(connection.events) == events + 1
                assert (connection.events[-1].from_state, connection.events[-1].to_state) == (source, target)
            else:
                with pytest.raises(TransitionRefused):
                    connection.move_to(target, "because")
                assert (connection.state, connection.state_reason) == (source, "set up")
                assert len(connection.events) == events
            db.session.rollback()


def test_a_disconnect_in_progress_can_only_end_disconnected(app):
    from wizard.extensions import db

    with app.app_context():
        connection = _saved_connection(db, "disconnecting")
        for target in ("syncing", "synced", "failed", "paused", "needs_reauth", "connecting"):
            assert not connection.can_move_to(target)
        assert connection.can_move_to("disconnected") and not connection.is_usable


def test_sync_now_on_a_disconnecting_connection_is_refused(app, auth, client):
    from wizard.extensions import db
    from wizard.models import SyncRun

    auth.as_new("admin")
    connection_id = connection_in_state(app, "disconnecting", "disconnect_keep_data", "Requested by admin@example.test")
    page = client.get(f"/data/connections/{connection_id}").get_data(as_text=True)
    assert "Disconnecting" in page and "Sync now" not in page and ">Reconnect</a>" not in page
    assert client.post(f"/data/connections/{connection_id}/sync").status_code == 409
    with app.app_context():
        assert db.session.query(SyncRun).count() == 0
