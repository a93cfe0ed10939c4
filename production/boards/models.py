"""The shop-floor boards' permission (a page, not a model of its own)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ShopFloorBoard(models.Model):
    """No table: carries the permission to read the work centers' shop-floor boards."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_board", _("Can view the shop-floor boards"))]
        verbose_name = _("shop-floor board")
        verbose_name_plural = _("shop-floor boards")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
