"""Settings shared by every shape of the application.

Each value here is either safe everywhere or read from the environment. Secrets and hosts are set
by the shape-specific modules: ``local`` (embedded default for ``make run``), ``test`` and
``production`` (fails closed: every secret is required).
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from hansken_governance.env import (
    env_bool,
    env_int,
    env_list,
    env_networks,
    env_optional,
    env_secret,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(env_str("HG_DATA_DIR", str(BASE_DIR / "data")))

DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
# The reverse proxies whose X-Forwarded-For is believed (hansken_governance.request_context.
# client_address). Empty: no header is believed, the socket's peer is the client.
HG_TRUSTED_PROXIES = env_networks("HG_TRUSTED_PROXIES")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "auditlog",
    "mozilla_django_oidc",
    # Before our apps: its user_login_failed receiver marks a locked-out request before ours records
    # the failure (people.signals reads ``axes_locked_out``).
    "axes",
    # The second factor of password sign-in (people.second_factor): TOTP devices and recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Our own rooms, one concern each.
    "hansken_governance.apps.HanskenGovernanceConfig",
    "people",
    "api_clients",
    "cases",
    "authz",
    "audit",
    "retention",
    "privilege",
    "privacy_statement",
    "notifications",
    "siem",
    "hashtotals",
    "test_reports",
]

MIDDLEWARE = [
    # Before SecurityMiddleware: X-Forwarded-Proto is believed only from HG_TRUSTED_PROXIES.
    "hansken_governance.request_context.TrustedProxyHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "hansken_governance.request_context.ApiInEnglishMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Names the signed-in person on django-auditlog's field diffs (the admin); see audit.model_changes.
    "auditlog.middleware.AuditlogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "hansken_governance.request_context.RequestIdMiddleware",
    # Idle and absolute session limits (people.sessions), after authentication has named the person.
    "people.sessions.SessionLimitsMiddleware",
    # Last: turns a lockout found during sign-in into the lockout page (people.lockout).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hansken_governance.urls"
WSGI_APPLICATION = "hansken_governance.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hansken_governance.context_processors.navigation",
                "privacy_statement.context_processors.privacy_notice",
            ],
        },
    },
]


def database_from_env(default_sqlite_path: Path) -> dict[str, Any]:
    """PostgreSQL from DATABASE_URL, or the embedded SQLite file in the data folder."""
    url = env_optional("DATABASE_URL")
    if url:
        config: dict[str, Any] = dict(
            dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))
        )
        # Persistent connections are checked before reuse, so a restarted database is not an error.
        config["CONN_HEALTH_CHECKS"] = True
        return config
    default_sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(default_sqlite_path),
        "OPTIONS": {
            # web, worker and beat share the file: WAL lets readers work beside the one writer, the
            # busy timeout makes a writer wait instead of failing, and IMMEDIATE takes the write lock
            # at the start of a transaction so two writers never deadlock on an upgrade.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON;",
            "transaction_mode": "IMMEDIATE",
        },
    }


DATABASES = {"default": database_from_env(DATA_DIR / "db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_optional("REDIS_URL")
if REDIS_URL:
    CACHES: dict[str, Any] = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # First: refuses every sign-in (password, admin, single sign-on) of a locked-out person or source.
    "people.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Single sign-on through OpenID Connect: on when OIDC_RP_CLIENT_ID and the provider's endpoints are set.
OIDC_RP_CLIENT_ID = env_optional("OIDC_RP_CLIENT_ID")
OIDC_RP_CLIENT_SECRET = env_secret("OIDC_RP_CLIENT_SECRET")
OIDC_OP_AUTHORIZATION_ENDPOINT = env_optional("OIDC_OP_AUTHORIZATION_ENDPOINT")
OIDC_OP_TOKEN_ENDPOINT = env_optional("OIDC_OP_TOKEN_ENDPOINT")
OIDC_OP_USER_ENDPOINT = env_optional("OIDC_OP_USER_ENDPOINT")
OIDC_OP_JWKS_ENDPOINT = env_optional("OIDC_OP_JWKS_ENDPOINT")
OIDC_RP_SIGN_ALGO = env_str("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = env_str("OIDC_RP_SCOPES", "openid email profile")
OIDC_USERNAME_CLAIM = env_str("OIDC_USERNAME_CLAIM", "preferred_username")
OIDC_OP_ISSUER = env_optional("OIDC_OP_ISSUER")  # when set, the ID token's iss must equal it
# People come from HR / identity sync: single sign-on signs in existing, active people only (people.oidc).
OIDC_CREATE_USER = False
OIDC_CALLBACK_CLASS = "people.oidc.PeopleOIDCCallbackView"
OIDC_AUTHENTICATE_CLASS = "people.oidc.PeopleOIDCAuthenticationRequestView"
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID and OIDC_OP_AUTHORIZATION_ENDPOINT and OIDC_OP_TOKEN_ENDPOINT)
if OIDC_ENABLED:
    # Without a key to check signatures the backend raises on every authenticate(), password
    # sign-in included: refuse to start instead.
    if OIDC_RP_SIGN_ALGO.startswith(("RS", "ES")) and not OIDC_OP_JWKS_ENDPOINT:
        raise ImproperlyConfigured(f"OIDC_OP_JWKS_ENDPOINT is required with {OIDC_RP_SIGN_ALGO}.")
    if OIDC_RP_SIGN_ALGO.startswith("HS") and not OIDC_RP_CLIENT_SECRET:
        raise ImproperlyConfigured(f"OIDC_RP_CLIENT_SECRET is required with {OIDC_RP_SIGN_ALGO}.")
    AUTHENTICATION_BACKENDS.insert(1, "people.oidc.PeopleOIDCBackend")

# Sessions (people.sessions): a sign-in lasts at most a working day, whatever the activity, and ends
# after HG_SESSION_IDLE_MINUTES without a request. The database session engine lets
# person_deactivate end every session of a person at once.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
HG_SESSION_MAX_HOURS = env_int("HG_SESSION_MAX_HOURS", 10)
HG_SESSION_IDLE_MINUTES = env_int("HG_SESSION_IDLE_MINUTES", 30)
if HG_SESSION_MAX_HOURS < 1 or HG_SESSION_IDLE_MINUTES < 1:
    raise ImproperlyConfigured("HG_SESSION_MAX_HOURS and HG_SESSION_IDLE_MINUTES must be at least 1.")
SESSION_COOKIE_AGE = HG_SESSION_MAX_HOURS * 3600

# Lockout of password sign-in (django-axes; people.lockout): after HG_SIGN_IN_FAILURE_LIMIT failed
# attempts for one username, or from one source address, further attempts by that username or from
# that source are refused for HG_SIGN_IN_COOLOFF_MINUTES (each refused attempt starts the cool-off
# anew). The source is our own client_address, so X-Forwarded-For counts only from HG_TRUSTED_PROXIES.
AXES_ENABLED = True
AXES_FAILURE_LIMIT = env_int("HG_SIGN_IN_FAILURE_LIMIT", 5)
HG_SIGN_IN_COOLOFF_MINUTES = env_int("HG_SIGN_IN_COOLOFF_MINUTES", 15)
if AXES_FAILURE_LIMIT < 1 or HG_SIGN_IN_COOLOFF_MINUTES < 1:
    raise ImproperlyConfigured("HG_SIGN_IN_FAILURE_LIMIT and HG_SIGN_IN_COOLOFF_MINUTES must be at least 1.")
AXES_COOLOFF_TIME = datetime.timedelta(minutes=HG_SIGN_IN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "hansken_governance.request_context.client_address"
AXES_USERNAME_CALLABLE = "people.lockout.attempted_username"
AXES_LOCKOUT_CALLABLE = "people.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
# Our own trail records every sign-in; axes' access log would be a second, unchained copy.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# A wrong second-factor code counts as a failed sign-in too (people.second_factor_views); its form
# field is masked like the password in what axes keeps of the attempt.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]

# Second factor of password sign-in (people.second_factor; docs/sign-in.md). Required for the roles
# in people.roles.SECOND_FACTOR_ROLES, offered to everyone. The name authenticator apps show:
OTP_TOTP_ISSUER = env_str("HG_SECOND_FACTOR_ISSUER", "Hansken Governance")
# After a wrong code a device waits 1, 2, 4, 8 ... seconds before it checks another (django-otp).
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
# How long the password step stays valid while the person types the code (seconds).
HG_SECOND_FACTOR_PENDING_SECONDS = env_int("HG_SECOND_FACTOR_PENDING_SECONDS", 300)
if HG_SECOND_FACTOR_PENDING_SECONDS < 30:
    raise ImproperlyConfigured("HG_SECOND_FACTOR_PENDING_SECONDS must be at least 30.")

LANGUAGE_CODE = env_str("DJANGO_LANGUAGE_CODE", "nl")
LANGUAGES = [("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("DJANGO_TIME_ZONE", "Europe/Amsterdam")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]

# The contract allows 10,000 usage events in one request (a few MB of JSON); Django's default cap of
# 2.5 MB would refuse them.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("HG_MAX_REQUEST_BYTES", 32 * 1024 * 1024)
# Uploaded hash manifests, kept as uploaded (with their SHA-256) so a comparison can be redone.
HASHTOTALS_DIR = Path(env_str("HG_HASHTOTALS_DIR", str(DATA_DIR / "hashtotals")))
# The largest test report accepted (JUnit XML or CTRF JSON); a larger upload is stopped as it
# streams in and answered 413 (docs/test-reports.md).
TEST_REPORT_MAX_BYTES = env_int("HG_TEST_REPORT_MAX_BYTES", 64 * 1024 * 1024)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api_clients.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api_clients.permissions.IsPersonOrClient"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["hansken_governance.parsers.GovernanceJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "hansken_governance.api_errors.contract_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Hansken Governance API",
    "DESCRIPTION": "Access decisions, grants, usage events and review for Hansken case data.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The browsable docs load their assets from this server, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # A grant's rights and a decision's action are the same set: one name for it in the schema.
    # Every operation's error answers (400/401/403/404, and 409/413/503 where one can give them),
    # with the contract's error body, added after the views' own schema (api_schema).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "hansken_governance.api_schema.document_error_answers",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ActionEnum": "authz.models.Action",
        "GrantEnvironmentEnum": "hansken_governance.environments.GRANT_ENVIRONMENT_CHOICES",
    },
}

# Celery: with REDIS_URL Redis is the broker; without it, a folder in the data directory is, so the
# embedded default needs no server. Tasks are idempotent sweeps over database state, so the
# filesystem transport's lack of redelivery after a crash costs nothing but a delay.
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = (
    {"visibility_timeout": 3600}
    if REDIS_URL
    else {
        "data_folder_in": str(DATA_DIR / "broker" / "queue"),
        "data_folder_out": str(DATA_DIR / "broker" / "queue"),
        "processed_folder": str(DATA_DIR / "broker" / "processed"),
        # Exchange tables (worker remote control); kombu's default is a folder in the working directory.
        "control_folder": str(DATA_DIR / "broker" / "control"),
        "store_processed": False,
    }
)
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

# SIEM forwarding (contract names). Unset SIEM_HOST: forwarding is off, and /readyz says so.
SIEM_HOST = env_optional("SIEM_HOST")
SIEM_PORT = env_int("SIEM_PORT", 6514)
SIEM_TRANSPORT = env_str("SIEM_TRANSPORT", "tls")
SIEM_FORMAT = env_str("SIEM_FORMAT", "cef")
SIEM_CA_FILE = env_optional("SIEM_CA_FILE")
if SIEM_TRANSPORT not in ("tcp", "tls"):
    raise ImproperlyConfigured(f"SIEM_TRANSPORT must be tcp or tls, not {SIEM_TRANSPORT!r}.")
if SIEM_FORMAT not in ("cef", "json"):
    raise ImproperlyConfigured(f"SIEM_FORMAT must be cef or json, not {SIEM_FORMAT!r}.")
# /readyz fails (503) and the siem_backlog rule alerts when the oldest undelivered event is older.
SIEM_BACKLOG_MAX_AGE_MINUTES = env_int("SIEM_BACKLOG_MAX_AGE_MINUTES", 15)
SIEM_CHUNK_SIZE = env_int("SIEM_CHUNK_SIZE", 5000)  # events per connection; the cursor moves per chunk
SIEM_TIMEOUT_SECONDS = env_int("SIEM_TIMEOUT_SECONDS", 10)  # connect, write and close confirmation
SIEM_MAX_MESSAGE_BYTES = env_int("SIEM_MAX_MESSAGE_BYTES", 65536)  # larger records lose their details
SIEM_SYSLOG_HOSTNAME = env_optional("SIEM_SYSLOG_HOSTNAME")  # syslog HOSTNAME; default: the machine's

# Monitoring rules over the audit trail (siem.rules; docs/siem.md).
HG_MONITOR_DENIED_PER_HOUR = env_int("HG_MONITOR_DENIED_PER_HOUR", 20)
HG_MONITOR_EXPORTS_PER_DAY = env_int("HG_MONITOR_EXPORTS_PER_DAY", 50)
HG_MONITOR_BLOCKED_EXPORTS_PER_DAY = env_int("HG_MONITOR_BLOCKED_EXPORTS_PER_DAY", 3)
HG_MONITOR_FAILED_SIGN_INS_PER_HOUR = env_int("HG_MONITOR_FAILED_SIGN_INS_PER_HOUR", 10)

# Mail: off unless a host is set (notifications then also go by e-mail).
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "hansken-governance@localhost")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.locmem.EmailBackend"
)

# Governance rules.
HG_GRANT_MAX_DAYS = env_int("HG_GRANT_MAX_DAYS", 365)
# Upper bound on how long a worker keeps cached decision facts even without an invalidation: a last
# bound only (authz/cache.py: changes reach every worker through PostgreSQL's NOTIFY and Redis).
HG_AUTHZ_CACHE_MAX_AGE = env_int("HG_AUTHZ_CACHE_MAX_AGE", 300)
# A worker that starts over (new epoch, or the age above) loads every person's and case's decision
# facts at once, instead of paying a database round trip per person later.
HG_AUTHZ_PRELOAD = env_bool("HG_AUTHZ_PRELOAD", True)
HG_API_TOKEN_DEFAULT_DAYS = env_int("HG_API_TOKEN_DEFAULT_DAYS", 365)
# How far ahead a privacy statement version may be published to take effect (docs/privacy-statement.md):
# a published version never changes and a newer one may not take effect before it, so one typed far
# into the future would block every later version until its date. A year and a day, so "the same day
# next year" is always allowed; at most ten years, as a larger bound would bring that lock back.
HG_PRIVACY_STATEMENT_MAX_DAYS_AHEAD = env_int("HG_PRIVACY_STATEMENT_MAX_DAYS_AHEAD", 366)
if not 1 <= HG_PRIVACY_STATEMENT_MAX_DAYS_AHEAD <= 3660:
    raise ImproperlyConfigured("HG_PRIVACY_STATEMENT_MAX_DAYS_AHEAD must be from 1 to 3660.")
# How long audit rows stay in the trail before the weekly purge removes them (retention.purge).
HG_AUDIT_RETENTION_DAYS = env_int("HG_AUDIT_RETENTION_DAYS", 7 * 365)
# The checkpoint file outside the database (audit.checkpoints); default HG_DATA_DIR/audit-checkpoints.log.
# docker-compose.yml puts it on a volume that the web and the worker share.
AUDIT_CHECKPOINT_FILE = env_optional("HG_AUDIT_CHECKPOINT_FILE")

# django-auditlog: field diffs are copied into our chained trail (audit app); it must never try to
# resolve the client address from X-Forwarded-For, which it would trust blindly.
AUDITLOG_DISABLE_REMOTE_ADDR = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# Moving the clock back (hansken_governance/clock.py) is for seed_demo's story and the tests only:
# off here and in production, on in local.py and test.py, never read from the environment.
HG_TIME_TRAVEL_ALLOWED = False
