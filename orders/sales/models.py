"""Sales orders and their lines, with the statuses an order goes through.

Model module: imports only other model modules, the order policies (django-fsm permissions) and the kernel
(it loads while `orders.models` does).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, transition

from config.history import HistoricalRecords
from orders.catalog.models import Customer, Priority, Product
from orders.sales.policies import can_cancel, can_hold, transition_permission

# The attribute that holds an order's lines loaded with it (orders.sales.lines), as a
# Prefetch("lines", to_attr=LOADED_LINES) would: a list in line order, products and families loaded.
LOADED_LINES = "loaded_lines"


class OrderNumberAllocation(models.Model):
    """One row per issued order number.

    The auto-increment key is the counter: the database hands out distinct values to concurrent
    transactions without holding a lock until commit, so order intake never serialises on a counter row.
    A rolled-back order leaves a gap, never a duplicate.
    """

    allocated_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("order number allocation")
        verbose_name_plural = _("order number allocations")

    def __str__(self) -> str:
        return str(self.pk)


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    CONFIRMED = "confirmed", _("Confirmed")
    RELEASED = "released", _("Released")
    IN_PRODUCTION = "in_production", _("In production")
    COMPLETED = "completed", _("Completed")
    SHIPPED = "shipped", _("Shipped")
    CLOSED = "closed", _("Closed")
    ON_HOLD = "on_hold", _("On hold")
    CANCELLED = "cancelled", _("Cancelled")


# Groups of statuses used in queries and rules.
EDITABLE_STATUSES = (OrderStatus.DRAFT, OrderStatus.CONFIRMED)
OPEN_STATUSES = (
    OrderStatus.DRAFT,
    OrderStatus.CONFIRMED,
    OrderStatus.RELEASED,
    OrderStatus.IN_PRODUCTION,
    OrderStatus.ON_HOLD,
)
HOLDABLE_STATUSES = (OrderStatus.CONFIRMED, OrderStatus.RELEASED, OrderStatus.IN_PRODUCTION)
CANCELLABLE_STATUSES = (
    OrderStatus.DRAFT,
    OrderStatus.CONFIRMED,
    OrderStatus.RELEASED,
    OrderStatus.IN_PRODUCTION,
    OrderStatus.ON_HOLD,
)


# The conditions of transitions, as django-fsm calls them (with the order whose transition it is).
def _has_lines(order: models.Model) -> bool:
    return isinstance(order, SalesOrder) and order.has_lines()


def _has_promised_date(order: models.Model) -> bool:
    return isinstance(order, SalesOrder) and order.has_promised_date()


class SalesOrder(models.Model):
    """A customer's order, known by one number in the CRM, OrderBridge and the MES.

    `version` goes up on every write and guards against lost updates (optimistic concurrency);
    `revision` is the business revision that production and the external systems refer to.
    Status changes only through the transitions below, called by the order services (`orders.sales`).
    """

    number = models.CharField(_("order number"), max_length=32, unique=True, editable=False)
    crm_id = models.CharField(_("CRM id"), max_length=64, blank=True, db_index=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="orders", verbose_name=_("customer")
    )
    customer_po = models.CharField(_("customer PO"), max_length=64, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="sales_orders",
        verbose_name=_("sales owner"),
    )
    requested_date = models.DateField(_("requested date"), null=True, blank=True)
    promised_date = models.DateField(_("promised date"), null=True, blank=True)
    # The time of day the promise is due, when the customer was given one; a date alone means the end of
    # that day in the plant's time zone (production.scheduling reads both).
    promised_time = models.TimeField(_("promised time"), null=True, blank=True)
    # The user's release time, to the minute: production does not start before it (the material arrives,
    # the customer's drawing is approved then). The engines and the delivery-date quote respect it.
    start_not_before = models.DateTimeField(_("production not before"), null=True, blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    priority_overridden = models.BooleanField(_("priority overridden"), default=False)
    priority_reason = models.CharField(_("priority reason"), max_length=300, blank=True)
    remarks = models.TextField(_("remarks"), blank=True)
    status = FSMField(
        _("status"), default=OrderStatus.DRAFT, choices=OrderStatus.choices, protected=True, db_index=True
    )
    status_before_hold = models.CharField(max_length=20, blank=True, editable=False)
    revision = models.PositiveIntegerField(_("revision"), default=1, editable=False)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True, editable=False)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True, editable=False)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True, editable=False)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True, editable=False)
    # Set by the start_production transition; the order flow time KPI ends here.
    production_started_at = models.DateTimeField(
        _("production started at"), null=True, blank=True, editable=False
    )
    # The reference of the spreadsheet row (or other source) the order was imported from: re-importing the
    # same file finds it and creates no duplicate.
    external_ref = models.CharField(_("external reference"), max_length=100, blank=True, editable=False)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    # Set only when loaded (see LOADED_LINES); not a class attribute, so that a to_attr prefetch still runs.
    loaded_lines: list[OrderLine]

    if TYPE_CHECKING:
        # What django-simple-history reads or adds: the time of the next save's history row when it is not
        # the save's own (a transition step whose row is written later, in a batch), and the save that
        # writes no history row.
        _history_date: dt.datetime

        def save_without_historical_record(self, *args: Any, **kwargs: Any) -> None: ...

    class Meta:
        verbose_name = _("sales order")
        verbose_name_plural = _("sales orders")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("view_all_salesorders", _("Can view every sales order")),
            ("edit_any_salesorder", _("Can edit any sales order, not only own")),
            ("confirm_salesorder", _("Can confirm sales orders")),
            ("release_salesorder", _("Can release sales orders to production")),
            ("progress_salesorder", _("Can record production progress of sales orders")),
            ("ship_salesorder", _("Can ship sales orders")),
            ("close_salesorder", _("Can close sales orders")),
            ("hold_salesorder", _("Can hold and resume sales orders")),
            ("cancel_salesorder", _("Can cancel sales orders")),
            ("cancel_released_salesorder", _("Can cancel sales orders already released to production")),
            ("prioritise_salesorder", _("Can change the priority of any open order")),
            (
                "override_progress_salesorder",
                _("Can start production or complete an order ahead of its work orders (override)"),
            ),
        ]
        indexes = [
            # INCLUDE id: a KPI filtered by customer or tier joins its rows to that customer's orders
            # through an index-only scan here instead of reading every order.
            models.Index(fields=["customer", "status"], include=["id"], name="order_customer_status_idx"),
            # The KPI dashboard reads orders by the moment they were entered, shipped or production
            # started. A period is a quarter of a year of orders spread over every heap page, so these
            # indexes carry the few columns the figures read (INCLUDE, PostgreSQL): the dashboard's
            # aggregates are index-only scans instead of reading the whole table.
            models.Index(fields=["created_at"], include=["id", "customer_id"], name="order_created_kpi_idx"),
            models.Index(
                fields=["shipped_at"],
                include=["id", "customer_id", "promised_date", "created_at"],
                condition=Q(shipped_at__isnull=False),
                name="order_shipped_kpi_idx",
            ),
            models.Index(
                fields=["production_started_at"],
                include=["id", "customer_id", "confirmed_at", "created_at"],
                condition=Q(production_started_at__isnull=False),
                name="order_prod_started_kpi_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["crm_id"], condition=~Q(crm_id=""), name="salesorder_crm_id_unique"
            ),
            models.UniqueConstraint(
                fields=["external_ref"], condition=~Q(external_ref=""), name="salesorder_external_ref_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_editable(self) -> bool:
        """Draft and confirmed orders are edited directly; from release on, changes need a change request."""
        return self.status in EDITABLE_STATUSES

    # --- transitions: state rules only; services do the locking, checks, history and events -------------
    def has_lines(self) -> bool:
        # Lines loaded with the order by a service answer without a query; so do lines a list page
        # prefetched (prefetch_related("lines")): exists() reads a prefetched relation's results.
        loaded: list[OrderLine] | None = getattr(self, LOADED_LINES, None)
        if loaded is not None:
            return bool(loaded)
        return self.lines.exists()

    def has_promised_date(self) -> bool:
        return self.promised_date is not None

    @transition(
        field=status,
        source=OrderStatus.DRAFT,
        target=OrderStatus.CONFIRMED,
        conditions=[_has_lines],
        permission=transition_permission("confirm_salesorder"),
    )
    def confirm(self) -> None:
        pass

    @transition(
        field=status,
        source=OrderStatus.CONFIRMED,
        target=OrderStatus.RELEASED,
        conditions=[_has_promised_date],
        permission=transition_permission("release_salesorder"),
    )
    def release(self) -> None:
        pass

    @transition(
        field=status,
        source=OrderStatus.RELEASED,
        target=OrderStatus.IN_PRODUCTION,
        permission=transition_permission("progress_salesorder"),
    )
    def start_production(self) -> None:
        pass

    @transition(
        field=status,
        source=[OrderStatus.RELEASED, OrderStatus.IN_PRODUCTION],
        target=OrderStatus.COMPLETED,
        permission=transition_permission("progress_salesorder"),
    )
    def complete(self) -> None:
        pass

    @transition(
        field=status,
        source=OrderStatus.COMPLETED,
        target=OrderStatus.SHIPPED,
        permission=transition_permission("ship_salesorder"),
    )
    def ship(self) -> None:
        pass

    @transition(
        field=status,
        source=OrderStatus.SHIPPED,
        target=OrderStatus.CLOSED,
        permission=transition_permission("close_salesorder"),
    )
    def close(self) -> None:
        pass

    @transition(
        field=status,
        source=list(HOLDABLE_STATUSES),
        target=OrderStatus.ON_HOLD,
        permission=can_hold,
    )
    def hold(self) -> None:
        self.status_before_hold = self.status

    @transition(
        field=status,
        source=OrderStatus.ON_HOLD,
        target=RETURN_VALUE(*HOLDABLE_STATUSES),
        permission=can_hold,
    )
    def resume(self) -> str:
        previous, self.status_before_hold = self.status_before_hold, ""
        return previous

    @transition(
        field=status, source=list(CANCELLABLE_STATUSES), target=OrderStatus.CANCELLED, permission=can_cancel
    )
    def cancel(self) -> None:
        pass


class OrderLine(models.Model):
    order = models.ForeignKey(
        SalesOrder, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order")
    )
    line_no = models.PositiveIntegerField(_("line"))
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=3, validators=[MinValueValidator(Decimal("0.001"))]
    )
    unit = models.CharField(_("unit"), max_length=16)
    spec_values = models.JSONField(_("spec attributes"), default=dict, blank=True)
    due_date = models.DateField(_("line due date"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="orderline_unique_line_no"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orderline_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.line_no}"


class SavedOrderFilter(models.Model):
    """A user's named view of the order list ("My VIP orders due this month"): the list's query string,
    kept so that one click brings it back. Personal: nobody else sees it."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("owner")
    )
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("filters"), max_length=1000, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("saved order filter")
        verbose_name_plural = _("saved order filters")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="savedorderfilter_unique_name_per_owner")
        ]

    def __str__(self) -> str:
        return self.name
