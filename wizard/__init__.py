"""The FP&A app's Xero connection wizard: application factory."""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask, redirect, url_for
from flask_login import current_user


def _sri(path: str) -> str:
    """Subresource-integrity hash computed from the vendored file itself."""
    import base64
    import hashlib

    with open(path, "rb") as fh:
        return "sha384-" + base64.b64encode(hashlib.sha384(fh.read()).digest()).decode()


def create_app(config: Mapping | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints and commands; no business logic."""
    from wizard.config import Config, instance_path

    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_path=instance_path(),
    )
    app.config.from_object(Config())  # the only place settings are read from the environment
    if config:
        app.config.update(config)
    from wizard.instance_files import create_private_sqlite_file, secure_instance_folder

    secure_instance_folder(app.instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "wizard.db")
    create_private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])

    from wizard.security import (
        check_production_config,
        init_security,
        trust_proxies,
        warn_loopback_http,
    )

    check_production_config(app)
    warn_loopback_http(app)
    trust_proxies(app)

    from wizard.access_log import redact_dev_server_log

    redact_dev_server_log()

    from wizard.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    from wizard import crypto, jobs
    from wizard.auth import init_login
    from wizard.auth.reauth import init_reauth

    init_login(app)
    init_reauth(app)
    crypto.init_cipher(app)
    jobs.init_queue(app)
    init_security(app)

    from wizard.request_numbers import init_converters

    init_converters(app)
    from wizard.errors import init_errors

    init_errors(app)

    from wizard.auth.views import bp as auth_bp
    from wizard.books.views import bp as books_bp
    from wizard.connect.views import bp as connect_bp
    from wizard.data.views import bp as data_bp
    from wizard.help.views import bp as help_bp
    from wizard.notifications.views import bp as notifications_bp
    from wizard.settings.views import bp as settings_bp
    from wizard.support.views import bp as support_bp
    from wizard.support.xero_access_views import bp as xero_access_bp

    for blueprint in (
        auth_bp,
        data_bp,
        connect_bp,
        help_bp,
        support_bp,
        xero_access_bp,
        notifications_bp,
        books_bp,
        settings_bp,
    ):
        app.register_blueprint(blueprint)

    if app.config.get("XERO_WEBHOOK_KEY"):
        # No key, no endpoint: an unsigned webhook URL would only be a way in.
        from wizard.webhooks.views import bp as webhooks_bp

        csrf.exempt(webhooks_bp)  # Xero signs its deliveries instead; it has no form token
        app.register_blueprint(webhooks_bp)

    assert app.static_folder is not None  # set by Flask(static_folder=...) above
    app.config.setdefault("HTMX_SRI", _sri(os.path.join(app.static_folder, "vendor", "htmx-4.0.1.min.js")))

    # Templates link to areas only when their blueprint is registered.
    app.jinja_env.globals["has_endpoint"] = lambda name: name in app.view_functions
    from wizard.hints import hint_for

    app.jinja_env.globals["hint_for"] = hint_for
    from wizard import presentation

    presentation.register(app)

    from wizard import policy

    app.before_request(policy.enforce)

    @app.get("/")
    def index():
        """Home: the Data page for members, support console for staff, login otherwise."""
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login"))
        if current_user.is_support and "support.console" in app.view_functions:
            return redirect(url_for("support.console"))
        return redirect(url_for("data.index"))

    @app.get("/healthz")
    def health():
        """Liveness for load balancers."""
        return {"status": "ok"}

    @app.get("/readyz")
    def ready():
        """Readiness for load balancers: this process reaches the database and Redis."""
        from wizard.health import readiness

        checks = readiness()
        return checks, 200 if set(checks.values()) == {"ok"} else 503

    from wizard.cli import register_commands

    register_commands(app)
    return app
