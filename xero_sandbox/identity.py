"""login.xero.com / identity.xero.com stand-in: authorize, login, MFA, consent, token,
revocation, discovery, JWKS and userinfo."""

from __future__ import annotations

import base64
import hmac
import secrets
import uuid
from urllib.parse import urlencode

import pyotp
from flask import (
    Blueprint,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from . import scopes as scope_rules
from .state import current_sandbox
from .store import AuthCode, AuthRequest, Grant
from .tokens import (
    ACCESS_TOKEN_SECONDS,
    BearerError,
    mint_access_token,
    mint_id_token,
    pkce_matches,
    verify_bearer,
)

bp = Blueprint("identity", __name__)

SESSION_COOKIE = "xero_sandbox_sid"
CODE_SECONDS = 300
REQUEST_SECONDS = 3600
REFRESH_GRACE_SECONDS = 1800
REFRESH_IDLE_SECONDS = 60 * 86400


def error_page(message: str, status: int = 400):
    """Xero's own error screen: the user is NOT sent back to the app."""
    return render_template("error.html", message=message), status


def back_to_app(auth: AuthRequest, **params: str):
    """Redirect to the app's redirect_uri with the untouched state."""
    if auth.state is not None:
        params["state"] = auth.state
    sep = "&" if "?" in auth.redirect_uri else "?"
    return redirect(auth.redirect_uri + sep + urlencode(params), code=302)


def pending(sandbox) -> AuthRequest | None:
    rid = request.values.get("rid", "")
    with sandbox.store.lock:
        auth = sandbox.store.auth_requests.get(rid)
    if auth is None or sandbox.clock.time() - auth.created > REQUEST_SECONDS:
        return None
    return auth


@bp.get("/identity/connect/authorize")
def authorize():
    """Step 1: validate the app's request, then send the user to log in (or straight to consent)."""
    sandbox = current_sandbox()
    args = request.args
    client = sandbox.store.clients.get(args.get("client_id", ""))
    if client is None:
        return error_page("unauthorized_client : Unknown client or client not enabled")
    if args.get("redirect_uri") not in client.redirect_uris:
        return error_page("unauthorized_client : Invalid redirect_uri")
    if args.get("response_type") != "code":
        return error_page("unsupported_response_type : Response type not supported")
    requested = args.get("scope", "").split()
    problem = scope_rules.scope_error(client.created, requested)
    if problem:
        return error_page(problem)
    challenge = args.get("code_challenge")
    if challenge and args.get("code_challenge_method") != "S256":
        return error_page("invalid_request : code_challenge_method must be S256")
    if client.client_secret is None and not challenge:
        return error_page("invalid_request : code challenge required")
    auth = AuthRequest(
        secrets.token_urlsafe(18),
        client.client_id,
        args["redirect_uri"],
        list(dict.fromkeys(requested)),
        args.get("state"),
        challenge,
        args.get("nonce"),
        sandbox.clock.time(),
    )
    with sandbox.store.lock:
        sandbox.store.auth_requests[auth.request_id] = auth
        user_id = sandbox.store.sessions.get(request.cookies.get(SESSION_COOKIE, ""))
    if user_id and args.get("prompt") != "login":
        auth.user_id, auth.mfa_passed = user_id, True
        return redirect(url_for("identity.consent", rid=auth.request_id))
    return redirect(url_for("identity.login", rid=auth.request_id))


@bp.route("/identity/login", methods=["GET", "POST"])
def login():
    """Step 2: email and password."""
    sandbox = current_sandbox()
    auth = pending(sandbox)
    if auth is None:
        return error_page("invalid_request : This sign-in link has expired. Start again from the app.")
    error = None
    if request.method == "POST":
        user = sandbox.store.user_by_email(request.form.get("email", ""))
        if user is None or not hmac.compare_digest(user.password, request.form.get("password", "")):
            error = "Your email or password is incorrect"
        else:
            auth.user_id = user.user_id
            auth.mfa_passed = user.mfa_secret is None
            target = "identity.consent" if auth.mfa_passed else "identity.mfa"
            return redirect(url_for(target, rid=auth.request_id), code=303)
    return render_template("login.html", rid=auth.request_id, error=error, email=request.form.get("email", ""))


@bp.route("/identity/mfa", methods=["GET", "POST"])
def mfa():
    """Step 3 (users with MFA): a TOTP code from the authenticator app."""
    sandbox = current_sandbox()
    auth = pending(sandbox)
    if auth is None or auth.user_id is None:
        return error_page("invalid_request : This sign-in link has expired. Start again from the app.")
    user = sandbox.store.users[auth.user_id]
    totp = pyotp.TOTP(user.mfa_secret) if user.mfa_secret else None
    if totp is None:
        auth.mfa_passed = True
        return redirect(url_for("identity.consent", rid=auth.request_id), code=303)
    error = None
    if request.method == "POST":
        code = request.form.get("code", "").replace(" ", "")
        if totp.verify(code, for_time=int(sandbox.clock.time()), valid_window=1):
            auth.mfa_passed = True
            return redirect(url_for("identity.consent", rid=auth.request_id), code=303)
        error = "That code didn't work. Check the code and try again."
    return render_template(
        "mfa.html", rid=auth.request_id, error=error, sandbox_code=totp.at(int(sandbox.clock.time())), email=user.email
    )


@bp.route("/identity/consent", methods=["GET", "POST"])
def consent():
    """Step 4: the user picks organisations and allows (or cancels) access."""
    sandbox = current_sandbox()
    auth = pending(sandbox)
    if auth is None or auth.user_id is None or not auth.mfa_passed:
        return error_page("invalid_request : This sign-in link has expired. Start again from the app.")
    store = sandbox.store
    client = store.clients[auth.client_id]
    user = store.users[auth.user_id]
    wants_orgs = scope_rules.needs_tenant(auth.scopes)
    orgs = store.eligible_orgs(user) if wants_orgs else []
    connected = {c.tenant_id for c in store.user_connections(user.user_id, client.client_id)}
    error = None
    if request.method == "POST":
        if request.form.get("action") != "allow":
            return finish(sandbox, auth, back_to_app(auth, error="access_denied"))
        chosen = [t for t in request.form.getlist("tenant") if t in {o.tenant_id for o in orgs}]
        error = consent_problem(sandbox, client, wants_orgs, orgs, chosen)
        if error is None:
            return finish(sandbox, auth, issue_code(sandbox, auth, chosen))
    return render_template(
        "consent.html",
        rid=auth.request_id,
        app_name=client.name,
        user=user,
        scopes=scope_rules.describe(auth.scopes),
        orgs=orgs,
        connected=connected,
        wants_orgs=wants_orgs,
        error=error,
        selected=set(request.form.getlist("tenant")) if request.method == "POST" else default_pick(orgs, connected),
    )


def default_pick(orgs, connected: set[str]) -> set[str]:
    """Like Xero's organisation dropdown, one organisation starts selected (not yet connected first)."""
    fresh = [o.tenant_id for o in orgs if o.tenant_id not in connected]
    return {(fresh or [o.tenant_id for o in orgs])[0]} if orgs else set()


def consent_problem(sandbox, client, wants_orgs, orgs, chosen) -> str | None:
    """The message shown on the consent page when Allow cannot proceed."""
    if not wants_orgs:
        return None
    if not orgs:
        return "You don't have permission to connect apps to any organisation."
    if not chosen:
        return "Select at least one organisation to connect."
    cap = sandbox.tier_cap(client.tier)
    if cap is not None:
        demo = {t for t in chosen if sandbox.store.orgs[t].profile.is_demo}
        after = sandbox.store.connected_tenants(client.client_id) | (set(chosen) - demo)
        if len(after) > cap:
            return (
                f"{client.name} has reached its limit of {cap} connected organisations "
                f"({client.tier.capitalize()} tier). Ask the app's developer to upgrade, "
                "or disconnect an organisation first."
            )
    return None


def issue_code(sandbox, auth: AuthRequest, tenant_ids: list[str]):
    """Create the connections of this consent round and send the code back to the app."""
    store = sandbox.store
    auth_event_id = str(uuid.uuid4())
    if tenant_ids:
        store.connect(auth.user_id, auth.client_id, tenant_ids, auth_event_id)
    with store.lock:
        key = (auth.user_id, auth.client_id)
        store.consents.setdefault(key, set()).update(s for s in auth.scopes if s not in scope_rules.OIDC_SCOPES)
        session_id = uuid.uuid4().hex
        assert auth.user_id is not None  # consent is only reachable after login
        code = AuthCode(
            secrets.token_urlsafe(32),
            auth.client_id,
            auth.user_id,
            auth.redirect_uri,
            list(auth.scopes),
            auth.code_challenge,
            auth.nonce,
            auth_event_id,
            session_id,
            sandbox.clock.time() + CODE_SECONDS,
            sandbox.clock.time(),
        )
        store.codes[code.code] = code
    return back_to_app(auth, code=code.code, scope=" ".join(auth.scopes))


def finish(sandbox, auth: AuthRequest, response):
    """Drop the pending request and remember the login on the sandbox's own cookie."""
    with sandbox.store.lock:
        sandbox.store.auth_requests.pop(auth.request_id, None)
    response = make_response(response)
    sid = sandbox.store.new_session(auth.user_id)
    response.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="Lax", path="/identity")
    return response


@bp.get("/identity/logout")
def logout():
    """Forget the sandbox login (a different demo user can then sign in)."""
    sandbox = current_sandbox()
    with sandbox.store.lock:
        sandbox.store.sessions.pop(request.cookies.get(SESSION_COOKIE, ""), None)
    response = make_response(render_template("logged_out.html"))
    response.delete_cookie(SESSION_COOKIE, path="/identity")
    return response


# token endpoint ------------------------------------------------------------------


def token_error(error: str, description: str | None = None, status: int = 400):
    body = {"error": error}
    if description:
        body["error_description"] = description
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def authenticate_client(sandbox, require_secret: bool = True):
    """HTTP Basic or form-body client credentials; public (PKCE) clients send only client_id."""
    client_id = request.form.get("client_id")
    secret = request.form.get("client_secret")
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
    client = sandbox.store.clients.get(client_id or "")
    if client is None:
        return None
    if client.client_secret is None:
        return client
    if secret is None or not hmac.compare_digest(client.client_secret, secret):
        return None
    return client


@bp.post("/connect/token")
def token():
    """Code exchange and refresh (with rotation and a 30-minute grace for the previous token)."""
    sandbox = current_sandbox()
    client = authenticate_client(sandbox)
    if client is None:
        return token_error("invalid_client")
    grant_type = request.form.get("grant_type")
    if grant_type == "authorization_code":
        return exchange_code(sandbox, client)
    if grant_type == "refresh_token":
        return refresh(sandbox, client)
    return token_error("unsupported_grant_type")


def exchange_code(sandbox, client):
    store, now = sandbox.store, sandbox.clock.time()
    with store.lock:
        code = store.codes.get(request.form.get("code", ""))
        if code is None or code.client_id != client.client_id or code.used:
            return token_error("invalid_grant")
        if now >= code.expires:
            return token_error("invalid_grant")
        if request.form.get("redirect_uri") != code.redirect_uri:
            return token_error("invalid_grant")
        verifier = request.form.get("code_verifier")
        if code.code_challenge and (not verifier or not pkce_matches(verifier, code.code_challenge)):
            return token_error("invalid_grant")
        code.used = True
        consented = store.consents.get((code.user_id, client.client_id), set())
        granted = list(dict.fromkeys(code.scopes + sorted(consented - set(code.scopes))))
        grant = Grant(
            uuid.uuid4().hex,
            client.client_id,
            code.user_id,
            granted,
            code.auth_event_id,
            code.session_id,
            code.auth_time,
            code.nonce,
        )
        store.grants[grant.grant_id] = grant
    refresh_token = store.new_refresh_token(grant.grant_id) if "offline_access" in granted else None
    return token_response(sandbox, grant, refresh_token.token if refresh_token else None)


def refresh(sandbox, client):
    store, now = sandbox.store, sandbox.clock.time()
    with store.lock:
        current = store.refresh_tokens.get(request.form.get("refresh_token", ""))
        grant = store.grants.get(current.grant_id) if current else None
        if current is None or grant is None or grant.client_id != client.client_id or grant.revoked:
            return token_error("invalid_grant")
        if now >= current.issued + REFRESH_IDLE_SECONDS:
            return token_error("invalid_grant")
        asked = request.form.get("scope", "").split()
        if any(s not in grant.scopes for s in asked):
            return token_error("invalid_scope")
        if scope_rules.needs_tenant(grant.scopes) and not store.user_connections(grant.user_id, client.client_id):
            return token_error("invalid_grant")
        if current.superseded is not None:
            if now - current.superseded > REFRESH_GRACE_SECONDS:
                return token_error("invalid_grant")
            return token_response(sandbox, grant, current.successor)
        successor = store.new_refresh_token(grant.grant_id)
        current.superseded, current.successor = now, successor.token
    return token_response(sandbox, grant, successor.token)


def token_response(sandbox, grant: Grant, refresh_token: str | None):
    issuer = sandbox.issuer()
    body = {
        "access_token": mint_access_token(sandbox.key, sandbox.store, grant, issuer),
        "expires_in": ACCESS_TOKEN_SECONDS,
        "token_type": "Bearer",
        "scope": " ".join(grant.scopes),
    }
    if refresh_token:
        body["refresh_token"] = refresh_token
    if "openid" in grant.scopes:
        user = sandbox.store.users[grant.user_id]
        body["id_token"] = mint_id_token(sandbox.key, sandbox.store, grant, user, issuer)
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/connect/revocation")
def revocation():
    """Revoke a refresh token: the token set dies and all the user's connections to the app go."""
    sandbox = current_sandbox()
    client = authenticate_client(sandbox)
    if client is None:
        return token_error("invalid_client")
    store = sandbox.store
    with store.lock:
        current = store.refresh_tokens.get(request.form.get("token", ""))
        grant = store.grants.get(current.grant_id) if current else None
        if grant is not None and grant.client_id == client.client_id:
            store.revoke_grants(grant.user_id, client.client_id)
    return "", 200


@bp.get("/connect/userinfo")
def userinfo():
    """OpenID userinfo for a live access token."""
    sandbox = current_sandbox()
    try:
        bearer = verify_bearer(sandbox.key, sandbox.store, request.headers.get("Authorization"))
    except BearerError:
        return jsonify({"error": "invalid_token"}), 401
    user = sandbox.store.users[bearer.user_id]
    body = {"sub": bearer.claims["sub"], "xero_userid": user.user_id}
    if "email" in bearer.scopes:
        body["email"] = user.email
    if "profile" in bearer.scopes:
        body.update(given_name=user.first_name, family_name=user.last_name, name=f"{user.first_name} {user.last_name}")
    return jsonify(body)


@bp.get("/.well-known/openid-configuration")
def discovery():
    """OIDC discovery document (all endpoints on the sandbox origin)."""
    sandbox = current_sandbox()
    issuer = sandbox.issuer()
    return jsonify(
        {
            "issuer": issuer,
            "jwks_uri": f"{issuer}/.well-known/openid-configuration/jwks",
            "authorization_endpoint": f"{issuer}/identity/connect/authorize",
            "token_endpoint": f"{issuer}/connect/token",
            "userinfo_endpoint": f"{issuer}/connect/userinfo",
            "revocation_endpoint": f"{issuer}/connect/revocation",
            "end_session_endpoint": f"{issuer}/identity/logout",
            "scopes_supported": sorted(scope_rules.KNOWN_SCOPES),
            "claims_supported": [
                "sub",
                "xero_userid",
                "email",
                "given_name",
                "family_name",
                "name",
                "global_session_id",
                "authentication_event_id",
            ],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        }
    )


@bp.get("/.well-known/openid-configuration/jwks")
def jwks():
    """The public signing key."""
    return jsonify({"keys": [current_sandbox().key.jwk]})
