"""The one bridge from a service's refusal to a form (``hansken_governance.service_errors``): shown
by its code in the reader's language, on the field it names, whatever the service's wording; and
every code a form has words for is one a service raises."""

from __future__ import annotations

import inspect
import re

import pytest
from django.utils import translation

from authz import forms as authz_forms
from authz import services as authz_services
from authz import terms as authz_terms
from cases import forms as case_forms
from cases import services as case_services
from hansken_governance.service_errors import ServiceErrorForm, ServiceWarning, in_words, refusal
from hashtotals import forms as hashtotals_forms
from hashtotals import services as hashtotals_services


class _Form(authz_forms.ServiceForm):
    pass


def _shown(error: Exception) -> dict[str, list[str]]:
    form = _Form(data={})
    form.is_valid()
    form.add_service_error(error)  # type: ignore[arg-type]
    return {name: [str(message) for message in messages] for name, messages in form.errors.items()}


def test_a_refusal_is_shown_by_its_code_whatever_its_wording():
    with translation.override("en"):
        assert _shown(refusal("grantee", "Any wording at all.", "inactive", name="mallory")) == {
            "__all__": ["mallory is not active, so cannot be given access."]
        }
    with translation.override("nl"):
        shown = _shown(refusal("grantee", "Any wording at all.", "inactive", name="mallory"))["__all__"][0]
    assert "mallory" in shown and shown != "mallory is not active, so cannot be given access."


def test_a_code_without_words_is_shown_as_the_service_words_it():
    assert _shown(refusal(None, "The %(thing)s is odd.", "no_words_for_this", thing="moon")) == {
        "__all__": ["The moon is odd."]
    }


def test_the_api_reads_the_same_message_as_before():
    error = refusal(
        "valid_until", "A grant may last at most %(days)s days; choose an earlier end.", "too_long", days=9
    )
    assert error.message_dict == {"valid_until": ["A grant may last at most 9 days; choose an earlier end."]}
    warning = ServiceWarning(
        "Runs past %(name)s's screening (%(date)s).",
        "runs_past_screening",
        {"name": "iris", "date": "2030-01-01"},
    )
    assert str(warning) == "Runs past iris's screening (2030-01-01)."
    with translation.override("en"):
        shown = in_words(warning.code, warning.message, warning.params, authz_forms.SERVICE_WORDS)
    assert shown.startswith("The access runs past the screening of iris, which is valid until 2030-01-01.")


def test_words_that_name_a_parameter_the_service_did_not_give_fall_back_to_its_message():
    with translation.override("en"):
        assert _shown(refusal("grantee", "%(who)s is out.", "inactive", who="mallory")) == {
            "__all__": ["mallory is out."]
        }


@pytest.mark.parametrize(
    ("words", "modules"),
    [
        pytest.param(authz_forms.SERVICE_WORDS, [authz_services, authz_terms], id="authz"),
        pytest.param(case_forms.SERVICE_WORDS, [case_services], id="cases"),
        pytest.param(hashtotals_forms.SERVICE_WORDS, [hashtotals_services], id="hashtotals"),
    ],
)
def test_every_code_a_form_has_words_for_is_raised_by_a_service(words, modules):
    """Words for a code no service raises would be dead (a renamed code): they must not exist."""
    source = "\n".join(inspect.getsource(module) for module in modules)
    raised = set(re.findall(r'"([a-z_]+)"', source))
    assert set(words) - raised == set()


def test_the_forms_use_the_one_bridge():
    assert issubclass(authz_forms.ServiceForm, ServiceErrorForm)
    assert issubclass(case_forms.CaseServiceForm, ServiceErrorForm)
    assert issubclass(hashtotals_forms.ManifestUploadForm, ServiceErrorForm)
