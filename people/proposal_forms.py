"""What the administrators' proposal pages about one person share: the person named by username,
and the service's refusals about ``person`` shown on that field."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from hansken_governance.service_errors import ServiceErrorForm


class PersonProposalForm(ServiceErrorForm):
    """A proposal form whose ``username`` field names the person it is about (cleaned to the
    ``User``); subclasses declare that field with their own words, and the other fields."""

    use_required_attribute = False
    service_fields = {"person": "username"}

    def clean_username(self) -> User:
        username = self.cleaned_data["username"].strip()
        person = User.objects.filter(username=username).first()
        if person is None:
            raise ValidationError(gettext("Nobody has the username %(name)s.") % {"name": username})
        return person
