"""Fixtures for the Xero sandbox's own tests: an app per test (frozen clock) driven through
Flask's test client, a live server for the SDK, and a helper that walks the login pages."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from xero_sandbox import create_app

CLOCK_START = "2026-05-15T09:00:00Z"
REDIRECT = "http://127.0.0.1:5000/connect/xero/callback"
CLIENT = ("sandbox-client-id", "sandbox-client-secret")
ADMIN, ADVISER, READONLY = "xero.admin@demo.test", "xero.adviser@demo.test", "xero.readonly@demo.test"
HARBOUR, KOWHAI, DEMO_AU, THAMES = (
    "Harbour Coffee Roasters Ltd",
    "Kowhai Outdoor Supplies",
    "Demo Company (AU)",
    "Thames Bicycle Works Ltd",
)
READ_SCOPES = (
    "openid profile email offline_access accounting.settings.read accounting.contacts.read "
    "accounting.invoices.read accounting.payments.read accounting.banktransactions.read "
    "accounting.manualjournals.read accounting.reports.profitandloss.read "
    "accounting.reports.balancesheet.read accounting.reports.trialbalance.read "
    "accounting.reports.banksummary.read accounting.journals.read"
)

EXTRA_CLIENTS = {
    "legacy-client": {
        "client_secret": "legacy-secret",
        "redirect_uris": [REDIRECT],
        "created": "2025-06-01",
        "tier": "core",
        "name": "Legacy App",
    },
    "starter-client": {
        "client_secret": "starter-secret",
        "redirect_uris": [REDIRECT],
        "created": "2026-04-01",
        "tier": "starter",
        "name": "Starter App",
    },
    "pkce-client": {
        "client_secret": None,
        "redirect_uris": [REDIRECT],
        "created": "2026-04-01",
        "tier": "core",
        "name": "Desktop App",
    },
}
SECRETS = {
    "sandbox-client-id": "sandbox-client-secret",
    "legacy-client": "legacy-secret",
    "starter-client": "starter-secret",
    "pkce-client": None,
}


def sandbox_config(**overrides) -> dict:
    config = {
        "CLOCK_START": CLOCK_START,
        "CLOCK_FROZEN": True,
        "CLIENTS": EXTRA_CLIENTS,
        "REDIRECT_URIS": [REDIRECT, "http://localhost:5000/connect/xero/callback"],
        "CLIENT_ID": CLIENT[0],
        "CLIENT_SECRET": CLIENT[1],
        "ISSUER": None,
        "SEED": "demo",
    }
    config.update(overrides)
    return config


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


class Xero:
    """Drives one sandbox app through its public HTTP surface (Flask test client)."""

    def __init__(self, app) -> None:
        self.app = app
        self.state = app.extensions["xero_sandbox"]
        self.http = app.test_client()

    def tenant(self, name: str) -> str:
        return self.state.tenant_id(name)

    def authorize(
        self,
        client_id: str = CLIENT[0],
        redirect_uri: str = REDIRECT,
        scope: str = READ_SCOPES,
        state: str = "st-123",
        **extra,
    ):
        params = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": scope,
            "state": state,
            **extra,
        }
        return self.http.get("/identity/connect/authorize", query_string=params)

    def login_page(self, email: str, password: str = "xero", **authorize):
        """Authorize then log in (and pass MFA); returns the response where it stopped."""
        response = self.authorize(**authorize)
        assert response.status_code == 302, response.get_data(as_text=True)
        location = response.headers["Location"]
        if "/identity/login" not in location:
            return self.http.get(location)
        response = self.http.post(location, data={"email": email, "password": password})
        if response.status_code != 303:
            return response
        location = response.headers["Location"]
        if "/identity/mfa" in location:
            response = self.http.post(location, data={"code": self.state.totp_code(email)})
            location = response.headers["Location"]
        return self.http.get(location)

    def consent(self, page, tenants: list[str] | None, action: str = "allow"):
        """Submit the consent page ticking organisations by name (None = leave defaults)."""
        html = page.get_data(as_text=True)
        url = re.search(r'<form method="post" action="([^"]+)"', html).group(1).replace("&amp;", "&")
        data: list[tuple[str, str]] = [("action", action)]
        if tenants is None:
            data += [("tenant", t) for t in re.findall(r'value="([0-9a-f-]{36})"\s+checked', html)]
        else:
            data += [("tenant", self.tenant(name)) for name in tenants]
        from werkzeug.datastructures import MultiDict

        return self.http.post(url, data=MultiDict(data))

    def code_for(self, email: str = ADVISER, tenants: list[str] | None = None, **authorize) -> dict:
        page = self.login_page(email, **authorize)
        response = self.consent(page, tenants if tenants is not None else None)
        assert response.status_code == 302, response.get_data(as_text=True)
        return query(response.headers["Location"])

    def token(self, auth=CLIENT, **form):
        return self.http.post(
            "/connect/token",
            data=form,
            headers={"Authorization": "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()}
            if auth
            else {},
        )

    def exchange(self, code: str, redirect_uri: str = REDIRECT, auth=CLIENT, **form):
        return self.token(auth, grant_type="authorization_code", code=code, redirect_uri=redirect_uri, **form)

    def connect(
        self,
        email: str = ADVISER,
        tenants: list[str] | None = None,
        scope: str = READ_SCOPES,
        client_id: str = CLIENT[0],
    ) -> dict:
        """Full flow; returns the token response JSON."""
        callback = self.code_for(email, tenants, scope=scope, client_id=client_id)
        response = self.exchange(callback["code"], auth=(client_id, SECRETS[client_id]))
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def refresh(self, refresh_token: str, auth=CLIENT):
        return self.token(auth, grant_type="refresh_token", refresh_token=refresh_token)

    def api(self, path: str, token: str | None, tenant: str | None = None, headers: dict | None = None, **params):
        h = {"Accept": "application/json"}
        if token:
            h["Authorization"] = f"Bearer {token}"
        if tenant:
            h["xero-tenant-id"] = tenant
        h.update(headers or {})
        return self.http.get(f"/api.xro/2.0/{path}", headers=h, query_string=params)

    def connections(self, token: str, **params):
        return self.http.get("/connections", headers={"Authorization": f"Bearer {token}"}, query_string=params)

    def claims(self, token: str) -> dict:
        return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture
def xero():
    return Xero(create_app(sandbox_config()))


@pytest.fixture
def adviser_token(xero) -> dict:
    """The adviser connected to Kowhai Outdoor Supplies and Thames Bicycle Works Ltd."""
    return xero.connect(ADVISER, [KOWHAI, THAMES])


@pytest.fixture(scope="module")
def live():
    """A real HTTP sandbox (for the official SDK and concurrency tests)."""
    from xero_sandbox.server import start_background

    server = start_background(sandbox_config())
    yield server
    server.stop()


@pytest.fixture
def call(xero, adviser_token):
    tenant = xero.tenant(KOWHAI)

    def get(path, headers=None, **params):
        return xero.api(path, adviser_token["access_token"], tenant, headers, **params)

    get.tenant = tenant
    get.books = xero.state.books(tenant)
    return get
