"""The connect flow's moves, shared by the reliability tests (through the Flask test client)."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import func, select

from tests.conftest import REDIRECT_URI
from tests.helpers.xero_login import XeroBrowser

ADVISER = "xero.adviser@demo.test"


def start_login(client) -> str:
    response = client.get("/connect/xero/authorize")
    assert response.status_code == 303, response.status_code
    return response.headers["Location"]


def consent(authorize_url: str, email: str = ADVISER, consent: str = "Allow access") -> str:
    """Log in and consent on the sandbox's pages; the callback URL Xero sends the browser to."""
    url = XeroBrowser().authorize(authorize_url, email, redirect_prefix=REDIRECT_URI, consent=consent)
    assert url, "the sandbox did not redirect back to our callback"
    return url


def callback(client, callback_url: str):
    parts = urlsplit(callback_url)
    return client.get(parts.path + "?" + parts.query)


def token_rows(app) -> int:
    from wizard.extensions import db
    from wizard.models import TokenSet

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(TokenSet))


def token_calls(sandbox) -> int:
    return len(sandbox.state.requests(path="/connect/token"))


def connect_via_wizard(app, client, sandbox) -> tuple[str, int, list]:
    """Every wizard step as a browser would do it; returns (callback URL, connection id, responses)."""
    import re

    from wizard.extensions import db
    from wizard.models import Connection

    responses = []
    authorize = client.get("/connect/xero/authorize")
    responses.append(authorize)
    url = consent(authorize.headers["Location"])
    responses.append(callback(client, url))
    organisations = client.get("/connect/xero/organisations")
    responses.append(organisations)
    tenant = re.findall(r'name="tenant_id" value="([^"]+)"', organisations.get_data(as_text=True))[0]
    responses.append(client.post("/connect/xero/organisations", data={"tenant_id": tenant}))
    responses.append(client.get("/connect/xero/confirm"))
    done = client.post("/connect/xero/connections")
    responses.append(done)
    responses.append(client.get(done.headers["Location"]))
    with app.app_context():
        connection_id = db.session.scalar(select(Connection.id).where(Connection.tenant_id == tenant))
    responses.append(client.get(f"/data/connections/{connection_id}"))
    responses.append(client.get("/data"))
    return url, connection_id, responses


def stored_tokens(app) -> list[str]:
    """Plaintext of every stored access and refresh token (decrypted with the configured key)."""
    from wizard.extensions import db
    from wizard.models import TokenSet
    from wizard.xero.tokens import decrypt_access, decrypt_refresh

    values = []
    with app.app_context():
        db.session.expire_all()
        for token_set in db.session.scalars(select(TokenSet)):
            values.append(decrypt_access(token_set))
            if token_set.refresh_token_enc:
                values.append(decrypt_refresh(token_set))
    return values


def expire_access_tokens(app) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from wizard.clock import utcnow
    from wizard.extensions import db
    from wizard.models import TokenSet

    with app.app_context():
        db.session.execute(update(TokenSet).values(access_expires_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()
