"""Xero OAuth 2.0 authorization-code flow with PKCE (S256), state and nonce; token refresh.

Only this module talks to Xero's identity server, through requests-oauthlib's OAuth2Session
(authorize URL with PKCE, code exchange, refresh). Token values never reach a log: that library
prints request and response bodies at DEBUG, so its loggers (and oauthlib's) keep only warnings,
whatever level the application's logging configuration sets for them.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests
from flask import current_app
from oauthlib.oauth2 import OAuth2Error, WebApplicationClient
from requests_oauthlib import OAuth2Session

from wizard.xero.errors import IdTokenInvalid, InvalidGrant, TokenEndpointError, XeroUnavailable

# The libraries' own loggers (one per module) that print token bodies at DEBUG and INFO.
CHATTY_LOGGERS = ("requests_oauthlib", "requests_oauthlib.oauth2_session", "oauthlib", "oauthlib.oauth2")


def _warnings_only(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING


def silence_token_logging() -> None:
    """Hold the chatty loggers at WARNING and filter their records, so a DEBUG config cannot open them."""
    names = set(CHATTY_LOGGERS) | {
        name for name in logging.Logger.manager.loggerDict if name.split(".")[0] in ("requests_oauthlib", "oauthlib")
    }
    for name in names:
        logger = logging.getLogger(name)
        logger.setLevel(logging.WARNING)
        if _warnings_only not in logger.filters:
            logger.addFilter(_warnings_only)


silence_token_logging()

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


def _token_url() -> str:
    return _cfg("XERO_IDENTITY_URL").rstrip("/") + TOKEN_PATH


def _client_auth() -> tuple[str, str]:
    return (_cfg("XERO_CLIENT_ID"), _cfg("XERO_CLIENT_SECRET"))


def build_authorization_request() -> AuthRequest:
    """Step 2a: a fresh state (256 bits), PKCE verifier (S256, made by the library) and OIDC nonce."""
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    client = WebApplicationClient(_cfg("XERO_CLIENT_ID"))
    session = OAuth2Session(
        client=client, redirect_uri=_cfg("XERO_REDIRECT_URI"), scope=_cfg("XERO_SCOPES").split(), pkce="S256"
    )
    url, _ = session.authorization_url(_cfg("XERO_LOGIN_URL").rstrip("/") + AUTHORIZE_PATH, state=state, nonce=nonce)
    # The callback is another request with another OAuth2Session: the verifier is kept server-side.
    verifier = client.code_verifier
    if verifier is None:  # pkce="S256": authorization_url has the client make one
        raise RuntimeError("requests-oauthlib made no PKCE code verifier")
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


def _refuse_errors(response: requests.Response) -> requests.Response:
    """Compliance hook: our errors from the status code, before oauthlib parses the body."""
    if response.status_code != 200:
        raise _token_error(response)
    return response


def _token_session() -> OAuth2Session:
    # No scope on this session: Xero's scopes are additive, so oauthlib's "scope has changed"
    # check would refuse a normal answer; the granted scopes are read from the response instead.
    session = OAuth2Session(_cfg("XERO_CLIENT_ID"), redirect_uri=_cfg("XERO_REDIRECT_URI"))
    session.register_compliance_hook("access_token_response", _refuse_errors)
    session.register_compliance_hook("refresh_token_response", _refuse_errors)
    return session


def _call_token_endpoint(call: Callable[[OAuth2Session], dict[str, Any]]) -> dict[str, Any]:
    """Run one token-endpoint call on a fresh session; raise our errors, never log a body."""
    try:
        return dict(call(_token_session()))
    except requests.RequestException as exc:
        raise XeroUnavailable(f"token endpoint unreachable: {type(exc).__name__}") from None
    except OAuth2Error as exc:
        raise TokenEndpointError(exc.error or "invalid_response", f"token response refused: {exc.error}") from None
    except ValueError:
        raise TokenEndpointError("invalid_response", "token response could not be read") from None


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
    body = _call_token_endpoint(
        lambda session: session.fetch_token(
            _token_url(),
            code=code,
            code_verifier=code_verifier,
            auth=_client_auth(),
            include_client_id=False,
            timeout=_cfg("XERO_HTTP_TIMEOUT"),
        )
    )
    return _parse(body, nonce)


def refresh(refresh_token: str) -> TokenResponse:
    """Rotate: Xero returns a new refresh token every time; the caller must store it first.

    Called only by wizard.xero.tokens, under its single-flight lock and version compare-and-set.
    The id_token of a refresh response is not used (who the user is was settled at login), so it
    is not verified either: a JWKS outage or clock skew must not make us drop a refresh token that
    Xero has already rotated (the old one dies after the 30-minute grace).
    """
    body = _call_token_endpoint(
        lambda session: session.refresh_token(
            _token_url(), refresh_token=refresh_token, auth=_client_auth(), timeout=_cfg("XERO_HTTP_TIMEOUT")
        )
    )
    return _parse(body, None, verify_identity=False)


def revoke(refresh_token: str) -> None:
    """Revoke the grant: Xero removes every connection of that user to this app.

    requests-oauthlib has no revocation call (RFC 7009), so this one POST stays on requests.
    """
    try:
        requests.post(
            _cfg("XERO_IDENTITY_URL").rstrip("/") + REVOCATION_PATH,
            data={"token": refresh_token},
            auth=_client_auth(),
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
