"""Settings for the test suite: the embedded default, or PostgreSQL and Redis when
DATABASE_URL and REDIS_URL are set (CI runs both)."""

import atexit
import shutil
import tempfile
from pathlib import Path

from hansken_governance.settings.base import *  # noqa: F403

SECRET_KEY = "test-only-key-not-used-anywhere-else-" + "x" * 20
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only
STATIC_ROOT = Path(tempfile.gettempdir()) / "hansken-governance-test-static"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LANGUAGE_CODE = "en"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Each test run keeps its uploaded manifests apart (several runs share this machine).
HASHTOTALS_DIR = Path(tempfile.mkdtemp(prefix="hg-test-hashtotals-"))
atexit.register(shutil.rmtree, HASHTOTALS_DIR, True)

# seed_demo tells its story in the past (hansken_governance/clock.py).
HG_TIME_TRAVEL_ALLOWED = True
