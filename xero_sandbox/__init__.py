"""A self-contained local stand-in for Xero (identity, connections, Accounting API).

`create_app(config)` builds the Flask app; nothing happens at import time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask

DEFAULT_REDIRECT_URIS = "http://127.0.0.1:5000/connect/xero/callback http://localhost:5000/connect/xero/callback"


def default_config() -> dict:
    """Settings from the environment (XERO_SANDBOX_*), with the demo defaults."""
    return {
        "CLIENT_ID": os.environ.get("XERO_SANDBOX_CLIENT_ID", "sandbox-client-id"),
        "CLIENT_SECRET": os.environ.get("XERO_SANDBOX_CLIENT_SECRET", "sandbox-client-secret"),
        "REDIRECT_URIS": os.environ.get("XERO_SANDBOX_REDIRECT_URIS", DEFAULT_REDIRECT_URIS).split(),
        "TIME_SCALE": float(os.environ.get("XERO_SANDBOX_TIME_SCALE", "1") or 1),
        "ISSUER": os.environ.get("XERO_SANDBOX_ISSUER") or None,
        "SEED": os.environ.get("XERO_SANDBOX_SEED", "demo"),
        "ORG_SIZE": 300,
        "DEMO_DATA": True,
        "DEFAULT_CLIENT": True,
        "CLIENTS": {},
        "LIMITS": {},
        "CLOCK_START": None,
        "CLOCK_FROZEN": False,
        # per-organisation budget of the served-JSON cache (fragments.py); 0 switches it off
        "CACHE_MB": float(os.environ.get("XERO_SANDBOX_CACHE_MB", "256") or 256),
        # webhooks (webhooks.py): subscribed at start when both are set; the trickle is off at 0
        "WEBHOOK_URL": os.environ.get("XERO_SANDBOX_WEBHOOK_URL", ""),
        "WEBHOOK_KEY": os.environ.get("XERO_SANDBOX_WEBHOOK_KEY", ""),
        "WEBHOOK_TRICKLE_SECONDS": float(os.environ.get("XERO_SANDBOX_WEBHOOK_TRICKLE_SECONDS", "0") or 0),
    }


def create_app(config: Mapping | None = None) -> Flask:
    """Build a sandbox app with its own clock, store, key, limits and faults."""
    from . import accounting, admin, connections, identity
    from .clock import Clock
    from .faults import Faults
    from .gateway import finish_request, start_request
    from .limits import Limits, LimitSettings
    from .state import SandboxState
    from .store import Store, seed_demo
    from .tokens import SigningKey

    settings = default_config()
    settings.update(config or {})
    app = Flask(__name__, template_folder="templates")
    app.config.update(SANDBOX=settings)
    clock = Clock(settings["CLOCK_START"], frozen=bool(settings["CLOCK_FROZEN"]))
    store = Store(clock, cache_bytes=int(float(settings["CACHE_MB"]) * 1_000_000))
    if settings["DEFAULT_CLIENT"]:
        store.add_client(settings["CLIENT_ID"], settings["CLIENT_SECRET"], settings["REDIRECT_URIS"])
    for client_id, spec in settings["CLIENTS"].items():
        store.add_client(
            client_id,
            spec.get("client_secret"),
            spec.get("redirect_uris", []),
            spec.get("created", "2026-04-01"),
            spec.get("tier", "core"),
            spec.get("name", "Sandbox demo app"),
        )
    if settings["DEMO_DATA"]:
        seed_demo(store, int(settings["ORG_SIZE"]), settings["SEED"])
    limits = Limits(clock, LimitSettings(time_scale=float(settings["TIME_SCALE"])))
    if settings["LIMITS"]:
        limits.configure(**settings["LIMITS"])
    state = SandboxState(settings, clock, store, SigningKey(), limits, Faults(clock))
    app.extensions["xero_sandbox"] = state
    if settings["WEBHOOK_URL"] and settings["WEBHOOK_KEY"]:
        state.configure_webhooks(
            settings["WEBHOOK_URL"], settings["WEBHOOK_KEY"], trickle_seconds=settings["WEBHOOK_TRICKLE_SECONDS"]
        )
    app.url_map.strict_slashes = False
    app.before_request(start_request)
    app.after_request(finish_request)
    for module in (identity, connections, accounting, admin):
        app.register_blueprint(module.bp)
    return app
