"""Browser pages of release test reports: the releases (newest first, a pass-rate bar per kind, the
trend across releases) and one release (per kind its counts and every test that did not pass).
Every signed-in person reads them; engineers also create releases and upload reports here."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from audit.actor import Actor
from test_reports import charts, selectors, services, upload
from test_reports.forms import ReleaseForm, ReportUploadForm
from test_reports.models import Kind
from test_reports.rights import may_publish


@login_required
def release_list(request: HttpRequest) -> HttpResponse:
    may = may_publish(request.user)
    form = ReleaseForm()
    status = 200
    if request.method == "POST":
        if not may:
            return HttpResponse(status=403)
        form = ReleaseForm(request.POST)
        if form.is_valid():
            try:
                release = services.release_create(
                    version=form.cleaned_data["version"],
                    released_at=form.released_at(),
                    notes=form.cleaned_data["notes"],
                    by=Actor.from_request(request),
                )
            except ValidationError as error:
                form.add_service_error(error)
            else:
                messages.success(
                    request, _("Release %(version)s was created.") % {"version": release.version}
                )
                return redirect("release-detail", release.version)
        status = 400
    releases = list(selectors.releases_newest_first())
    rows = [{"release": release, "kinds": selectors.kind_summaries(release)} for release in releases]
    context = {
        "rows": rows,
        "trend": charts.trend_chart(selectors.trend()),
        "form": form,
        "may_publish": may,
    }
    return render(request, "test_reports/release_list.html", context, status=status)


@csrf_exempt
def release_detail(request: HttpRequest, version: str) -> HttpResponse:
    # The size cap must stand in front of Django's upload handlers before anything reads the body,
    # and the CSRF check reads it: so the cap goes in first and the check is made just after.
    if request.method == "POST":
        upload.install_cap(request)
    return _release_detail(request, version)


@csrf_protect
@login_required
def _release_detail(request: HttpRequest, version: str) -> HttpResponse:
    release = selectors.release_by_version(version)
    may = may_publish(request.user)
    form = ReportUploadForm()
    status = 200
    if request.method == "POST":
        if not may:
            return HttpResponse(status=403)
        if upload.declared_too_large(request):
            form = ReportUploadForm()
            form.add_error("file", _too_large_words())
            status = 413
        else:
            form = ReportUploadForm(request.POST, request.FILES)
            if upload.too_large(request):
                form.is_valid()
                form.errors.pop("file", None)
                form.add_error("file", _too_large_words())
                status = 413
            elif form.is_valid():
                file = form.cleaned_data["file"]
                try:
                    report = services.report_upload(
                        release=release,
                        kind=form.cleaned_data["kind"],
                        source=file,
                        original_name=file.name or "",
                        by=Actor.from_request(request),
                    )
                except ValidationError as error:
                    form.add_service_error(error)
                    status = 400
                else:
                    messages.success(
                        request,
                        _("The %(kind)s report (%(tests)s tests) was stored.")
                        % {"kind": Kind(report.kind).label, "tests": report.tests},
                    )
                    return redirect("release-detail", release.version)
            else:
                status = 400
    context = {
        "release": release,
        "kinds": selectors.kind_summaries(release, with_tests=True),
        "form": form,
        "may_publish": may,
    }
    return render(request, "test_reports/release_detail.html", context, status=status)


def _too_large_words() -> str:
    return _("The file is larger than %(limit)s bytes, the most a test report may be.") % {
        "limit": upload.max_bytes()
    }
