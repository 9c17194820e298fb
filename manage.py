#!/usr/bin/env python
"""Django's command-line utility. Without DJANGO_SETTINGS_MODULE the production settings are used,
which fail closed: they refuse to start without their secrets. ``make run`` and ``make test`` set the
embedded and test settings for you."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hansken_governance.settings.production")
    from django.core.management import execute_from_command_line

    from hansken_governance.env import MissingSetting

    try:
        execute_from_command_line(sys.argv)
    except MissingSetting as exc:
        # The production settings refuse to start without their secrets; say so in one line and how
        # to reach the embedded instance of `make run` instead of printing a traceback.
        sys.stderr.write(
            f"MissingSetting: {exc}\nThese are the production settings. For the instance that "
            "`make run` serves, run from the repository root with "
            "DJANGO_SETTINGS_MODULE=hansken_governance.settings.local.\n"
        )
        sys.exit(2)


if __name__ == "__main__":
    main()
