"""T-17/T-18: grants expire to the second on the server's clock; every support access is audited
exactly once, denied ones included; nobody can change or remove an audit row."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, update

from tests.support_access.world import GRANT_STATES
from wizard.extensions import db
from wizard.models import AuditEvent, SupportGrant
from wizard.models.support import AuditLogImmutable


def _audit_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent))


def _last_audit(app) -> AuditEvent:
    with app.app_context():
        return db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()


def test_grant_allows_one_second_before_expiry_and_denies_one_second_after(app, as_persona, world, frozen_clock):
    with app.app_context():
        expires_at = db.session.get(SupportGrant, world.grants["active"]).expires_at
    url = f"/support/connections/{world.connections['active']}"
    frozen_clock.set(expires_at - timedelta(seconds=1))
    support = as_persona("support")  # signed in a day later (a sign-in ends after an hour idle)
    assert support.get(url).status_code == 200
    assert b"Acme Active Ltd" in support.get("/support").data
    frozen_clock.set(expires_at)
    assert support.get(url).status_code == 404  # "until" is exclusive
    frozen_clock.set(expires_at + timedelta(seconds=1))
    assert support.get(url).status_code == 404
    assert support.post(url + "/sync").status_code == 404
    assert b"Acme Active Ltd" not in support.get("/support").data


def test_expiry_needs_no_cleanup_but_cleanup_records_it_once(app, world, frozen_clock):
    frozen_clock.set(world.now)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["expire-grants"])
    assert result.exit_code == 0 and "1 expired support grant(s) recorded" in result.output
    assert "0 expired" in runner.invoke(args=["expire-grants"]).output
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "grant.expired")).all()
        assert [(r.grant_id, r.actor_role, r.workspace_id) for r in rows] == [
            (world.grants["expired"], "system", world.workspace_a)
        ]
        assert db.session.get(SupportGrant, world.grants["expired"]).expiry_recorded_at == world.now
        assert db.session.get(SupportGrant, world.grants["revoked"]).expiry_recorded_at is None


def test_audit_log_command_prints_every_row_as_json_lines(app, as_persona, world):
    import json

    as_persona("support").get(f"/support/connections/{world.connections['active']}")
    output = app.test_cli_runner().invoke(args=["audit-log"]).output
    rows = [json.loads(line) for line in output.splitlines()]
    assert rows[-1]["action"] == "doctor.view" and rows[-1]["grant_id"] == world.grants["active"]
    assert rows[-1]["at"].endswith("Z") and rows[-1]["allowed"] is True


SUPPORT_REQUESTS = [
    ("GET", "/support/connections/{id}", "doctor.view"),
    ("POST", "/support/connections/{id}/sync", "sync.rerun"),
    ("POST", "/support/connections/{id}/recheck", "connection.recheck"),
]


@pytest.mark.parametrize("state", GRANT_STATES)
@pytest.mark.parametrize(("method", "path", "action"), SUPPORT_REQUESTS)
def test_every_support_request_writes_exactly_one_audit_row(app, as_persona, world, state, method, path, action):
    support = as_persona("support")
    before = _audit_count(app)
    response = support.open(path.format(id=world.connections[state]), method=method)
    assert _audit_count(app) == before + 1
    row = _last_audit(app)
    allowed = state == "active"
    assert response.status_code in ((200, 303) if allowed else (404,))
    assert (row.action, row.allowed, row.actor_id, row.actor_role) == (
        action,
        allowed,
        world.user_ids["support"],
        "support",
    )
    assert row.connection_id == world.connections[state] and row.workspace_id == world.workspace_a
    assert row.grant_id == world.grants.get(state)  # denied rows point at the grant that lapsed
    assert row.remote_addr == "127.0.0.1" and row.at is not None


def test_console_views_are_audited_and_support_on_customer_pages_is_logged_as_denied(app, as_persona, world):
    support = as_persona("support")
    before = _audit_count(app)
    support.get("/support", query_string={"q": "acme"})
    row = _last_audit(app)
    assert (row.action, row.allowed, row.detail) == (
        "console.view",
        True,
        "search 'acme', 1 shown",
    )
    assert support.get(f"/data/connections/{world.connections['active']}").status_code == 403
    row = _last_audit(app)
    assert (row.action, row.allowed, row.connection_id) == (
        "data.connection",
        False,
        world.connections["active"],
    )
    assert _audit_count(app) == before + 2


def test_customer_admin_sees_each_support_action_under_its_grant(as_persona, world):
    support = as_persona("support")
    support.get(f"/support/connections/{world.connections['active']}")
    support.post(f"/support/connections/{world.connections['active']}/sync")
    page = as_persona("admin").get(f"/settings/support-access/{world.grants['active']}").get_data(as_text=True)
    assert page.count('data-audit-action="doctor.view"') == 1 and page.count('data-audit-action="sync.rerun"') == 1
    assert "Viewed connection diagnostics" in page and "Re-ran the sync" in page and "support@planwise.test" in page
    assert "127.0.0.1" in page


def test_audit_rows_cannot_be_updated_or_deleted(app, as_persona, world):
    as_persona("support").get(f"/support/connections/{world.connections['active']}")
    with app.app_context():
        row = db.session.scalars(select(AuditEvent)).first()
        row.allowed = False
        with pytest.raises(AuditLogImmutable):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.scalars(select(AuditEvent)).first())
        with pytest.raises(AuditLogImmutable):
            db.session.commit()
        db.session.rollback()
        with pytest.raises(AuditLogImmutable):
            db.session.execute(update(AuditEvent).values(detail="edited"))
        with pytest.raises(AuditLogImmutable):
            db.session.execute(delete(AuditEvent))
        db.session.rollback()
        assert db.session.scalars(select(AuditEvent)).first().allowed is True


def test_no_route_can_change_the_audit_log(app):
    """Nothing in the product edits or deletes audit rows: no route mentions it but the read-only pages."""
    from wizard import policy

    writable = [
        r for r in app.url_map.iter_rules() if "audit" in r.rule and r.methods & {"POST", "PUT", "PATCH", "DELETE"}
    ]
    assert writable == [] and all("audit" not in endpoint for endpoint in policy.POLICY)


def test_a_rerun_that_cannot_be_queued_is_still_audited_once(app, as_persona, world, monkeypatch):
    from wizard import syncing

    def queue_down(*args, **kwargs):
        raise ConnectionError("redis unreachable")

    monkeypatch.setattr(syncing, "enqueue_run", queue_down)
    support = as_persona("support")
    before = _audit_count(app)
    with pytest.raises(ConnectionError):
        support.post(f"/support/connections/{world.connections['active']}/sync")
    assert _audit_count(app) == before + 1
    assert (_last_audit(app).action, _last_audit(app).detail) == (
        "sync.rerun",
        "failed: ConnectionError",
    )
