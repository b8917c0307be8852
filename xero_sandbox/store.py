"""Thread-safe in-memory state: users, organisations, clients, connections, codes, tokens."""

from __future__ import annotations

import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from .data import Books, OrgProfile, generate, make_profile, sandbox_uuid

CONNECTING_ROLES = ("STANDARD", "FINANCIALADVISER")
ROLE_NAMES = {
    "STANDARD": "Standard",
    "FINANCIALADVISER": "Adviser",
    "READONLY": "Read only",
    "INVOICEONLY": "Invoice only",
    "CASHBOOKCLIENT": "Cashbook client",
    "MANAGEDCLIENT": "Managed client",
    "REMOVED": "Removed",
}
ROLE_ALIASES = {
    "standard": "STANDARD",
    "adviser": "FINANCIALADVISER",
    "advisor": "FINANCIALADVISER",
    "readonly": "READONLY",
    "read only": "READONLY",
    "read_only": "READONLY",
    "invoiceonly": "INVOICEONLY",
    "invoice only": "INVOICEONLY",
    "removed": "REMOVED",
}
TIER_CAPS = {"starter": 5, "core": 50, "plus": 1000, "advanced": 10_000, "enterprise": None}
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def normalise_role(role: str) -> str:
    """Accept 'Adviser', 'read only', 'FINANCIALADVISER'...; return Xero's enum value."""
    key = role.strip()
    if key.upper() in ROLE_NAMES:
        return key.upper()
    try:
        return ROLE_ALIASES[key.lower()]
    except KeyError:
        raise ValueError(f"unknown role {role!r}") from None


@dataclass
class User:
    user_id: str
    email: str
    password: str
    first_name: str
    last_name: str
    mfa_secret: str | None = None
    roles: dict[str, str] = field(default_factory=dict)  # tenant id -> role
    updated_ms: int = 0


@dataclass
class Organisation:
    tenant_id: str
    profile: OrgProfile
    books: Books
    seed: str
    size: int


@dataclass
class Client:
    client_id: str
    client_secret: str | None
    redirect_uris: list[str]
    created: date
    tier: str = "core"
    name: str = "Sandbox demo app"


@dataclass
class Connection:
    connection_id: str
    client_id: str
    user_id: str
    tenant_id: str
    auth_event_id: str
    created: datetime
    updated: datetime


@dataclass
class AuthRequest:
    """An authorize request held across the login, MFA and consent pages."""

    request_id: str
    client_id: str
    redirect_uri: str
    scopes: list[str]
    state: str | None
    code_challenge: str | None
    nonce: str | None
    created: float
    user_id: str | None = None
    mfa_passed: bool = False


@dataclass
class AuthCode:
    code: str
    client_id: str
    user_id: str
    redirect_uri: str
    scopes: list[str]
    code_challenge: str | None
    nonce: str | None
    auth_event_id: str
    session_id: str
    expires: float
    auth_time: float
    used: bool = False


@dataclass
class Grant:
    """A token set: one user, one app, one consent round (refresh tokens rotate inside it)."""

    grant_id: str
    client_id: str
    user_id: str
    scopes: list[str]
    auth_event_id: str
    session_id: str
    auth_time: float
    nonce: str | None
    revoked: bool = False


@dataclass
class RefreshToken:
    token: str
    grant_id: str
    issued: float
    superseded: float | None = None
    successor: str | None = None


class Store:
    """All mutable sandbox state behind one re-entrant lock."""

    def __init__(self, clock, cache_bytes: int | None = None) -> None:
        self.clock = clock
        self.cache_bytes = cache_bytes  # budget of each organisation's JSON cache (None: default)
        self.lock = threading.RLock()
        self.users: dict[str, User] = {}
        self.orgs: dict[str, Organisation] = {}
        self.clients: dict[str, Client] = {}
        self.connections: dict[str, Connection] = {}
        self.auth_requests: dict[str, AuthRequest] = {}
        self.codes: dict[str, AuthCode] = {}
        self.grants: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.access_tokens: dict[str, str] = {}  # jti -> grant id
        self.consents: dict[tuple[str, str], set[str]] = {}  # (user, client) -> scopes
        self.sessions: dict[str, str] = {}  # sandbox login cookie -> user id

    # users and organisations ---------------------------------------------------
    def add_user(self, email: str, password: str, first: str, last: str, mfa_secret: str | None = None) -> User:
        user = User(
            sandbox_uuid("user", email.lower()),
            email.lower(),
            password,
            first,
            last,
            mfa_secret,
            updated_ms=int(self.clock.time() * 1000),
        )
        with self.lock:
            self.users[user.user_id] = user
        return user

    def user_by_email(self, email: str) -> User | None:
        with self.lock:
            for user in self.users.values():
                if user.email == email.strip().lower():
                    return user
        return None

    def find_user(self, key: str) -> User:
        """Look a user up by id or email; KeyError when absent."""
        with self.lock:
            user = self.users.get(key) or self.user_by_email(key)
        if user is None:
            raise KeyError(f"no user {key!r}")
        return user

    def add_org(
        self,
        name: str,
        country: str = "NZ",
        size: int = 300,
        seed: str = "demo",
        is_demo: bool = False,
        line_of_business: str = "",
    ) -> Organisation:
        """Create (or replace) an organisation with freshly generated books."""
        tenant_id = sandbox_uuid("org", name)
        profile = make_profile(name, country, is_demo, line_of_business)
        books = self._sized(generate(tenant_id, profile, size, seed, self.clock.now()))
        org = Organisation(tenant_id, profile, books, seed, size)
        with self.lock:
            self.orgs[tenant_id] = org
        return org

    def regenerate(self, tenant_id: str, size: int | None = None, seed: str | None = None) -> Organisation:
        """Reset (same size) or resize an organisation's books."""
        with self.lock:
            org = self.orgs[tenant_id]
        size = org.size if size is None else size
        seed = org.seed if seed is None else seed
        books = self._sized(generate(tenant_id, org.profile, size, seed, self.clock.now()))
        with self.lock:
            org.books, org.size, org.seed = books, size, seed
        return org

    def _sized(self, books: Books) -> Books:
        if self.cache_bytes is not None:
            books.fragments.budget = self.cache_bytes
        return books

    def delete_org(self, tenant_id: str) -> None:
        """Delete an organisation: its connections go and its users lose it."""
        with self.lock:
            self.orgs.pop(tenant_id)
            for conn_id in [c.connection_id for c in self.connections.values() if c.tenant_id == tenant_id]:
                del self.connections[conn_id]
            for user in self.users.values():
                user.roles.pop(tenant_id, None)

    def set_role(self, user_key: str, tenant_id: str, role: str | None) -> None:
        """Give a user a role in an org (None removes them from it)."""
        user = self.find_user(user_key)
        with self.lock:
            if tenant_id not in self.orgs:
                raise KeyError(f"no organisation {tenant_id!r}")
            if role is None:
                user.roles.pop(tenant_id, None)
            else:
                user.roles[tenant_id] = normalise_role(role)
            user.updated_ms = int(self.clock.time() * 1000)

    def can_connect(self, user: User, tenant_id: str) -> bool:
        return user.roles.get(tenant_id) in CONNECTING_ROLES and tenant_id in self.orgs

    def eligible_orgs(self, user: User) -> list[Organisation]:
        with self.lock:
            return [
                self.orgs[t]
                for t in sorted(user.roles, key=lambda t: self.orgs[t].profile.name)
                if self.can_connect(user, t)
            ]

    # clients -------------------------------------------------------------------------
    def add_client(
        self,
        client_id: str,
        client_secret: str | None,
        redirect_uris: list[str],
        created: date | str = "2026-04-01",
        tier: str = "core",
        name: str = "Sandbox demo app",
    ) -> Client:
        if isinstance(created, str):
            created = date.fromisoformat(created)
        if tier not in TIER_CAPS:
            raise ValueError(f"unknown tier {tier!r}")
        client = Client(client_id, client_secret, list(redirect_uris), created, tier, name)
        with self.lock:
            self.clients[client_id] = client
        return client

    # connections ---------------------------------------------------------------------
    def user_connections(self, user_id: str, client_id: str) -> list[Connection]:
        with self.lock:
            conns = [c for c in self.connections.values() if c.user_id == user_id and c.client_id == client_id]
        return sorted(conns, key=lambda c: (c.created, c.connection_id))

    def live_connection(self, user_id: str, client_id: str, tenant_id: str) -> Connection | None:
        """The connection that authorises API calls, if still valid (role and org intact)."""
        with self.lock:
            user = self.users.get(user_id)
            if user is None or not self.can_connect(user, tenant_id):
                return None
            for conn in self.connections.values():
                if (conn.user_id, conn.client_id, conn.tenant_id) == (user_id, client_id, tenant_id):
                    return conn
        return None

    def connected_tenants(self, client_id: str) -> set[str]:
        """Organisations counted against the app's tier cap (demo companies excluded)."""
        with self.lock:
            return {
                c.tenant_id
                for c in self.connections.values()
                if c.client_id == client_id and not self.orgs[c.tenant_id].profile.is_demo
            }

    def connect(self, user_id: str, client_id: str, tenant_ids: list[str], auth_event_id: str) -> list[Connection]:
        """Create or refresh connections for one consent round (shared authEventId)."""
        now = self.clock.now()
        out = []
        with self.lock:
            for tenant_id in tenant_ids:
                existing = next(
                    (
                        c
                        for c in self.connections.values()
                        if (c.user_id, c.client_id, c.tenant_id) == (user_id, client_id, tenant_id)
                    ),
                    None,
                )
                if existing:
                    existing.updated = now
                    existing.auth_event_id = auth_event_id
                    out.append(existing)
                    continue
                conn = Connection(str(uuid.uuid4()), client_id, user_id, tenant_id, auth_event_id, now, now)
                self.connections[conn.connection_id] = conn
                out.append(conn)
        return out

    def remove_connection(self, connection_id: str) -> Connection:
        with self.lock:
            return self.connections.pop(connection_id)

    # tokens ---------------------------------------------------------------------------------
    def revoke_grants(self, user_id: str, client_id: str | None = None) -> int:
        """Revoke every token set of a user (optionally one app) and drop their connections."""
        count = 0
        with self.lock:
            for grant in self.grants.values():
                if (
                    grant.user_id == user_id
                    and (client_id is None or grant.client_id == client_id)
                    and not grant.revoked
                ):
                    grant.revoked = True
                    count += 1
            for conn_id in [
                c.connection_id
                for c in self.connections.values()
                if c.user_id == user_id and (client_id is None or c.client_id == client_id)
            ]:
                del self.connections[conn_id]
            for key in [k for k in self.consents if k[0] == user_id and (client_id is None or k[1] == client_id)]:
                del self.consents[key]
        return count

    def new_refresh_token(self, grant_id: str) -> RefreshToken:
        token = RefreshToken(secrets.token_urlsafe(32), grant_id, self.clock.time())
        with self.lock:
            self.refresh_tokens[token.token] = token
        return token

    def new_session(self, user_id: str) -> str:
        sid = secrets.token_urlsafe(24)
        with self.lock:
            self.sessions[sid] = user_id
        return sid


def seed_demo(store: Store, size: int = 300, seed: str = "demo") -> None:
    """The demo users and organisations named in docs/architecture.md."""
    harbour = store.add_org("Harbour Coffee Roasters Ltd", "NZ", size, seed, line_of_business="Coffee roasting")
    kowhai = store.add_org("Kowhai Outdoor Supplies", "NZ", size, seed, line_of_business="Outdoor retail")
    demo_au = store.add_org("Demo Company (AU)", "AU", size, seed, is_demo=True, line_of_business="Consulting")
    thames = store.add_org("Thames Bicycle Works Ltd", "GB", size, seed, line_of_business="Bicycle repairs")
    admin = store.add_user("xero.admin@demo.test", "xero", "Alex", "Admin", mfa_secret=DEMO_TOTP_SECRET)
    adviser = store.add_user("xero.adviser@demo.test", "xero", "Ada", "Adviser")
    readonly = store.add_user("xero.readonly@demo.test", "xero", "Reid", "Reader")
    for org in (harbour, kowhai, demo_au):
        admin.roles[org.tenant_id] = "STANDARD"
    for org in (kowhai, thames):
        adviser.roles[org.tenant_id] = "FINANCIALADVISER"
    for org in (harbour, thames):
        readonly.roles[org.tenant_id] = "READONLY"
