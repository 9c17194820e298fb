"""The embedded default that ``make run`` uses: SQLite and a filesystem broker in the data folder.

No secret is hard-coded: a random key is made once and kept in the data folder.
"""

import secrets

from hansken_governance.env import env_bool, env_secret
from hansken_governance.settings.base import *  # noqa: F403
from hansken_governance.settings.base import DATA_DIR


def _local_secret_key() -> str:
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = env_secret("DJANGO_SECRET_KEY") or _local_secret_key()
DEBUG = env_bool("DJANGO_DEBUG", False)

# seed_demo tells its story in the past (hansken_governance/clock.py).
HG_TIME_TRAVEL_ALLOWED = True
