"""Settings fail closed: a test starts Django in a child process with a bad setting and reads why it
refused (the settings module raises at import, before any test database exists)."""

from __future__ import annotations

import os
import subprocess  # nosec B404  # this interpreter, fixed code
import sys


def django_setup_refused(settings: dict[str, str], unset: tuple[str, ...] = ()) -> str:
    """Start Django with these environment settings (on top of the test settings, without those in
    ``unset``) and return what it printed on refusing; the test fails if it started."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hansken_governance.settings.test", **settings}
    for name in unset:
        env.pop(name, None)
    result = subprocess.run(  # nosec B603  # this interpreter, fixed code
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0, "Django started with settings it should refuse"
    return result.stderr
