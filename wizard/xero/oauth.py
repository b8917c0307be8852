"""Xero OAuth 2.0 authorization-code flow with PKCE (S256), state and nonce; token refresh.

Only this module talks to Xero's identity server. Token values never reach a log: the loggers
of requests-oauthlib and oauthlib are held at WARNING (they print token bodies at DEBUG).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests
from flask import current_app
from requests_oauthlib import OAuth2Session

from wizard.xero.errors import IdTokenInvalid, InvalidGrant, TokenEndpointError, XeroUnavailable

for _name in ("requests_oauthlib", "oauthlib"):
    logging.getLogger(_name).setLevel(logging.WARNING)

AUTHORIZE_PATH = "/identity/connect/authorize"
TOKEN_PATH = "/connect/token"
REVOCATION_PATH = "/connect/revocation"
DISCOVERY_PATH = "/.well-known/openid-configuration"


@dataclass
class AuthRequest:
    """What the browser is sent to, and what must be kept server-side until the callback."""

    url: str
    state: str
    code_verifier: str
    nonce: str


@dataclass
class TokenResponse:
    access_token: str
    refresh_token: str | None
    expires_in: int
    scopes: list[str]
    claims: dict[str, Any] = field(default_factory=dict)  # access token claims (unverified)
    identity: dict[str, Any] = field(default_factory=dict)  # verified id_token claims

    @property
    def authentication_event_id(self) -> str:
        return str(self.claims.get("authentication_event_id", ""))

    @property
    def xero_userid(self) -> str:
        return str(self.claims.get("xero_userid") or self.identity.get("xero_userid") or "")


def _cfg(key: str) -> Any:
    return current_app.config[key]


def _code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def build_authorization_request() -> AuthRequest:
    """Step 2a: a fresh state (256 bits), PKCE verifier and OIDC nonce for one login."""
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)[:96]
    nonce = secrets.token_urlsafe(32)
    session = OAuth2Session(
        _cfg("XERO_CLIENT_ID"), redirect_uri=_cfg("XERO_REDIRECT_URI"), scope=_cfg("XERO_SCOPES").split()
    )
    url, _ = session.authorization_url(
        _cfg("XERO_LOGIN_URL").rstrip("/") + AUTHORIZE_PATH,
        state=state,
        code_challenge=_code_challenge(verifier),
        code_challenge_method="S256",
        nonce=nonce,
    )
    return AuthRequest(url=url, state=state, code_verifier=verifier, nonce=nonce)


def _token_error(response: requests.Response) -> TokenEndpointError | XeroUnavailable:
    try:
        error = str(response.json().get("error", "")) or f"http_{response.status_code}"
    except ValueError:
        error = f"http_{response.status_code}"
    if response.status_code >= 500:
        return XeroUnavailable(f"token endpoint answered {response.status_code}", status=response.status_code)
    cls = InvalidGrant if error == "invalid_grant" else TokenEndpointError
    return cls(error, f"Xero token endpoint refused the request: {error}", status=response.status_code)


def _post_token(form: dict[str, str]) -> dict[str, Any]:
    """POST to the token endpoint with HTTP Basic client auth; raise our errors, never log bodies."""
    try:
        response = requests.post(
            _cfg("XERO_IDENTITY_URL").rstrip("/") + TOKEN_PATH,
            data=form,
            auth=(_cfg("XERO_CLIENT_ID"), _cfg("XERO_CLIENT_SECRET")),
            headers={"Accept": "application/json"},
            timeout=_cfg("XERO_HTTP_TIMEOUT"),
        )
    except requests.RequestException as exc:
        raise XeroUnavailable(f"token endpoint unreachable: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise _token_error(response)
    return response.json()


def _parse(body: dict[str, Any], nonce: str | None, verify_identity: bool = True) -> TokenResponse:
    access_token = body.get("access_token")
    if not access_token:
        raise TokenEndpointError("invalid_response", "token response had no access token")
    try:
        claims = jwt.decode(access_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        claims = {}
    identity = verify_id_token(body["id_token"], nonce) if verify_identity and body.get("id_token") else {}
    scope = body.get("scope") or " ".join(claims.get("scope", []))
    return TokenResponse(
        access_token=access_token,
        refresh_token=body.get("refresh_token"),
        expires_in=int(body.get("expires_in", 1800)),
        scopes=scope.split() if isinstance(scope, str) else list(scope),
        claims=claims,
        identity=identity,
    )


def exchange_code(code: str, code_verifier: str, nonce: str) -> TokenResponse:
    """Step 2b: trade the one-time code (with the PKCE verifier) for tokens."""
    body = _post_token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": _cfg("XERO_REDIRECT_URI"),
            "code_verifier": code_verifier,
        }
    )
    return _parse(body, nonce)


def refresh(refresh_token: str) -> TokenResponse:
    """Rotate: Xero returns a new refresh token every time; the caller must store it first.

    The id_token of a refresh response is not used (who the user is was settled at login), so it
    is not verified either: a JWKS outage or clock skew must not make us drop a refresh token that
    Xero has already rotated (the old one dies after the 30-minute grace).
    """
    body = _post_token({"grant_type": "refresh_token", "refresh_token": refresh_token})
    return _parse(body, None, verify_identity=False)


def revoke(refresh_token: str) -> None:
    """Revoke the grant: Xero removes every connection of that user to this app."""
    try:
        requests.post(
            _cfg("XERO_IDENTITY_URL").rstrip("/") + REVOCATION_PATH,
            data={"token": refresh_token},
            auth=(_cfg("XERO_CLIENT_ID"), _cfg("XERO_CLIENT_SECRET")),
            timeout=_cfg("XERO_HTTP_TIMEOUT"),
        )
    except requests.RequestException as exc:
        raise XeroUnavailable(f"revocation endpoint unreachable: {type(exc).__name__}") from None


_jwks_cache: dict[str, jwt.PyJWKClient] = {}


def _jwks_client() -> jwt.PyJWKClient:
    identity = _cfg("XERO_IDENTITY_URL").rstrip("/")
    client = _jwks_cache.get(identity)
    if client is None:
        try:
            discovery = requests.get(identity + DISCOVERY_PATH, timeout=_cfg("XERO_HTTP_TIMEOUT")).json()
        except (requests.RequestException, ValueError):
            raise XeroUnavailable("OpenID discovery document unavailable") from None
        client = jwt.PyJWKClient(discovery["jwks_uri"], cache_keys=True)
        _jwks_cache[identity] = client
    return client


def verify_id_token(id_token: str, nonce: str | None) -> dict[str, Any]:
    """Signature (RS256 from JWKS), issuer, audience, expiry and nonce; anything else -> refuse."""
    try:
        key = _jwks_client().get_signing_key_from_jwt(id_token)
        claims = jwt.decode(
            id_token,
            key.key,
            algorithms=["RS256"],
            audience=_cfg("XERO_CLIENT_ID"),
            issuer=_cfg("XERO_ISSUER") or _cfg("XERO_IDENTITY_URL").rstrip("/"),
            options={"require": ["exp", "iat", "iss", "aud"]},
            leeway=60,
        )
    except (jwt.PyJWTError, KeyError) as exc:
        raise IdTokenInvalid(f"id_token rejected: {type(exc).__name__}") from None
    if "azp" in claims and claims["azp"] != _cfg("XERO_CLIENT_ID"):
        raise IdTokenInvalid("id_token rejected: azp is another client")
    if nonce is not None and not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
        raise IdTokenInvalid("id_token rejected: nonce mismatch")
    return claims
