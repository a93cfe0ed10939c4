"""The KPI dashboard's figures, aggregated in the database.

Where it lives and why: the order and production KPIs read orders (and the orders app's change requests and
ratings) and production data, which production may import (apps depend one way: crm_sync -> production ->
orders). Sync health reads crm_sync, which production must not import, so the dashboard is a small
registry of sections: production registers its own below, crm_sync registers "sync health" in its
AppConfig.ready (see crm_sync/outbox/health.py). The view (production/kpis/views.py) renders every
registered section.

Every figure is an aggregate query (annotate/aggregate, TruncWeek); percentiles use PostgreSQL's
percentile_cont, with a fallback for SQLite (development) that reads the one value column and sorts it.

Definitions (also on the page and in README):
- order flow time: confirmed (or entered, when never confirmed) -> production started, per order whose
  production started in the period;
- change response time: a change request's submitted -> decided -> applied -> acknowledged by the MES,
  per request submitted in the period;
- on-time delivery: an order shipped in the period is on time when its shipping date (plant time) is on
  or before its promised date; average lateness is the mean days late of the late ones;
- rework / scrap rate: reworked / scrapped quantity over all reported quantity (good + scrap + rework)
  of progress reports in the period; inspection rejection rate: failed or rework inspections over all;
- customer satisfaction: mean rating (1-5) of ratings given in the period;
- load vs capacity: planned minutes of the current plan per work center and week over its working minutes.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation

from config import shared_cache
from production.kpis.analysis import analysis
from production.kpis.order_kpis import change_response, flow_time, on_time, satisfaction
from production.kpis.plant_kpis import load, quality
from production.kpis.sections import KpiFilters, Section, SectionProvider, Table, providers, register

# production's own sections; crm_sync registers sync health in its AppConfig.ready.
register(SectionProvider("flow_time", flow_time, order=10))
register(SectionProvider("change_response", change_response, order=20))
register(SectionProvider("on_time", on_time, order=30))
register(SectionProvider("quality", quality, order=40))
register(SectionProvider("satisfaction", satisfaction, order=50))
register(SectionProvider("load", load, order=70))
register(SectionProvider("analysis", analysis, order=80))


# --- the dashboard -------------------------------------------------------------------------------------
def dashboard(filters: KpiFilters, *, use_cache: bool = True) -> list[Section]:
    """Every registered section for these filters, cached briefly in the shared cache.

    Figures change slowly and a dashboard is opened by many people at once: KPI_CACHE_SECONDS (60 by
    default) keeps the same filters from re-running every aggregate. 0 turns the cache off.
    """
    seconds = getattr(settings, "KPI_CACHE_SECONDS", 60)
    key = f"kpi:dashboard:{translation.get_language()}:{filters.cache_key()}"
    if use_cache and seconds:
        cached = shared_cache.get(key)
        if cached is not None:
            return cached
    sections = [provider.build(filters) for provider in providers()]
    if use_cache and seconds:
        shared_cache.set(key, sections, seconds)
    return sections


def table_by_key(filters: KpiFilters, key: str) -> Table | None:
    for section in dashboard(filters):
        for table in section.tables:
            if table.key == key:
                return table
    return None
