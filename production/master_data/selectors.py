"""Reads of master data for pages and endpoints."""

from __future__ import annotations

from django.db.models import QuerySet

from production.master_data.models import Routing, WorkCenter


def work_centers() -> QuerySet[WorkCenter]:
    return WorkCenter.objects.prefetch_related("shifts").order_by("code")


def routings() -> QuerySet[Routing]:
    return Routing.objects.select_related("product").prefetch_related("operations__work_center")
