"""The WSGI entry point gunicorn serves (with the decision API's short path, ``wsgi_handler``)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hansken_governance.settings.production")

django.setup(set_prefix=False)

from hansken_governance.wsgi_handler import GovernanceWSGIHandler  # noqa: E402 - needs Django set up

application = GovernanceWSGIHandler()
