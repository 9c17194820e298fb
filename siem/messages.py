"""The text of the "monitoring alert" notification, rendered in the reader's language when shown.

Registered with ``notifications.messages`` when the app starts, so the notifications room needs no
knowledge of monitoring rules."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _


def _monitoring_alert(p: dict[str, Any]) -> tuple[str, str]:
    from siem.rules import Rule

    values = dict(p)
    values["rule"] = str(Rule(p["rule"]).label) if p.get("rule") in Rule.values else p.get("rule", "")
    values["person"] = p.get("person") or "-"
    values["case"] = p.get("case") or "-"
    return (
        _("Monitoring alert: %(rule)s") % values,
        _(
            "Monitoring alert (%(severity)s): %(rule)s. Person: %(person)s. Case: %(case)s. "
            "Seen %(count)s times since %(first_seen)s. Review and acknowledge it on the monitoring page."
        )
        % values,
    )


def register() -> None:
    from notifications.messages import RENDERERS

    RENDERERS.setdefault("monitoring_alert", _monitoring_alert)
