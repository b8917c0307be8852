"""The sandbox's in-process handle (`SandboxServer.state`): clock, store, limits, faults,
request log and the actions a Xero user or Xero itself could take."""

from __future__ import annotations

import random
import threading
from collections import deque

import pyotp
from flask import current_app, request

from . import data
from .limits import LimitSettings
from .store import TIER_CAPS, Store
from .webhooks import CATEGORIES, WebhookSender


class RequestLog:
    """Bounded log of API calls, newest last."""

    def __init__(self, maxlen: int = 200_000) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict] = deque(maxlen=maxlen)

    def add(self, entry: dict) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self, **match) -> list[dict]:
        """Copies of entries whose fields equal every given value (e.g. tenant=..., status=429)."""
        with self._lock:
            items = list(self._entries)
        return [dict(e) for e in items if all(e.get(k) == v for k, v in match.items())]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class SandboxState:
    """Everything tests and benchmarks drive in-process; the admin HTTP API wraps the same calls."""

    def __init__(self, config: dict, clock, store: Store, key, limits, faults) -> None:
        self.config = config
        self.clock = clock
        self.store = store
        self.key = key
        self.limits = limits
        self.faults = faults
        self.request_log = RequestLog()
        self.webhooks = WebhookSender(self._connected_to, clock)

    def reset(self) -> None:
        """Back to a fresh sandbox: demo users/orgs regenerated, no connections, tokens, faults,
        counters or log entries; clock back to its configured start. Clients are kept."""
        from .store import seed_demo

        store = self.store
        with store.lock:
            for name in (
                "users",
                "orgs",
                "connections",
                "auth_requests",
                "codes",
                "grants",
                "refresh_tokens",
                "access_tokens",
                "consents",
                "sessions",
            ):
                getattr(store, name).clear()
        self.clock.unfreeze()
        self.clock.set(self.config["CLOCK_START"] or self.clock.now())
        if self.config.get("CLOCK_FROZEN"):
            self.clock.freeze()
        if self.config.get("DEMO_DATA", True):
            seed_demo(store, int(self.config.get("ORG_SIZE", 300)), self.config.get("SEED", "demo"))
        self.faults.clear()
        self.limits.settings = LimitSettings(time_scale=float(self.config.get("TIME_SCALE", 1.0)))
        if self.config.get("LIMITS"):
            self.limits.configure(**self.config["LIMITS"])
        self.limits.reset()
        self.request_log.clear()
        self.webhooks.stop()

    # identity helpers ----------------------------------------------------------
    def issuer(self) -> str:
        return (self.config.get("ISSUER") or request.host_url).rstrip("/")

    @staticmethod
    def tier_cap(tier: str) -> int | None:
        return TIER_CAPS[tier]

    # clock ---------------------------------------------------------------------------
    def advance(self, seconds: float):
        """Move the sandbox clock forward; returns the new time."""
        return self.clock.advance(seconds)

    def set_time(self, moment):
        """Set the sandbox clock (datetime or ISO string); returns the new time."""
        return self.clock.set(moment)

    # request log --------------------------------------------------------------------
    def requests(self, **match) -> list[dict]:
        """Logged API calls, optionally filtered by equal fields (path, tenant, status...)."""
        return self.request_log.entries(**match)

    def clear_requests(self) -> None:
        self.request_log.clear()

    # lookups ----------------------------------------------------------------------------
    def tenant_id(self, name: str) -> str:
        """Tenant id of an organisation by its name."""
        with self.store.lock:
            for org in self.store.orgs.values():
                if org.profile.name == name:
                    return org.tenant_id
        raise KeyError(f"no organisation named {name!r}")

    def user_id(self, email: str) -> str:
        return self.store.find_user(email).user_id

    def books(self, tenant_id: str) -> data.Books:
        with self.store.lock:
            return self.store.orgs[tenant_id].books

    def totp_code(self, email: str) -> str:
        """The current MFA code of a demo user (sandbox clock)."""
        user = self.store.find_user(email)
        if not user.mfa_secret:
            raise ValueError(f"{email} has no MFA")
        return pyotp.TOTP(user.mfa_secret).at(int(self.clock.time()))

    def add_client(
        self,
        client_id: str,
        client_secret: str | None,
        redirect_uris: list[str],
        created: str = "2026-04-01",
        tier: str = "core",
        name: str = "Sandbox demo app",
    ):
        return self.store.add_client(client_id, client_secret, redirect_uris, created, tier, name)

    # "from inside Xero" actions ---------------------------------------------------------
    def connections(self, client_id: str | None = None, user: str | None = None) -> list[dict]:
        """Every connection (all users and apps), as the admin API lists them."""
        user_id = self.store.find_user(user).user_id if user else None
        with self.store.lock:
            conns = list(self.store.connections.values())
            return [
                connection_view(c, self.store)
                for c in conns
                if (client_id is None or c.client_id == client_id) and (user_id is None or c.user_id == user_id)
            ]

    def remove_connection(self, connection_id: str) -> None:
        """A user removes the app from Settings > Connected Apps (KeyError if unknown)."""
        self.store.remove_connection(connection_id)

    def set_role(self, user: str, tenant_id: str, role: str | None) -> None:
        """Change (or with None remove) a user's role in an organisation."""
        self.store.set_role(user, tenant_id, role)

    def revoke_user_tokens(self, user: str, client_id: str | None = None) -> int:
        """Revoke a user's token sets (and connections) for one app or all apps."""
        return self.store.revoke_grants(self.store.find_user(user).user_id, client_id)

    def create_org(
        self,
        name: str,
        records: int = 300,
        country: str = "NZ",
        seed: str = "demo",
        users: dict[str, str] | None = None,
    ) -> str:
        """Create an organisation with generated books; `users` maps email -> role."""
        org = self.store.add_org(name, country, records, seed)
        for email, role in (users or {}).items():
            self.store.set_role(email, org.tenant_id, role)
        return org.tenant_id

    def resize_org(self, tenant_id: str, records: int, seed: str | None = None) -> None:
        self.store.regenerate(tenant_id, records, seed)

    def reset_org(self, tenant_id: str) -> None:
        """Regenerate the books from the seed (like a demo company reset)."""
        self.store.regenerate(tenant_id)

    def delete_org(self, tenant_id: str) -> None:
        self.store.delete_org(tenant_id)

    def modify_records(self, tenant_id: str, stream: str, count: int) -> list[str]:
        """Edit N records of a stream (bumps UpdatedDateUTC to the sandbox clock); returns ids."""
        ids = data.modify_records(self.books(tenant_id), stream, count, int(self.clock.time() * 1000))
        self.webhooks.record_changes(tenant_id, stream, ids)
        return ids

    def void_records(self, tenant_id: str, stream: str, count: int) -> list[str]:
        """Void/delete/archive N records (reversing journals are posted); returns ids."""
        ids = data.void_records(self.books(tenant_id), stream, count, int(self.clock.time() * 1000))
        self.webhooks.record_changes(tenant_id, stream, ids)
        return ids

    # webhooks ---------------------------------------------------------------------------
    def configure_webhooks(
        self,
        url: str,
        key: str,
        client_id: str | None = None,
        batch_seconds: float = 1.0,
        trickle_seconds: float = 0,
        time_scale: float | None = None,
    ) -> dict:
        """Subscribe `url` (intent-to-receive check first); `trickle_seconds` > 0 also changes a
        record of a connected organisation that often, so events keep coming. Retry gaps follow
        the limits' time scale unless `time_scale` is given."""
        scale = time_scale or self.limits.settings.time_scale or 1.0
        client = client_id or self.config["CLIENT_ID"]
        self.webhooks.configure(url, key, client, batch_seconds, scale)
        self.webhooks.start_trickle(float(trickle_seconds), self._trickle_change)
        return self.webhooks.describe()

    def _connected_to(self, client_id: str, tenant_id: str) -> bool:
        with self.store.lock:
            return any(c.client_id == client_id and c.tenant_id == tenant_id for c in self.store.connections.values())

    def _trickle_change(self) -> None:
        """One record of one connected organisation changes, as a user's edit in Xero would."""
        subscription = self.webhooks.subscription
        if subscription is None:
            return
        with self.store.lock:
            tenants = sorted(
                {c.tenant_id for c in self.store.connections.values() if c.client_id == subscription.client_id}
            )
        if tenants:
            self.modify_records(random.choice(tenants), random.choice(sorted(CATEGORIES)), 1)

    def exhaust_daily_limit(self, tenant_id: str, client_id: str | None = None) -> None:
        """Use up the day allowance for a tenant (one app, or every registered app)."""
        for client in list(self.store.clients.values()):
            if client_id is None or client.client_id == client_id:
                self.limits.exhaust_day(client.client_id, tenant_id, client.tier)

    def orgs(self) -> list[dict]:
        with self.store.lock:
            return [
                {
                    "tenantId": o.tenant_id,
                    "name": o.profile.name,
                    "country": o.profile.country,
                    "baseCurrency": o.profile.currency,
                    "records": o.books.total_records(),
                    "size": o.size,
                    "seed": o.seed,
                    "isDemoCompany": o.profile.is_demo,
                    "counts": {s: o.books.count(s) for s in (*data.RECORD_STREAMS, "journals")},
                }
                for o in self.store.orgs.values()
            ]

    def users(self) -> list[dict]:
        with self.store.lock:
            return [
                {
                    "userId": u.user_id,
                    "email": u.email,
                    "mfa": bool(u.mfa_secret),
                    "roles": {t: r for t, r in u.roles.items()},
                }
                for u in self.store.users.values()
            ]


def connection_view(conn, store) -> dict:
    """A connection as Xero's /connections shows it."""
    return {
        "id": conn.connection_id,
        "authEventId": conn.auth_event_id,
        "tenantId": conn.tenant_id,
        "tenantType": "ORGANISATION",
        "tenantName": store.orgs[conn.tenant_id].profile.name if conn.tenant_id in store.orgs else None,
        "createdDateUtc": xero_utc(conn.created),
        "updatedDateUtc": xero_utc(conn.updated),
    }


def xero_utc(moment) -> str:
    """Xero's connection timestamp style: 2019-07-09T23:40:30.1833130 (UTC, 7 digits)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


def current_sandbox() -> SandboxState:
    return current_app.extensions["xero_sandbox"]
