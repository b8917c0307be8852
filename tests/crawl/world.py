"""The crawler's world: support-access world (two workspaces, grants) plus one connection per lifecycle state."""

from __future__ import annotations

from datetime import timedelta

from tests.support_access.world import World, build_world

# Workspace A gets a connection in each of these (state, reason); the support world adds four failed ones.
LIFECYCLE = (
    ("connecting", "created"),
    ("synced", ""),
    ("syncing", "manual"),
    ("paused", "rate_limited"),
    ("needs_reauth", "token_dead"),
    ("disconnected", "disconnected_in_xero"),
    ("disconnected", "disconnected_by_admin"),
    ("failed", "sync_failed"),
)
RUN_FOR_STATE = {"synced": "succeeded", "syncing": "running", "paused": "paused", "failed": "failed"}


def build_lifecycle_world(support_grant: bool = True) -> World:
    """Call inside an app context. Without `support_grant`, the active grant is revoked too."""
    from wizard.extensions import db
    from wizard.models import Connection, StreamProgress, SupportGrant, SyncRun, XeroRecord

    world = build_world()
    token_set_id = db.session.get(Connection, world.connections["active"]).token_set_id
    for n, (state, reason) in enumerate(LIFECYCLE):
        connection = Connection(
            workspace_id=world.workspace_a,
            token_set_id=token_set_id,
            tenant_id=f"tenant-{state}-{n}",
            tenant_name=f"Acme {state.replace('_', ' ').title()} {n} Ltd",
            xero_connection_id=f"xc-{state}-{n}",
        )
        connection.move_to(state, reason)
        db.session.add(connection)
        db.session.flush()
        world.connections[f"{state}-{n}"] = connection.id
        run_state = RUN_FOR_STATE.get(state)
        if run_state:
            run = SyncRun(connection_id=connection.id, kind="manual", state=run_state, started_at=world.now)
            if run_state == "paused":
                run.paused_until, run.pause_reason = world.now + timedelta(hours=3), "rate_limited"
            run.streams.append(StreamProgress(stream="Contacts", position=1, state="done", done=40, total=40))
            run.streams.append(StreamProgress(stream="Invoices", position=2, state="running", done=10, page_size=100))
            db.session.add(run)
        db.session.add_all(
            XeroRecord(connection_id=connection.id, stream="Contacts", xero_id=f"c-{n}-{i}", payload="{}")
            for i in range(3)
        )
    if not support_grant:
        db.session.get(SupportGrant, world.grants["active"]).revoked_at = world.now - timedelta(minutes=1)
    db.session.commit()
    return world
