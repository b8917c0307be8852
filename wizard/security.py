"""Production guards and the security headers every response carries."""

from __future__ import annotations

import os
from urllib.parse import urlparse

from flask import Flask, Response, abort, request
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from wizard.config import DEV_SECRET_KEY
from wizard.secret_key import HOW_TO_GENERATE, secret_key_problem

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self' {login}; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


def check_production_config(app: Flask) -> None:
    """Refuse to start in production with settings that are only safe on a laptop."""
    if not app.config.get("PRODUCTION"):
        return
    problems = []
    if app.config.get("SECRET_KEY") in (None, "", DEV_SECRET_KEY):
        problems.append(f"SECRET_KEY is the development default ({HOW_TO_GENERATE})")
    elif weak_key := secret_key_problem(app.config["SECRET_KEY"]):
        problems.append(weak_key)
    if os.environ.get("OAUTHLIB_INSECURE_TRANSPORT"):
        problems.append("OAUTHLIB_INSECURE_TRANSPORT is set")
    if urlparse(app.config.get("XERO_REDIRECT_URI", "")).scheme != "https":
        problems.append("XERO_REDIRECT_URI is not https")
    if not app.config.get("TOKEN_ENCRYPTION_KEY"):
        problems.append("TOKEN_ENCRYPTION_KEY is not set")
    for key in ("XERO_LOGIN_URL", "XERO_IDENTITY_URL", "XERO_API_URL"):
        # The token request carries the client secret: never over plain http.
        if urlparse(app.config.get(key) or "").scheme != "https":
            problems.append(f"{key} is not https")
    problems += _cookie_problems(app)
    if app.config.get("DEBUG"):
        problems.append("DEBUG is on")
    if app.config.get("DEMO_MODE"):
        problems.append("DEMO_MODE is on")
    if problems:
        raise RuntimeError("refusing to start in production: " + "; ".join(problems))


def _cookie_problems(app: Flask) -> list[str]:
    """Session cookie: Secure, HttpOnly, SameSite=Lax (Strict would drop it on Xero's redirect back),
    and the __Host- prefix, which browsers only accept without a Domain and with Path=/."""
    config, problems = app.config, []
    if not config.get("SESSION_COOKIE_SECURE"):
        problems.append("SESSION_COOKIE_SECURE is off")
    if not config.get("SESSION_COOKIE_HTTPONLY"):
        problems.append("SESSION_COOKIE_HTTPONLY is off")
    if config.get("SESSION_COOKIE_SAMESITE") != "Lax":
        problems.append("SESSION_COOKIE_SAMESITE is not Lax")
    if not str(config.get("SESSION_COOKIE_NAME", "")).startswith("__Host-"):
        problems.append("SESSION_COOKIE_NAME lacks the __Host- prefix")
    if config.get("SESSION_COOKIE_DOMAIN") or config.get("SESSION_COOKIE_PATH") not in (None, "/"):
        problems.append("SESSION_COOKIE_DOMAIN/PATH set (a __Host- cookie has neither)")
    return problems


def warn_loopback_http(app: Flask) -> None:
    """oauthlib refuses http URLs unless OAUTHLIB_INSECURE_TRANSPORT is set. The app never sets it
    itself (building an app must not change the process environment): the launcher sets it for a
    local sandbox (scripts/run_stack.py, the tests); say so at start when it is missing."""
    if app.config.get("PRODUCTION") or os.environ.get("OAUTHLIB_INSECURE_TRANSPORT"):
        return
    urls = [app.config[k] for k in ("XERO_LOGIN_URL", "XERO_IDENTITY_URL", "XERO_API_URL")]
    if any(urlparse(u).scheme == "http" for u in urls):
        app.logger.warning("settings.http_xero_urls hint=set OAUTHLIB_INSECURE_TRANSPORT=1 for a local sandbox")


def trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXY_HOPS proxies, take the client address and scheme from their headers.

    Off by default: without a proxy that overwrites them, anyone could send X-Forwarded-For and
    pick their own throttle bucket.
    """
    hops = app.config.get("TRUSTED_PROXY_HOPS", 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _form_text() -> list[str]:
    return list(request.form.values()) if request.mimetype in FORM_TYPES else []


def init_security(app: Flask) -> None:
    login_origin = app.config["XERO_LOGIN_URL"].rstrip("/")
    csp = CSP.format(login=login_origin)

    @app.before_request
    def refuse_nul_characters() -> None:
        # PostgreSQL text cannot hold NUL: a search or form value carrying one would reach the
        # database and fail there (500). No page takes one, so the request is refused up front.
        values = request.args.values() if request.method in ("GET", "HEAD") else (*request.args.values(), *_form_text())
        if any("\x00" in value for value in values):
            abort(400)

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if app.config.get("PRODUCTION"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.blueprint in ("connect", "auth"):
            # OAuth responses and sign-in/out pages must never be cached or leak a referrer.
            response.headers["Cache-Control"] = "no-store"
            response.headers["Referrer-Policy"] = "no-referrer"
        elif request.endpoint != "static" and current_user.is_authenticated:
            # Whatever a signed-in user sees is theirs: no browser or proxy may keep a copy.
            response.headers["Cache-Control"] = "no-store"
        return response
