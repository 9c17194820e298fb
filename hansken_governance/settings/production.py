"""The production shape: fails closed.

Every secret is required; DEBUG is off unless DJANGO_DEBUG asks for it (and ``check --deploy``
will then complain); cookies are secure and HSTS is on.
"""

from hansken_governance.env import env_bool, env_int, env_list, env_optional, env_required_secret
from hansken_governance.settings.base import *  # noqa: F403
from hansken_governance.settings.base import DATA_DIR, database_from_env

SECRET_KEY = env_required_secret("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    from hansken_governance.env import MissingSetting

    raise MissingSetting("DJANGO_ALLOWED_HOSTS is required in production (comma-separated host names).")

# Production stores its data in PostgreSQL; an embedded file is allowed only when asked for.
if not env_optional("DATABASE_URL") and not env_bool("HG_ALLOW_SQLITE_IN_PRODUCTION", False):
    from hansken_governance.env import MissingSetting

    raise MissingSetting("DATABASE_URL is required in production.")
DATABASES = {"default": database_from_env(DATA_DIR / "db.sqlite3")}

# Web, worker and beat run in separate containers: without a shared broker they would never see each
# other's messages (and decisions would have no shared cache generation). Fail closed instead.
if not env_optional("REDIS_URL"):
    from hansken_governance.env import MissingSetting

    raise MissingSetting("REDIS_URL is required in production (broker, cache and decision-cache generation).")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
# Health probes come over plain HTTP from inside the cluster.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
HG_TIME_TRAVEL_ALLOWED = False  # never: production cannot move the clock back (hansken_governance/clock.py)
