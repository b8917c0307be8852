"""The environment every bench stack shares: the app, its workers and the in-process Xero sandbox.

One client registered with the sandbox (`sandbox_config`) and the settings that point the app at
it (`stack_env`), so bench/sync.py, bench/fleet.py, bench/load.py and bench/web.py cannot drift apart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret"


def sandbox_config(redirect_uri: str = "http://127.0.0.1/cb") -> dict[str, Any]:
    """The sandbox's settings: the bench's client, allowed to return to `redirect_uri`."""
    return {"CLIENTS": {CLIENT_ID: {"client_secret": CLIENT_SECRET, "redirect_uris": [redirect_uri]}}}


def stack_env(
    sandbox_url: str,
    database_url: str,
    redis_url: str,
    tmp: Path,
    queue: str | None = None,
    redirect_uri: str | None = None,
) -> dict[str, str]:
    """The environment the app and its worker processes share, pointed at the sandbox's bench client.
    `queue`: unless the app's default; `redirect_uri`: the app's own callback, when the bench signs
    in through the browser pages."""
    from cryptography.fernet import Fernet

    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "XERO_CLIENT_ID": CLIENT_ID,
        "XERO_CLIENT_SECRET": CLIENT_SECRET,
        "XERO_LOGIN_URL": sandbox_url,
        "XERO_IDENTITY_URL": sandbox_url,
        "XERO_API_URL": sandbox_url,
        "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "WIZARD_INSTANCE_PATH": str(tmp / "instance"),
        "SECRET_KEY": "bench-secret-key",
        "OAUTHLIB_INSECURE_TRANSPORT": "1",  # the sandbox speaks http on loopback
    }
    if queue is not None:  # else the app's default queue
        env["RQ_QUEUE"] = queue
    if redirect_uri is not None:
        env["XERO_REDIRECT_URI"] = redirect_uri
    return env
