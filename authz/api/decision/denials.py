"""The denial writer: every denied decision of a request becomes an audit event (one chain lock for
the whole request), whose id is the decision id."""

from __future__ import annotations

from django.http import HttpRequest

from api_clients.models import ApiClient
from audit.models import Outcome
from audit.services import ClientEvent, audit_record_client_events
from authz import actions
from authz.api.decision.deciding import Denial
from authz.api.decision.ids import DecisionIds
from authz.cache import fact_cache
from hansken_governance.request_context import client_address


def record_denials(
    request: HttpRequest, client: ApiClient, denials: list[Denial], count: int, use_cache: bool
) -> DecisionIds:
    """The decision ids of a request of ``count`` checks; every denied decision among them becomes
    an audit event (one chain lock for the whole batch), whose id is the decision id, with the
    person's roles. Allows are not stored here: the usage event that follows records the access
    itself."""
    ids = DecisionIds(count)
    events: list[ClientEvent] = []
    roles = fact_cache.roles_of({check[0][0] for _, check, _ in denials}, use_cache) if denials else {}
    for index, ((user, project_id, action), trace_uid, image_id, correlation_id), decision in denials:
        details = {"requested_action": action, "reason": decision.reason}
        if correlation_id:
            details["correlation_id"] = correlation_id
        grant_id = decision.grant_id
        events.append(
            ClientEvent(ids[index], user, project_id, image_id, trace_uid, grant_id, details, roles[user])
        )
    if events:
        audit_record_client_events(
            events,
            action=actions.DECISION_DENIED,
            outcome=Outcome.DENIED,
            client_name=client.name,
            environment=client.environment,
            source_address=client_address(request),
            request_id=getattr(request, "request_id", ""),
        )
    return ids
