"""The accessibility check's page list (``tests/page_list.py``) covers every named browser route:
a page added later fails here until it is listed, with the demo object it shows, or excluded with
the reason."""

from __future__ import annotations

from collections.abc import Sequence

from django.urls import URLPattern, URLResolver

from hansken_governance import web_urls
from tests.page_list import NOT_PAGES, PAGES


def _names(patterns: Sequence[object]) -> set[str]:
    names: set[str] = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            names |= _names(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(pattern.name)
    return names


def test_every_browser_route_is_a_listed_page_or_excluded_with_a_reason():
    routes = _names(web_urls.urlpatterns)
    listed = {name for name in PAGES if ":" not in name}  # the admin's are checked beside these
    assert routes - listed - set(NOT_PAGES) == set(), "add these pages to tests/page_list.py"
    assert (listed | set(NOT_PAGES)) - routes == set(), "these are no longer routes"
    assert not listed & set(NOT_PAGES)
    assert all(reason.strip() for reason in NOT_PAGES.values())
