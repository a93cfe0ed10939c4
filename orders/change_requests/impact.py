"""What a change request would do, and whom it needs: the impact analysis and the approval matrix.

Apps depend one way (crm_sync → production → orders): orders cannot ask production what a change does to
work under way, so production registers a provider in its AppConfig.ready (`register_impact_provider`);
`analyse` asks every registered provider. Without one (orders alone) the analysis says it is unavailable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypedDict

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy

from orders.change_requests.change_lists import operation_reasons
from orders.change_requests.models import Disposition
from orders.change_requests.operations import DiffRow
from orders.sales.models import SalesOrder


class WorkImpact(TypedDict, total=False):
    """What a provider answers; every key optional."""

    lines: list[dict[str, Any]]  # per work order: what happens to it (production.changes.plans.Step)
    work_started: bool
    reduces_started_work: bool
    delays_other_orders: list[dict[str, Any]]
    surplus_quantity: str
    rework_quantity: str
    cancelled_made_quantity: str
    projected_before: str | None
    projected_after: str | None
    promised_date: str | None
    late_after: bool
    notes: list[str]
    errors: dict[str, list[str]]  # the change is impossible: field → messages


class Impact(WorkImpact, total=False):
    """What a change request stores (ChangeRequest.impact) and shows to approvers."""

    available: bool
    computed_at: str
    # Set on submit:
    manager_reasons: list[str]
    disposition_choices: list[str]
    diff: list[DiffRow]


ImpactProvider = Callable[..., WorkImpact]
_impact_providers: list[ImpactProvider] = []

# Why a production manager must approve too (codes stored in the impact; labels shown to people).
MANAGER_REASONS = {
    "work_started": gettext_lazy("work has started on an affected line"),
    "reduces_started_work": gettext_lazy("the change cancels or reduces work already started"),
    "delays_other_orders": gettext_lazy("the change pushes another order past its promised date"),
    "cancels_released_order": gettext_lazy(
        "the change cancels an order released to production (only a production manager may)"
    ),
}


def register_impact_provider(provider: ImpactProvider) -> ImpactProvider:
    """Register `provider(*, order, changes) -> WorkImpact` (production's, in its AppConfig.ready)."""
    if provider not in _impact_providers:
        _impact_providers.append(provider)
    return provider


def analyse(*, order: SalesOrder, changes: Sequence[Mapping[str, Any]]) -> Impact:
    """What the (validated) changes would do, as far as the registered providers can tell."""
    impact: Impact = {"available": bool(_impact_providers), "errors": {}}
    for provider in _impact_providers:
        result = (provider(order=order, changes=changes) or WorkImpact()).copy()
        for key, messages in (result.pop("errors", None) or {}).items():
            impact["errors"].setdefault(key, []).extend(messages)
        impact.update(result)
    impact["computed_at"] = timezone.now().isoformat()
    return impact


def manager_reasons(
    impact: Mapping[str, Any], *, order: SalesOrder, changes: Sequence[Mapping[str, Any]]
) -> list[str]:
    """The approval matrix: codes of the reasons a production manager must approve.

    What the change does to work under way counts as settings decide; what the change itself is counts
    always (cancelling a released order: the cancel rule of orders.sales.policies).
    """
    reasons = []
    if settings.CHANGE_REQUEST_MANAGER_WHEN_WORK_STARTED and impact.get("work_started"):
        reasons.append("work_started")
    if settings.CHANGE_REQUEST_MANAGER_WHEN_REDUCING_STARTED and impact.get("reduces_started_work"):
        reasons.append("reduces_started_work")
    if settings.CHANGE_REQUEST_MANAGER_WHEN_DELAYING_OTHERS and impact.get("delays_other_orders"):
        reasons.append("delays_other_orders")
    return reasons + operation_reasons(order=order, changes=changes)


def disposition_choices(impact: Mapping[str, Any]) -> list[str]:
    """The dispositions an approver may pick; empty when nothing made is affected."""
    if Decimal(str(impact.get("rework_quantity") or 0)) > 0:
        return [Disposition.REWORK, Disposition.SCRAP]
    made = Decimal(str(impact.get("surplus_quantity") or 0)) + Decimal(
        str(impact.get("cancelled_made_quantity") or 0)
    )
    return list(Disposition.values) if made > 0 else []
