"""Browser pages of the privacy statement: the public statement with its version picker and the
comparison of two versions (no sign-in), a person's acknowledgement, and the privacy officer's
drafting, preview, publication and list of who acknowledged. Plain forms, no JavaScript; every write
goes through ``privacy_statement.services``."""

from __future__ import annotations

import csv
import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.actor import Actor
from people.roles import Role
from privacy_statement import selectors, services
from privacy_statement.diff import side_by_side
from privacy_statement.facts import FACTS, live_facts, stale_facts, substitute
from privacy_statement.forms import DraftForm, PublishForm, refusal_words
from privacy_statement.models import LANGUAGES, Acknowledgement, StatementVersion, VersionStatus
from privacy_statement.rendering import render as render_markdown
from retention.views import role_required

officer_only = role_required(Role.PRIVACY_OFFICER)


def _language() -> str:
    language = (translation.get_language() or "nl")[:2]
    return language if language in LANGUAGES else "nl"


def _person(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


# Everyone, signed in or not


def statement(request: HttpRequest) -> HttpResponse:
    versions = list(selectors.published_versions())
    in_force = selectors.version_in_force()
    wanted = request.GET.get("version", "")
    if wanted:
        shown = next((v for v in versions if str(v.number) == wanted), None)
        if shown is None:
            raise Http404
    else:
        shown = in_force
    acknowledged = None
    if shown is not None and request.user.is_authenticated:
        acknowledged = Acknowledgement.objects.filter(version=shown, person_id=request.user.pk).first()
    language = _language()
    return render(
        request,
        "privacy_statement/statement.html",
        {
            "versions": versions,
            "shown": shown,
            "in_force": in_force,
            "upcoming": shown is not None
            and shown.effective_from is not None
            and shown.effective_from > timezone.now(),
            "title": shown.title(language) if shown else "",
            "body_html": shown.html(language) if shown else "",
            "change_summary": shown.change_summary(language) if shown else "",
            "acknowledged": acknowledged,
            "api_url": reverse("api-privacy-statement"),
        },
    )


def _version_ref(user: Any, ref: str) -> StatementVersion:
    """``3`` is published version 3; ``draft-7`` is draft 7, for the privacy officer only."""
    visible = selectors.versions_visible_to(user)
    if ref.isdigit():
        return get_object_or_404(visible, status=VersionStatus.PUBLISHED, number=int(ref))
    if ref.startswith("draft-") and ref[6:].isdigit():
        return get_object_or_404(visible, status=VersionStatus.DRAFT, pk=int(ref[6:]))
    raise Http404


def version_ref(version: StatementVersion) -> str:
    return str(version.number) if version.is_published else f"draft-{version.pk}"


def _text_of(version: StatementVersion, language: str, facts: dict[str, int]) -> str:
    """What a reader gets: a published version's frozen Markdown; a draft's with today's facts."""
    if version.is_published:
        return version.markdown(language)
    return substitute(version.source(language), facts)


def compare(request: HttpRequest) -> HttpResponse:
    visible = list(selectors.versions_visible_to(request.user).order_by("-status", "-number", "-pk"))
    refs = [(version_ref(v), v) for v in visible]
    left_ref = request.GET.get("from", "")
    right_ref = request.GET.get("to", "")
    if not left_ref and not right_ref:
        # Default: the two newest versions, older on the left.
        published = [v for v in visible if v.is_published]
        if len(published) >= 2:
            left_ref, right_ref = version_ref(published[1]), version_ref(published[0])
    context: dict[str, Any] = {"refs": refs, "left_ref": left_ref, "right_ref": right_ref, "rows": None}
    if left_ref and right_ref:
        left, right = _version_ref(request.user, left_ref), _version_ref(request.user, right_ref)
        language = request.GET.get("lang") or _language()
        if language not in LANGUAGES:
            raise Http404
        facts = live_facts()
        rows = side_by_side(
            f"# {left.title(language)}\n\n{_text_of(left, language, facts)}",
            f"# {right.title(language)}\n\n{_text_of(right, language, facts)}",
        )
        context.update(
            left=left,
            right=right,
            language=language,
            other_language="en" if language == "nl" else "nl",
            rows=rows,
            changed=sum(1 for row in rows if row.kind != "equal"),
        )
    return render(request, "privacy_statement/compare.html", context)


@require_POST
@login_required
def acknowledge(request: HttpRequest) -> HttpResponse:
    number = request.POST.get("version", "")
    version = get_object_or_404(
        selectors.published_versions(), number=int(number) if number.isdigit() else -1
    )
    try:
        services.statement_acknowledge(
            version=version, person=_person(request), by=Actor.from_request(request)
        )
    except ValidationError as error:
        for message in refusal_words(error):
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("Thank you: you confirmed that you read version %(version)s.") % {"version": version.number},
        )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = f"{reverse('privacy-statement')}?version={version.number}"
    return redirect(target)


# The privacy officer


def _fact_rows() -> list[dict[str, Any]]:
    values = live_facts()
    return [{"name": fact.name, "label": fact.label, "value": values[fact.name]} for fact in FACTS]


@officer_only
def manage(request: HttpRequest) -> HttpResponse:
    versions = list(selectors.versions_for_officer())
    now_facts = live_facts()
    now = timezone.now()
    in_force = selectors.version_in_force(now)
    people = selectors.people().filter(is_active=True).count()
    rows = []
    for version in versions:
        current_or_coming = version.is_published and (
            (in_force is not None and version.pk == in_force.pk) or (version.effective_from or now) > now
        )
        rows.append(
            {
                "version": version,
                "ref": version_ref(version),
                "in_force": in_force is not None and version.pk == in_force.pk,
                "stale": stale_facts(version, now_facts) if current_or_coming else [],
            }
        )
    return render(
        request,
        "privacy_statement/manage.html",
        {"rows": rows, "facts": _fact_rows(), "people": people, "in_force": in_force},
    )


@require_POST
@officer_only
def draft_new(request: HttpRequest) -> HttpResponse:
    # A new version starts as a copy of the newest published one: corrections are small edits.
    latest = selectors.published_versions().first()
    texts = {name: getattr(latest, name) for name in services.TEXT_FIELDS} if latest else {}
    draft = services.statement_draft_create(author=_person(request), by=Actor.from_request(request), **texts)
    messages.success(request, _("A new draft is ready."))
    return redirect("privacy-draft", draft_id=draft.pk)


def _preview(texts: dict[str, str]) -> list[dict[str, str]]:
    facts = live_facts()
    return [
        {
            "language": language,
            "title": texts.get(f"title_{language}", ""),
            "html": render_markdown(substitute(texts.get(f"source_{language}", ""), facts)),
        }
        for language in LANGUAGES
    ]


@officer_only
def draft(request: HttpRequest, draft_id: int) -> HttpResponse:
    version = get_object_or_404(StatementVersion, pk=draft_id)
    if version.is_published:
        return redirect(f"{reverse('privacy-statement')}?version={version.number}")
    person, by = _person(request), Actor.from_request(request)
    initial = {name: getattr(version, name) for name in services.TEXT_FIELDS}
    form = DraftForm(initial=initial)
    publish_form = PublishForm(initial={"effective_date": timezone.localdate()})
    preview = _preview(initial)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action in ("save", "preview"):
            form = DraftForm(request.POST)
            if form.is_valid():
                if action == "preview":
                    # Rendered from what was typed, stored only on "save".
                    preview = _preview(form.cleaned_data)
                    messages.info(request, _("Preview below; the draft is not saved yet."))
                    return render(
                        request,
                        "privacy_statement/draft.html",
                        _draft_context(version, form, publish_form, preview),
                    )
                try:
                    _saved, changed = services.statement_draft_update(
                        version=version, author=person, by=by, **form.cleaned_data
                    )
                except ValidationError as error:
                    form.add_service_error(error)
                else:
                    messages.success(request, _("Draft saved.") if changed else _("Nothing changed."))
                    return redirect("privacy-draft", draft_id=version.pk)
        elif action == "publish":
            publish_form = PublishForm(request.POST)
            if publish_form.is_valid():
                data = publish_form.cleaned_data
                try:
                    published = services.statement_publish(
                        version=version,
                        effective_from=services.start_of_day(data["effective_date"]),
                        change_summary_nl=data["change_summary_nl"],
                        change_summary_en=data["change_summary_en"],
                        publisher=person,
                        by=by,
                    )
                except ValidationError as error:
                    publish_form.add_service_error(error)
                else:
                    messages.success(
                        request,
                        _("Version %(version)s is published; it is in force from %(date)s.")
                        % {"version": published.number, "date": data["effective_date"].isoformat()},
                    )
                    return redirect("privacy-manage")
        elif action == "discard":
            services.statement_draft_discard(version=version, author=person, by=by)
            messages.success(request, _("The draft is discarded."))
            return redirect("privacy-manage")
        status = 400
    return render(
        request,
        "privacy_statement/draft.html",
        _draft_context(version, form, publish_form, preview),
        status=status,
    )


def _draft_context(
    version: StatementVersion, form: DraftForm, publish_form: PublishForm, preview: Any
) -> dict[str, Any]:
    in_force = selectors.version_in_force()
    return {
        "version": version,
        "ref": version_ref(version),
        "in_force_ref": version_ref(in_force) if in_force else None,
        "form": form,
        "publish_form": publish_form,
        "preview": preview,
        "facts": _fact_rows(),
    }


@officer_only
def acknowledgements(request: HttpRequest, number: int) -> HttpResponse:
    version = get_object_or_404(selectors.published_versions(), number=number)
    rows = selectors.acknowledgement_rows(version)
    done = [row for row in rows if row["ack__acknowledged_at"]]
    return render(
        request,
        "privacy_statement/acknowledgements.html",
        {
            "version": version,
            "done": done,
            "waiting": [row for row in rows if not row["ack__acknowledged_at"]],
        },
    )


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _utc(moment: datetime.datetime | None) -> str:
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z") if moment else ""


@officer_only
def acknowledgements_csv(request: HttpRequest, number: int) -> HttpResponse:
    version = get_object_or_404(selectors.published_versions(), number=number)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="privacy-statement-v{version.number}-acknowledgements.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(
        ["version", "username", "name", "active", "acknowledged", "acknowledged_at", "channel", "client"]
    )
    for row in selectors.acknowledgement_rows(version):
        writer.writerow(
            [
                version.number,
                _cell(row["username"]),
                _cell(f"{row['first_name']} {row['last_name']}".strip()),
                "yes" if row["is_active"] else "no",
                "yes" if row["ack__acknowledged_at"] else "no",
                _utc(row["ack__acknowledged_at"]),
                _cell(row["ack__channel"]),
                _cell(row["ack__client_name"]),
            ]
        )
    return response
