#!/usr/bin/env python
"""Django's command-line utility. Without DJANGO_SETTINGS_MODULE the production settings are used,
which fail closed: they refuse to start without their secrets. ``make run`` and ``make test`` set the
embedded and test settings for you."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hansken_governance.settings.production")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
