"""A small world for support-access tests, built straight in the DB (no Xero flow needed).

Workspace A ("Acme Planning") has an admin, a viewer and four connections, one per grant state:
no grant, an active grant, an expired grant and a revoked grant. Workspace B ("Rival Ltd") has
its own admin. One support account exists; what it may see depends only on the grants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from werkzeug.security import generate_password_hash

PASSWORD = "pw"
# Known plaintext tokens: diagnostics must never show them (nor their ciphertexts).
ACCESS_TOKEN = "plaintext-access-token-5f2c9a77e1"
REFRESH_TOKEN = "plaintext-refresh-token-0b8d41c3aa"
GRANT_STATES = ("none", "active", "expired", "revoked")
# Workspace A's tenants, by grant state.
TENANTS = {state: f"tenant-{state}-0000-4000-8000-000000000000" for state in GRANT_STATES}


@dataclass
class World:
    now: datetime
    workspace_a: int = 0
    workspace_b: int = 0
    emails: dict[str, str] = field(default_factory=dict)  # persona -> email
    user_ids: dict[str, int] = field(default_factory=dict)
    connections: dict[str, int] = field(default_factory=dict)  # grant state -> connection id
    grants: dict[str, int] = field(default_factory=dict)  # grant state -> grant id
    runs: dict[str, int] = field(default_factory=dict)  # grant state -> sync run id
    connection_b: int = 0
    token_ciphertexts: list[bytes] = field(default_factory=list)


def empty_tables() -> None:
    from tests.helpers.tables import empty_all_tables
    from wizard.extensions import db

    empty_all_tables(db)


def _user(db, email: str, role: str, workspace_id: int | None):
    from wizard.models import User

    # A cheap hash: the matrix builds this world hundreds of times.
    user = User(
        email=email,
        name=email.split("@")[0],
        role=role,
        workspace_id=workspace_id,
        password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"),
    )
    db.session.add(user)
    db.session.flush()
    return user


def _connection(db, world: World, workspace_id: int, token_set_id: int, tenant_id: str, name: str):
    from wizard.models import Connection, StreamProgress, SyncRun

    connection = Connection(
        workspace_id=workspace_id,
        token_set_id=token_set_id,
        tenant_id=tenant_id,
        tenant_name=name,
        xero_connection_id=f"xc-{tenant_id[:12]}",
        min_limit_remaining=57,
        day_limit_remaining=4890,
        app_min_limit_remaining=9990,
    )
    db.session.add(connection)
    db.session.flush()
    connection.move_to("syncing", "initial")
    connection.move_to("failed", "xero_unavailable", "Xero answered 503 three times.")
    run = SyncRun(
        connection_id=connection.id,
        kind="initial",
        state="failed",
        calls=7,
        records=120,
        attempts=3,
        error_kind="xero_unavailable",
        error_message="503 from Xero",
        correlation_id=f"corr-run-{tenant_id[:10]}",
        created_at=world.now - timedelta(hours=2),
        started_at=world.now - timedelta(hours=2),
        finished_at=world.now - timedelta(hours=1),
    )
    run.streams.append(
        StreamProgress(
            stream="Contacts",
            position=1,
            state="done",
            done=100,
            total=100,
            calls=2,
            correlation_id="corr-contacts-1",
        )
    )
    run.streams.append(
        StreamProgress(
            stream="Invoices",
            position=2,
            state="failed",
            done=20,
            total=400,
            calls=5,
            error="503 Service Unavailable",
            correlation_id="corr-invoices-2",
        )
    )
    db.session.add(run)
    db.session.flush()
    return connection, run


def build_world(now: datetime | None = None) -> World:
    """Fresh tables, then the world. Call inside an app context."""
    from wizard.clock import utcnow
    from wizard.crypto import cipher, token_context
    from wizard.extensions import db
    from wizard.models import SupportGrant, TokenSet, Workspace

    empty_tables()
    world = World(now=now or utcnow())
    a, b = Workspace(name="Acme Planning"), Workspace(name="Rival Ltd")
    db.session.add_all([a, b])
    db.session.flush()
    world.workspace_a, world.workspace_b = a.id, b.id
    for persona, email, role, ws in (
        ("admin", "admin@acme.test", "admin", a.id),
        ("viewer", "viewer@acme.test", "viewer", a.id),
        ("other_admin", "admin@rival.test", "admin", b.id),
        ("support", "support@planwise.test", "support", None),
    ):
        user = _user(db, email, role, ws)
        world.emails[persona], world.user_ids[persona] = email, user.id

    token_sets = {}
    for ws in (a.id, b.id):
        access, refresh = (
            cipher().encrypt(ACCESS_TOKEN, token_context(ws, f"xero-user-{ws}", "access")),
            cipher().encrypt(REFRESH_TOKEN, token_context(ws, f"xero-user-{ws}", "refresh")),
        )
        world.token_ciphertexts += [access, refresh]
        token_set = TokenSet(
            workspace_id=ws,
            xero_userid=f"xero-user-{ws}",
            xero_user_email="xero.admin@demo.test",
            xero_user_name="Xena Admin",
            access_token_enc=access,
            refresh_token_enc=refresh,
            access_expires_at=world.now + timedelta(minutes=25),
            refreshed_at=world.now - timedelta(minutes=5),
            refresh_failures=1,
            last_refresh_error="XeroUnavailable",
            scopes="openid profile email offline_access accounting.settings.read accounting.contacts.read",
        )
        db.session.add(token_set)
        db.session.flush()
        token_sets[ws] = token_set.id

    for state in GRANT_STATES:
        connection, run = _connection(
            db,
            world,
            a.id,
            token_sets[a.id],
            TENANTS[state],
            f"Acme {state.title()} Ltd",
        )
        world.connections[state], world.runs[state] = connection.id, run.id
    connection_b, _ = _connection(db, world, b.id, token_sets[b.id], "tenant-rival-0000", "Rival Books Ltd")
    world.connection_b = connection_b.id

    admin = world.user_ids["admin"]
    for state, created, expires, revoked in (
        (
            "active",
            world.now - timedelta(hours=1),
            world.now + timedelta(hours=23),
            None,
        ),
        (
            "expired",
            world.now - timedelta(hours=25),
            world.now - timedelta(hours=1),
            None,
        ),
        (
            "revoked",
            world.now - timedelta(hours=1),
            world.now + timedelta(hours=23),
            world.now - timedelta(minutes=5),
        ),
    ):
        grant = SupportGrant(
            workspace_id=a.id,
            connection_id=world.connections[state],
            connection_name=f"Acme {state.title()} Ltd",
            reason=f"ticket {state}",
            granted_by_id=admin,
            created_at=created,
            expires_at=expires,
            revoked_at=revoked,
            revoked_by_id=admin if revoked else None,
        )
        db.session.add(grant)
        db.session.flush()
        world.grants[state] = grant.id
    db.session.commit()
    return world


def login(client, email: str, password: str = PASSWORD):
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 303, response.data[:300]
    return response
