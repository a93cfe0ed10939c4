"""The travellers' permission (a printout, not a model of its own)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Traveller(models.Model):
    """No table: carries the permission to print work-order travellers."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("print_traveller", _("Can print work-order travellers"))]
        verbose_name = _("work-order traveller")
        verbose_name_plural = _("work-order travellers")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
