"""The KPI dashboard's permission (the dashboard is a page, not a model of its own)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class KpiDashboard(models.Model):
    """No table: carries the permission to read the KPI dashboard (a page, not a model of its own)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_kpi_dashboard", _("Can view the KPI dashboard"))]
        verbose_name = _("KPI dashboard")
        verbose_name_plural = _("KPI dashboard")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
