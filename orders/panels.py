"""Panels that higher apps add to the order page.

orders must not import production or crm_sync (apps depend one way), yet the order page is where a
person wants to see work orders, changes and sync status. A higher app registers a panel in its
AppConfig.ready; the order page renders every registered panel the user may see, in ``order``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

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


# --- reads several panels share --------------------------------------------------------------------------
_T = TypeVar("_T")
_shared: ContextVar[dict[str, Any] | None] = ContextVar("order_panels_shared", default=None)


@contextmanager
def one_page() -> Iterator[None]:
    """While the panels of one order page are built: `shared` reads are made once for all of them."""
    token = _shared.set({})
    try:
        yield
    finally:
        _shared.reset(token)


def shared(key: str, read: Callable[[], _T]) -> _T:
    """`read()`, once per order page for `key` (e.g. "production.projection:<order id>") when several panels
    need the same rows; outside a page (a panel built alone), simply `read()`."""
    memo = _shared.get()
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    value: _T = memo[key]
    return value
