"""The text of the "monitoring alert" notification, rendered in the reader's language when shown.

Registered with ``notifications.messages`` when the app starts, so the notifications room needs no
knowledge of monitoring rules."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def alert_cases_text(
    *, project_id: Any, cases: list[str], case_count: int, numbers: dict[str, str] | None = None
) -> str:
    """The case(s) of an alert in words. A rule per person and case names its one case; a rule per
    person (a burst of denied decisions or exports) counts across cases and names the cases it
    touched, saying plainly how many there were; "-" only for a rule that is about no case."""
    named = [str(project_id)] if project_id else [str(case) for case in cases]
    total = 1 if project_id else max(case_count, len(named))
    if not named:
        return "-"
    labels = [f"{numbers[case]} ({case})" if numbers and case in numbers else case for case in named]
    if total == 1:
        return labels[0]
    values = {"count": total, "cases": ", ".join(labels)}
    if total > len(named):
        return _("%(count)s cases, among them %(cases)s") % values
    return _("%(count)s cases: %(cases)s") % values


def _monitoring_alert(p: dict[str, Any]) -> tuple[str, str]:
    from siem.models import Severity
    from siem.rules import rule_label

    values = dict(p)
    values["rule"] = rule_label(p.get("rule", ""))
    # The severity in the reader's words (the notification keeps its code).
    severity = p.get("severity")
    values["severity"] = str(Severity(severity).label) if severity in Severity.values else severity or "-"
    values["person"] = p.get("person") or "-"
    values["case"] = alert_cases_text(
        project_id=p.get("case"),
        cases=p.get("cases") or [],
        case_count=p.get("case_count") or 0,
        numbers=p.get("case_numbers") or {},  # absent in notifications written before it was kept
    )
    return (
        _("Monitoring alert: %(rule)s") % values,
        ngettext(
            "Monitoring alert (%(severity)s): %(rule)s. Person: %(person)s. Case: %(case)s. "
            "Seen %(count)s time since %(first_seen)s. Review and acknowledge it on the monitoring page.",
            "Monitoring alert (%(severity)s): %(rule)s. Person: %(person)s. Case: %(case)s. "
            "Seen %(count)s times since %(first_seen)s. Review and acknowledge it on the monitoring page.",
            int(values.get("count") or 0),
        )
        % values,
    )


def register() -> None:
    from notifications.messages import RENDERERS

    RENDERERS.setdefault("monitoring_alert", _monitoring_alert)
