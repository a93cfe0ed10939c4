"""API tokens: only a SHA-256 digest of each secret is stored; the secret itself is shown once."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    # The first characters of the secret, shown in lists so that a user can tell their tokens apart.
    prefix = models.CharField(_("prefix"), max_length=16)
    # sha256 hex of the whole secret. A plain, unsalted hash is enough: the secret has 256 bits of entropy,
    # so no dictionary applies, and one indexed lookup per request stays cheap (no slow KDF per call).
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_active(self, at: dt.datetime | None = None) -> bool:
        return self.revoked_at is None and self.expires_at > (at or timezone.now())

    def status(self) -> str:
        if self.revoked_at is not None:
            return str(_("revoked"))
        if not self.is_active():
            return str(_("expired"))
        return str(_("active"))
