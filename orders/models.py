"""Customers, the catalog and sales orders: the records every other system keys on."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, transition

from config.history import HistoricalRecords
from orders.sales.policies import can_cancel, can_hold, transition_permission


class CustomerTier(models.TextChoices):
    STANDARD = "standard", _("Standard")
    KEY = "key", _("Key")
    VIP = "vip", _("VIP")


class Priority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


# A customer's tier sets the default priority of its orders (VIP orders are scheduled first).
TIER_PRIORITY = {
    CustomerTier.STANDARD: Priority.NORMAL,
    CustomerTier.KEY: Priority.HIGH,
    CustomerTier.VIP: Priority.URGENT,
}


class Customer(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    tier = models.CharField(
        _("tier"), max_length=16, choices=CustomerTier.choices, default=CustomerTier.STANDARD
    )
    crm_id = models.CharField(_("CRM id"), max_length=64, blank=True, db_index=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    address = models.TextField(_("address"), blank=True)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="en")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["crm_id"], condition=~Q(crm_id=""), name="customer_crm_id_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    @property
    def default_priority(self) -> int:
        return TIER_PRIORITY[CustomerTier(self.tier)]


class CustomerContact(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("customer")
    )
    name = models.CharField(_("name"), max_length=120)
    role = models.CharField(_("role"), max_length=80, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "name"]

    def __str__(self) -> str:
        return self.name


class ProductFamily(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    # JSON Schema (draft 2020-12) of the structured spec attributes an order line of this family carries.
    spec_schema = models.JSONField(_("spec schema"), default=dict, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("product family")
        verbose_name_plural = _("product families")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    family = models.ForeignKey(
        ProductFamily, on_delete=models.PROTECT, related_name="products", verbose_name=_("product family")
    )
    unit = models.CharField(_("unit"), max_length=16, default="pcs")
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["sku"]

    def __str__(self) -> str:
        return f"{self.sku} · {self.name}"


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


class SalesOrder(models.Model):
    """A customer's order, known by one number in the CRM, OrderBridge and the MES.

    `version` goes up on every write and guards against lost updates (optimistic concurrency);
    `revision` is the business revision that production and the external systems refer to.
    Status changes only through the transitions below, called by `orders.sales.services`.
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
        # Lines prefetched by a service or a list page answer without a query.
        prefetched = getattr(self, "_prefetched_objects_cache", {}).get("lines")
        if prefetched is not None:
            return bool(prefetched)
        return self.lines.exists()

    def has_promised_date(self) -> bool:
        return self.promised_date is not None

    @transition(
        field=status,
        source=OrderStatus.DRAFT,
        target=OrderStatus.CONFIRMED,
        conditions=[has_lines],
        permission=transition_permission("confirm_salesorder"),
    )
    def confirm(self) -> None:
        pass

    @transition(
        field=status,
        source=OrderStatus.CONFIRMED,
        target=OrderStatus.RELEASED,
        conditions=[has_promised_date],
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


# --- spreadsheet imports ------------------------------------------------------------------------------------
class ImportJobStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    VALIDATING = "validating", _("Validating")
    INVALID = "invalid", _("Has errors")
    VALID = "valid", _("Ready to import")
    IMPORTING = "importing", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")


def can_commit_import(job: ImportJob, user) -> bool:
    """Only the person who uploaded the file imports it (they checked its preview)."""
    return bool(
        user and user.is_active and user.pk == job.created_by_id and user.has_perm("orders.add_importjob")
    )


class ImportJob(models.Model):
    """One uploaded order spreadsheet: validated row by row (preview), then imported all or nothing.

    The file itself is stored in the row, so a Celery worker on another machine can read it. Progress of
    a running step lives in the shared cache (a transaction that is still open cannot show its progress).
    Status changes only through the transitions below, called by `orders.imports.services`.
    """

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    filename = models.CharField(_("file name"), max_length=255)
    file_format = models.CharField(_("format"), max_length=8)
    encoding = models.CharField(_("encoding"), max_length=20, default="utf-8")
    content = models.BinaryField(_("content"), editable=False)
    status = FSMField(
        _("status"), default=ImportJobStatus.UPLOADED, choices=ImportJobStatus.choices, protected=True
    )
    rows = models.PositiveIntegerField(_("rows"), default=0)
    orders_new = models.PositiveIntegerField(_("new orders"), default=0)
    orders_existing = models.PositiveIntegerField(_("orders already imported"), default=0)
    # [{"row": 5, "column": "quantity", "message": "..."}]; row 0 means the file as a whole.
    errors = models.JSONField(_("errors"), default=list, blank=True)
    # The first orders as they will be created, for the preview page.
    preview = models.JSONField(_("preview"), default=list, blank=True)
    created_order_numbers = models.JSONField(_("created orders"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["content"])

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @transition(
        field=status,
        source=[ImportJobStatus.UPLOADED, ImportJobStatus.VALIDATING],
        target=ImportJobStatus.VALIDATING,
    )
    def start_validation(self) -> None:
        pass

    @transition(field=status, source=ImportJobStatus.VALIDATING, target=ImportJobStatus.VALID)
    def mark_valid(self) -> None:
        pass

    @transition(
        field=status,
        source=[ImportJobStatus.UPLOADED, ImportJobStatus.VALIDATING, ImportJobStatus.IMPORTING],
        target=ImportJobStatus.INVALID,
    )
    def mark_invalid(self) -> None:
        pass

    @transition(
        field=status,
        source=ImportJobStatus.VALID,
        target=ImportJobStatus.IMPORTING,
        permission=can_commit_import,
    )
    def start_import(self) -> None:
        pass

    @transition(field=status, source=ImportJobStatus.IMPORTING, target=ImportJobStatus.DONE)
    def mark_done(self) -> None:
        pass

    @transition(
        field=status,
        source=[ImportJobStatus.VALIDATING, ImportJobStatus.IMPORTING],
        target=ImportJobStatus.FAILED,
    )
    def mark_failed(self) -> None:
        pass


# The customer-service models live in their own modules; imported here so that Django finds them.
# Change requests live in their own module; they are part of this app's models.
from orders.change_requests.models import (  # noqa: E402, F401
    ChangeOrigin,
    ChangeRequest,
    ChangeRequestDecision,
    ChangeRequestNumber,
    ChangeRequestStatus,
    DecisionAction,
    DecisionRole,
    Disposition,
)
from orders.notifications.models import (  # noqa: E402, F401
    Notification,
    NotificationDelivery,
    NotificationPreference,
    NotificationProfile,
)
from orders.tracking.models import OrderRating, TrackingLink  # noqa: E402, F401
