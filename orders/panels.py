"""Panels that higher apps add to the order page.

orders must not import production or crm_sync (apps depend one way), yet the order page is where a
person wants to see work orders, changes and sync status. A higher app registers a panel in its
AppConfig.ready; the order page renders every registered panel the user may see, in ``order``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from orders.models import SalesOrder

# (order, user) -> the panel template's context, or None to hide the panel from this user.
PanelContext: TypeAlias = "Callable[[SalesOrder, User], dict[str, Any] | None]"


@dataclass(frozen=True)
class OrderPanel:
    key: str  # unique, also the DOM id suffix
    template: str  # rendered with the context returned by ``context``
    context: PanelContext
    column: str = "main"  # "main" (wide, left) or "side" (narrow, right)
    order: int = 100  # lower first


_panels: dict[str, OrderPanel] = {}


def register(panel: OrderPanel) -> OrderPanel:
    _panels[panel.key] = panel
    return panel


def panels_for(order: SalesOrder, user: User, *, column: str) -> list[dict[str, Any]]:
    rendered: list[dict[str, Any]] = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key)):
        if panel.column != column:
            continue
        context = panel.context(order, user)
        if context is None:
            continue
        rendered.append({"key": panel.key, "template": panel.template, "context": context})
    return rendered
