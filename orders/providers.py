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
class WorkOrderState:
    """One work order of an order's current revision, as the order's lifecycle needs to know it."""

    number: str
    product: str  # the product's SKU
    done: Decimal  # good quantity made
    planned: Decimal
    status: str
    status_label: str
    started: bool  # work was reported or the work order was started
    closed: bool  # completed, or cancelled (a planner's decision, or a disposition's)
    completed: bool


@dataclass(frozen=True)
class OrderWork:
    """An order's work orders (its current revision): what says whether it has started or is finished."""

    work_orders: tuple[WorkOrderState, ...] = ()

    @property
    def started(self) -> bool:
        """Production really started: some work order was started or had work reported."""
        return any(work_order.started for work_order in self.work_orders)

    @property
    def finished(self) -> bool:
        """Every work order is closed and at least one was completed: something was made."""
        return (
            bool(self.work_orders)
            and all(w.closed for w in self.work_orders)
            and any(w.completed for w in self.work_orders)
        )

    @property
    def unfinished(self) -> tuple[WorkOrderState, ...]:
        return tuple(work_order for work_order in self.work_orders if not work_order.closed)


@dataclass(frozen=True)
class SearchHit:
    order_id: int
    matched: str  # what matched, for the result list ("lot L-2026-0007")


# Takes many orders at once (the desk lists 25): answers {order id: progress} for the orders it knows.
ProgressProvider: TypeAlias = "Callable[[list[SalesOrder]], dict[int, OrderProgress]]"
SearchProvider: TypeAlias = Callable[[str], list[SearchHit]]
# The ids of open orders the current plan finishes after their promised date.
AtRiskProvider: TypeAlias = Callable[[], list[int]]
# An order's work orders (None: the provider knows nothing of the order).
WorkProvider: TypeAlias = "Callable[[SalesOrder], OrderWork | None]"

_progress: list[ProgressProvider] = []
_search: list[SearchProvider] = []
_at_risk: list[AtRiskProvider] = []
_work: list[WorkProvider] = []


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


def register_work(provider: WorkProvider) -> WorkProvider:
    if provider not in _work:
        _work.append(provider)
    return provider


def order_work(order: SalesOrder) -> OrderWork:
    """The order's work orders from the first provider that knows them; none known: no work at all (an order
    nothing was made for cannot be said to have started or finished)."""
    for provider in _work:
        work = provider(order)
        if work is not None:
            return work
    return OrderWork()


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
