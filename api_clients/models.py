"""Machine clients (one per Hansken environment or CI system) and people's personal tokens; only a
digest of each token is stored."""

from __future__ import annotations

import datetime
import functools
import ipaddress

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hansken_governance.environments import Environment


# The decision API checks a client's allowed sources on every request: each network's text is
# parsed once per process (about 4 µs a network per request otherwise), not once per request.
@functools.lru_cache(maxsize=256)
def allowed_networks(sources: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(source, strict=False) for source in sources)


class ApiClient(models.Model):
    """A machine client: one per Hansken environment, or a CI system."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    environment = models.CharField(_("environment"), max_length=20, choices=Environment.choices)
    scopes = models.JSONField(_("scopes"), default=list)
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    token_hint = models.CharField(_("token starts with"), max_length=16, editable=False)
    expires_at = models.DateTimeField(_("expires at"))
    allowed_sources = models.JSONField(
        _("allowed source addresses"),
        default=list,
        blank=True,
        help_text=_("Addresses or networks (CIDR) the client may call from; empty allows any."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.CharField(_("created by"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.environment})"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def accepts_source(self, address: str | None) -> bool:
        if not self.allowed_sources:
            return True
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in allowed_networks(tuple(self.allowed_sources)))

    def is_usable(self, now: datetime.datetime | None = None) -> bool:
        return self.is_active and self.expires_at > (now or timezone.now())


class PersonalToken(models.Model):
    """A person's token for scripts: acts with exactly that person's rights."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_tokens",
        verbose_name=_("person"),
    )
    name = models.CharField(_("name"), max_length=100, default="script")
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    token_hint = models.CharField(_("token starts with"), max_length=16, editable=False)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("personal token")
        verbose_name_plural = _("personal tokens")

    def __str__(self) -> str:
        return f"{self.user.get_username()}: {self.name} ({self.token_hint}…)"

    def is_usable(self, now: datetime.datetime | None = None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or timezone.now()) and self.user.is_active
