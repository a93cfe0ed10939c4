"""What higher apps tell the orders app about an order, without orders importing them.

Apps depend one way (crm_sync → production → orders), yet the customer's tracking page and the customer
service desk need production's figures (percent complete, projected date) and production's identifiers
(lot numbers, work order numbers). production registers a provider here in its AppConfig.ready; when no
provider is registered (or it knows nothing), the pages say so instead of inventing a figure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from orders.models import SalesOrder


@dataclass(frozen=True)
class OrderProgress:
    percent_complete: Decimal | None = None
    projected_date: dt.date | None = None  # when the current plan finishes the order
    at_risk: bool = False  # the projection breaks the promised date
    planned: bool = False  # a current plan includes the order


@dataclass(frozen=True)
class SearchHit:
    order_id: int
    matched: str  # what matched, for the result list ("lot L-2026-0007")


# Takes many orders at once (the desk lists 25): answers {order id: progress} for the orders it knows.
ProgressProvider: TypeAlias = "Callable[[list[SalesOrder]], dict[int, OrderProgress]]"
SearchProvider: TypeAlias = Callable[[str], list[SearchHit]]
# The ids of open orders the current plan finishes after their promised date.
AtRiskProvider: TypeAlias = Callable[[], list[int]]

_progress: list[ProgressProvider] = []
_search: list[SearchProvider] = []
_at_risk: list[AtRiskProvider] = []


def register_progress(provider: ProgressProvider) -> ProgressProvider:
    if provider not in _progress:
        _progress.append(provider)
    return provider


def register_search(provider: SearchProvider) -> SearchProvider:
    if provider not in _search:
        _search.append(provider)
    return provider


def register_at_risk(provider: AtRiskProvider) -> AtRiskProvider:
    if provider not in _at_risk:
        _at_risk.append(provider)
    return provider


def orders_progress(orders: list[SalesOrder]) -> dict[int, OrderProgress]:
    """Each order's progress from the first provider that knows it; orders nobody knows are absent."""
    known: dict[int, OrderProgress] = {}
    for provider in _progress:
        missing = [order for order in orders if order.pk not in known]
        if not missing:
            break
        known.update(provider(missing))
    return known


def order_progress(order: SalesOrder) -> OrderProgress | None:
    """The order's progress, or None when nobody knows."""
    return orders_progress([order]).get(order.pk)


def search_hits(term: str) -> list[SearchHit]:
    hits: list[SearchHit] = []
    for provider in _search:
        hits.extend(provider(term))
    return hits


def orders_at_risk() -> list[int]:
    """Ids of the orders some provider says are at risk (none when nobody plans)."""
    ids: list[int] = []
    for provider in _at_risk:
        ids.extend(provider())
    return ids
