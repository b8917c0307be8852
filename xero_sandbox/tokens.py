"""RS256 signing key, access/id token minting and bearer-token verification."""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ACCESS_TOKEN_SECONDS = 1800


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class SigningKey:
    """An RSA key made at startup, published through JWKS with its kid."""

    def __init__(self) -> None:
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_key = self.private_key.public_key()
        numbers = self.public_key.public_numbers()
        self.kid = hashlib.sha256(_b64(numbers.n).encode()).hexdigest()[:32].upper()
        self.jwk = {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "e": _b64(numbers.e),
            "n": _b64(numbers.n),
        }

    def sign(self, claims: dict) -> str:
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"})


class BearerError(Exception):
    """Why a bearer token was refused: `detail` goes into Xero's 401 body."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass
class Bearer:
    claims: dict
    grant_id: str
    client_id: str
    user_id: str
    scopes: list[str]


def mint_access_token(key: SigningKey, store, grant, issuer: str) -> str:
    """A Xero-shaped access token for a grant, valid 30 minutes on the sandbox clock."""
    now = int(store.clock.time())
    jti = uuid.uuid4().hex.upper()
    claims = {
        "nbf": now,
        "exp": now + ACCESS_TOKEN_SECONDS,
        "iss": issuer,
        "aud": f"{issuer}/resources",
        "client_id": grant.client_id,
        "sub": uuid.uuid5(uuid.UUID(grant.user_id), "sub").hex,
        "auth_time": int(grant.auth_time),
        "xero_userid": grant.user_id,
        "global_session_id": grant.session_id,
        "sid": grant.session_id,
        "jti": jti,
        "authentication_event_id": grant.auth_event_id,
        "scope": list(grant.scopes),
        "iat": now,
    }
    with store.lock:
        store.access_tokens[jti] = grant.grant_id
    return key.sign(claims)


def mint_id_token(key: SigningKey, store, grant, user, issuer: str) -> str:
    """OpenID id_token: aud = client_id, user profile claims per granted scopes."""
    now = int(store.clock.time())
    claims = {
        "nbf": now,
        "exp": now + 300,
        "iss": issuer,
        "aud": grant.client_id,
        "iat": now,
        "sid": grant.session_id,
        "sub": uuid.uuid5(uuid.UUID(user.user_id), "sub").hex,
        "auth_time": int(grant.auth_time),
        "xero_userid": user.user_id,
        "global_session_id": grant.session_id,
    }
    if grant.nonce:
        claims["nonce"] = grant.nonce
    if "email" in grant.scopes:
        claims["email"] = user.email
        claims["preferred_username"] = user.email
    if "profile" in grant.scopes:
        claims["given_name"] = user.first_name
        claims["family_name"] = user.last_name
        claims["name"] = f"{user.first_name} {user.last_name}"
    return key.sign(claims)


def expired_at_text(exp: int) -> str:
    """Xero's wording: 'token expired at 01/27/2021 02:08:19' (UTC)."""
    return datetime.fromtimestamp(exp, tz=UTC).strftime("%m/%d/%Y %H:%M:%S")


def verify_bearer(key: SigningKey, store, authorization: str | None) -> Bearer:
    """Check signature, expiry (sandbox clock) and revocation of an `Authorization: Bearer` value."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise BearerError("AuthenticationUnsuccessful")
    token = authorization[7:].strip()
    try:
        claims = jwt.decode(
            token,
            key.public_key,
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_nbf": False, "verify_aud": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        raise BearerError("AuthenticationUnsuccessful") from None
    now = store.clock.time()
    if now >= claims.get("exp", 0):
        raise BearerError(f"TokenExpired: token expired at {expired_at_text(claims['exp'])}")
    if now + 300 < claims.get("nbf", 0) or claims.get("aud") != f"{claims.get('iss')}/resources":
        raise BearerError("AuthenticationUnsuccessful")
    with store.lock:
        grant = store.grants.get(store.access_tokens.get(claims.get("jti", ""), ""))
        if grant is None or grant.revoked:
            raise BearerError("AuthenticationUnsuccessful")
    return Bearer(claims, grant.grant_id, grant.client_id, grant.user_id, list(grant.scopes))


def pkce_matches(verifier: str, challenge: str) -> bool:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == challenge
