"""The KPI dashboard: sections of figures, charts and tables aggregated in the database, for filters.

Other apps add a section with `register(SectionProvider(...))` (crm_sync's sync health) and build theirs
from the aggregates and section types exported here.
"""

from production.kpis.aggregates import (
    DAY,
    HOUR,
    DaysBetween,
    PercentileCont,
    SecondsBetween,
    named_percentiles,
    percent,
    percentiles,
    rounded,
    weekly_aggregates,
    weekly_percentiles,
)
from production.kpis.analysis import LEAD_TIME_BUCKETS, analysis
from production.kpis.dashboard import dashboard, table_by_key
from production.kpis.models import KpiDashboard
from production.kpis.order_kpis import FLOW_SECONDS, change_response, flow_time, on_time, satisfaction
from production.kpis.plant_kpis import load, quality
from production.kpis.sections import (
    Chart,
    Figure,
    KpiFilters,
    Section,
    SectionProvider,
    Series,
    Table,
    parse_filters,
    providers,
    register,
    weeks_of,
)

__all__ = [
    "DAY",
    "FLOW_SECONDS",
    "HOUR",
    "LEAD_TIME_BUCKETS",
    "Chart",
    "DaysBetween",
    "Figure",
    "KpiDashboard",
    "KpiFilters",
    "PercentileCont",
    "SecondsBetween",
    "Section",
    "SectionProvider",
    "Series",
    "Table",
    "analysis",
    "change_response",
    "dashboard",
    "flow_time",
    "load",
    "named_percentiles",
    "on_time",
    "parse_filters",
    "percent",
    "percentiles",
    "providers",
    "quality",
    "register",
    "rounded",
    "satisfaction",
    "table_by_key",
    "weekly_aggregates",
    "weekly_percentiles",
    "weeks_of",
]
