"""T-06: an id_token with a wrong iss, wrong aud, expired exp, bad signature, alg=none, a foreign
azp or a mismatched nonce makes the callback answer 400, and no token is stored.

The real flow runs against the sandbox; only the id_token in Xero's token response is swapped
for one this test signs, and the JWKS our client trusts is this test's key.
"""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from tests.conftest import CLIENT_ID
from tests.reliability.flows import callback, consent, start_login, token_rows
from wizard.extensions import db
from wizard.models import XeroLogin

TRUSTED = rsa.generate_private_key(public_exponent=65537, key_size=2048)
UNTRUSTED = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class _Jwks:
    """Stands in for PyJWKClient: every kid resolves to the trusted public key."""

    def get_signing_key_from_jwt(self, token: str):
        return jwt.PyJWK.from_dict(
            {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(TRUSTED.public_key())), "alg": "RS256"}
        )


def _claims(app, login_nonce: str | None, **changes) -> dict:
    now = int(time.time())
    claims = {
        "iss": app.config["XERO_ISSUER"] or app.config["XERO_IDENTITY_URL"].rstrip("/"),
        "aud": CLIENT_ID,
        "exp": now + 300,
        "iat": now,
        "nonce": login_nonce,
        "sub": "a-xero-user",
        "xero_userid": "a-xero-user",
        "email": "someone@example.test",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _unsigned(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


CASES = {
    "wrong_iss": lambda app, n: jwt.encode(_claims(app, n, iss="https://evil.example"), TRUSTED, "RS256"),
    "wrong_aud": lambda app, n: jwt.encode(_claims(app, n, aud="another-client"), TRUSTED, "RS256"),
    "expired": lambda app, n: jwt.encode(
        _claims(app, n, exp=int(time.time()) - 3600, iat=int(time.time()) - 7200), TRUSTED, "RS256"
    ),
    "bad_signature": lambda app, n: jwt.encode(_claims(app, n), UNTRUSTED, "RS256"),
    "alg_none": lambda app, n: _unsigned(_claims(app, n)),
    "hs256_with_public_key": lambda app, n: jwt.encode(
        _claims(app, n), "a-shared-secret-long-enough-for-hs256!", "HS256"
    ),
    "nonce_mismatch": lambda app, n: jwt.encode(_claims(app, "another-login"), TRUSTED, "RS256"),
    "nonce_missing": lambda app, n: jwt.encode(_claims(app, None), TRUSTED, "RS256"),
    "foreign_azp": lambda app, n: jwt.encode(_claims(app, n, azp="another-client"), TRUSTED, "RS256"),
}


@pytest.fixture
def swap_id_token(monkeypatch):
    """Xero's real token response, with the id_token replaced by `make(app, nonce)`."""
    from wizard.xero import oauth

    real_call = oauth._call_token_endpoint
    monkeypatch.setattr(oauth, "_jwks_client", lambda: _Jwks())

    def install(app, make):
        def call(request):
            body = real_call(request)
            pending = _pending_nonce.get("nonce", "")
            body["id_token"] = make(app, pending)
            return body

        monkeypatch.setattr(oauth, "_call_token_endpoint", call)

    return install


_pending_nonce: dict[str, str] = {}


def _login(client) -> str:
    url = start_login(client)
    _pending_nonce["nonce"] = parse_qs(urlsplit(url).query)["nonce"][0]
    return consent(url)


@pytest.mark.parametrize("case", sorted(CASES))
def test_t06_bad_id_token_is_refused_with_400_and_nothing_stored(app, auth, client, sandbox, swap_id_token, case):
    auth.as_new("admin")
    swap_id_token(app, CASES[case])
    response = callback(client, _login(client))
    assert response.status_code == 400
    assert 'data-hint="token_exchange_failed"' in response.get_data(as_text=True)
    assert token_rows(app) == 0
    with app.app_context():
        assert db.session.scalars(select(XeroLogin.token_set_id)).all() == [None]


def test_t06_a_good_id_token_signed_by_the_trusted_key_is_accepted(app, auth, client, sandbox, swap_id_token):
    """The control case: the same machinery with a valid id_token connects (so the cases above can fail)."""
    auth.as_new("admin")
    swap_id_token(app, lambda app, nonce: jwt.encode(_claims(app, nonce), TRUSTED, "RS256"))
    assert callback(client, _login(client)).status_code == 303
    assert token_rows(app) == 1
