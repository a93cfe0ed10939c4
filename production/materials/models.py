"""Materials: items and their multi-level bills of materials, stock (a movements ledger with a cached
on-hand per item and location), expected supply (purchase orders) and reservations (for work orders, or
held by a quote until they expire).

Written by production.materials' services only; states change through the django-fsm transitions below
(`protected=True`). Other packages' models are named by label ("production.WorkOrder"): model modules
import no other package.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from config.history import HistoricalRecords


# --- items ---------------------------------------------------------------------------------------------
class ItemKind(models.TextChoices):
    RAW_MATERIAL = "raw_material", _("Raw material")
    PURCHASED_PART = "purchased_part", _("Purchased part")
    SUB_ASSEMBLY = "sub_assembly", _("Sub-assembly")
    FINISHED_PRODUCT = "finished_product", _("Finished product")


# Kinds the plant buys (MRP suggests purchase orders for them) and kinds it makes (they have a BOM).
PURCHASED_KINDS = (ItemKind.RAW_MATERIAL, ItemKind.PURCHASED_PART)
MADE_KINDS = (ItemKind.SUB_ASSEMBLY, ItemKind.FINISHED_PRODUCT)


class Item(models.Model):
    """Something the plant stocks, buys or makes (物料); a finished product links to its catalog product."""

    code = models.CharField(_("item code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    # The name in Simplified Chinese; `display_name` falls back to `name` when empty.
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=ItemKind.choices, db_index=True)
    unit = models.CharField(_("unit of measure"), max_length=16, default="pcs")
    lead_time_days = models.PositiveIntegerField(_("lead time (days)"), default=0)
    # Purchase order quantities: at least the minimum, then in steps of the multiple (0: no rule).
    minimum_order_quantity = models.DecimalField(
        _("minimum order quantity"),
        max_digits=16,
        decimal_places=6,
        default=Decimal(0),
        validators=[MinValueValidator(0)],
    )
    order_multiple = models.DecimalField(
        _("order multiple"),
        max_digits=16,
        decimal_places=6,
        default=Decimal(0),
        validators=[MinValueValidator(0)],
    )
    product = models.OneToOneField(
        "orders.Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="material_item",
        verbose_name=_("catalog product"),
    )
    supplier = models.CharField(_("preferred supplier"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("item")
        verbose_name_plural = _("items")
        ordering = ["code"]
        permissions = [
            ("manage_materials", _("Can edit items and bills of materials")),
            ("manage_stock", _("Can receive and adjust stock")),
            ("manage_purchasing", _("Can create and change purchase orders")),
            ("view_materials", _("Can see materials, stock and supply")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(minimum_order_quantity__gte=0) & Q(order_multiple__gte=0),
                name="item_order_quantities_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.display_name}"

    @property
    def display_name(self) -> str:
        if self.name_zh and (get_language() or "").lower().startswith("zh"):
            return self.name_zh
        return self.name


# --- bills of materials --------------------------------------------------------------------------------
class Bom(models.Model):
    """One version of how an item (a finished product or a sub-assembly) is made from components.

    The version in force on a date: active, effective_from ≤ date ≤ effective_to (empty: open), the highest
    version among those (production.materials.boms.bom_in_force).
    """

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="boms", verbose_name=_("item"))
    version = models.PositiveIntegerField(_("version"), default=1)
    effective_from = models.DateField(_("effective from"), null=True, blank=True)
    effective_to = models.DateField(_("effective to"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("bill of materials")
        verbose_name_plural = _("bills of materials")
        ordering = ["item__code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["item", "version"], name="bom_unique_item_version"),
            models.CheckConstraint(
                condition=Q(effective_from__isnull=True)
                | Q(effective_to__isnull=True)
                | Q(effective_to__gte=models.F("effective_from")),
                name="bom_effective_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item.code} v{self.version}"


class BomLine(models.Model):
    """A component of a BOM, per unit of the BOM's item.

    Required quantity per unit of the parent = quantity x (spec[quantity_attribute] x quantity_factor when
    a quantity attribute is set) x (1 + scrap_percent / 100).

    Spec-dependent lines (the order line's spec values travel down every level):
    - `condition_attribute`/`condition_value`: the line applies only when the spec has that value
      (finish = powder_coat);
    - the component is `component`, or chosen by the spec value of `variant_attribute`: first a
      BomLineVariant for that value, else the item whose code is `component_template` with "{value}"
      replaced (PWD-RAL{value} → PWD-RAL9016).
    """

    bom = models.ForeignKey(Bom, on_delete=models.CASCADE, related_name="lines", verbose_name=_("BOM"))
    position = models.PositiveIntegerField(_("position"), default=10)
    component = models.ForeignKey(
        Item,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="used_in",
        verbose_name=_("component"),
    )
    quantity = models.DecimalField(
        _("quantity per unit"),
        max_digits=16,
        decimal_places=6,
        validators=[MinValueValidator(Decimal("0.000001"))],
    )
    scrap_percent = models.DecimalField(
        _("scrap %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(0), MaxValueValidator(Decimal("99.99"))],
    )
    # The routing operation that consumes it (backflushed when that operation reports progress); empty:
    # inherited from the parent's line, else consumed by the first operation.
    operation = models.ForeignKey(
        "production.Operation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bom_lines",
        verbose_name=_("consuming operation"),
    )
    condition_attribute = models.CharField(_("only when spec attribute"), max_length=64, blank=True)
    condition_value = models.CharField(_("has the value"), max_length=120, blank=True)
    variant_attribute = models.CharField(_("component chosen by spec attribute"), max_length=64, blank=True)
    component_template = models.CharField(_("component code template"), max_length=64, blank=True)
    quantity_attribute = models.CharField(_("quantity driven by spec attribute"), max_length=64, blank=True)
    quantity_factor = models.DecimalField(
        _("quantity factor"), max_digits=16, decimal_places=6, default=Decimal(1)
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("BOM line")
        verbose_name_plural = _("BOM lines")
        ordering = ["bom", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="bomline_quantity_positive"),
            models.CheckConstraint(
                condition=Q(component__isnull=False) | ~Q(variant_attribute=""),
                name="bomline_component_or_variant",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bom} #{self.position}"


class BomLineVariant(models.Model):
    """The component of a line chosen by a spec value (RAL 9016 → powder PWD-RAL9016)."""

    line = models.ForeignKey(
        BomLine, on_delete=models.CASCADE, related_name="variants", verbose_name=_("BOM line")
    )
    spec_value = models.CharField(_("spec value"), max_length=120)
    component = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="variant_of", verbose_name=_("component")
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("BOM line variant")
        verbose_name_plural = _("BOM line variants")
        ordering = ["line", "spec_value"]
        constraints = [
            models.UniqueConstraint(fields=["line", "spec_value"], name="bomlinevariant_unique_value"),
        ]

    def __str__(self) -> str:
        return f"{self.spec_value} → {self.component_id}"


class BomRevision(models.Model):
    """One row whose token changes with every write to items, BOMs, BOM lines and their variants, by any path
    (the services, bulk writes, imports, the admin, raw SQL): database triggers set a new random token
    (migration production 0020). Cached BOM explosions are reused while the token holds, known from one
    one-row read instead of hashing every BOM row (which grew with the tables). Never written by our code."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    token = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("BOM revision")
        verbose_name_plural = _("BOM revisions")

    def __str__(self) -> str:
        return self.token


# --- stock ---------------------------------------------------------------------------------------------
class Location(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        ordering = ["code"]

    def __str__(self) -> str:
        if self.name_zh and (get_language() or "").lower().startswith("zh"):
            return f"{self.code} · {self.name_zh}"
        return f"{self.code} · {self.name}"


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    CONSUMPTION = "consumption", _("Consumption")
    SCRAP = "scrap", _("Scrap")
    ADJUSTMENT = "adjustment", _("Adjustment")


class StockMovement(models.Model):
    """One change of stock, never edited: the ledger is the history (who, when, why, from what).

    `quantity` is signed: receipts add, consumption and scrap take away, adjustments either way.
    """

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="movements", verbose_name=_("item"))
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="movements", verbose_name=_("location")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=MovementKind.choices)
    quantity = models.DecimalField(_("quantity"), max_digits=16, decimal_places=6)
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    reason = models.TextField(_("reason"), blank=True)
    work_order = models.ForeignKey(
        "production.WorkOrder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stock_movements",
        verbose_name=_("work order"),
    )
    # The progress report a backflush came from: one consumption per report, item and kind (idempotent).
    progress_report = models.ForeignKey(
        "production.ProgressReport",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stock_movements",
        verbose_name=_("progress report"),
    )
    purchase_order_line = models.ForeignKey(
        "production.PurchaseOrderLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="receipts",
        verbose_name=_("purchase order line"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["item", "occurred_at"], name="stockmovement_item_time")]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="stockmovement_quantity_not_zero"),
            models.UniqueConstraint(
                fields=["progress_report", "item", "kind"],
                condition=Q(progress_report__isnull=False),
                name="stockmovement_one_backflush_per_report_item",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity} {self.item_id}@{self.location_id}"


class StockLevel(models.Model):
    """The cached on-hand of an item at a location: the sum of its movements, updated with each one."""

    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="stock_levels", verbose_name=_("item")
    )
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="stock_levels", verbose_name=_("location")
    )
    on_hand = models.DecimalField(_("on hand"), max_digits=16, decimal_places=6, default=Decimal(0))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        ordering = ["item__code", "location__code"]
        constraints = [
            models.UniqueConstraint(fields=["item", "location"], name="stocklevel_unique_item_location"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}@{self.location_id}: {self.on_hand}"


# --- supply: purchase orders ---------------------------------------------------------------------------
class PurchaseOrderStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PARTIALLY_RECEIVED = "partially_received", _("Partially received")
    RECEIVED = "received", _("Received")
    CANCELLED = "cancelled", _("Cancelled")


# Purchase orders whose lines are still expected supply.
OPEN_PURCHASE_STATUSES = (PurchaseOrderStatus.OPEN, PurchaseOrderStatus.PARTIALLY_RECEIVED)


class PurchaseOrder(models.Model):
    number = models.CharField(_("purchase order number"), max_length=20, unique=True, editable=False)
    supplier = models.CharField(_("supplier"), max_length=200)
    status = FSMField(
        _("status"),
        default=PurchaseOrderStatus.OPEN,
        choices=PurchaseOrderStatus.choices,
        protected=True,
        db_index=True,
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    # Where it came from (an import file, an MRP suggestion), for the buyer's reference.
    source = models.CharField(_("source"), max_length=120, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        ordering = ["-number"]

    def __str__(self) -> str:
        return self.number

    @transition(
        field=status,
        source=[PurchaseOrderStatus.OPEN, PurchaseOrderStatus.PARTIALLY_RECEIVED],
        target=PurchaseOrderStatus.PARTIALLY_RECEIVED,
    )
    def receive_part(self) -> None:
        pass

    @transition(
        field=status,
        source=[PurchaseOrderStatus.OPEN, PurchaseOrderStatus.PARTIALLY_RECEIVED],
        target=PurchaseOrderStatus.RECEIVED,
    )
    def receive_all(self) -> None:
        pass

    @transition(field=status, source=PurchaseOrderStatus.OPEN, target=PurchaseOrderStatus.CANCELLED)
    def cancel(self) -> None:
        pass


class PurchaseOrderLine(models.Model):
    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="lines", verbose_name=_("purchase order")
    )
    line_number = models.PositiveIntegerField(_("line"), default=1)
    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="purchase_lines", verbose_name=_("item")
    )
    quantity = models.DecimalField(_("quantity"), max_digits=16, decimal_places=6)
    expected_date = models.DateField(_("expected date"), db_index=True)
    received_quantity = models.DecimalField(
        _("received quantity"), max_digits=16, decimal_places=6, default=Decimal(0)
    )
    location = models.ForeignKey(
        Location,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("receive to"),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("purchase order line")
        verbose_name_plural = _("purchase order lines")
        ordering = ["purchase_order", "line_number"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="purchaseorderline_quantity_positive"),
            models.CheckConstraint(
                condition=Q(received_quantity__gte=0), name="purchaseorderline_received_not_negative"
            ),
            models.UniqueConstraint(
                fields=["purchase_order", "line_number"], name="purchaseorderline_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purchase_order_id}/{self.line_number}"

    @property
    def open_quantity(self) -> Decimal:
        return max(self.quantity - self.received_quantity, Decimal(0))


# --- reservations --------------------------------------------------------------------------------------
class ReservationState(models.TextChoices):
    ACTIVE = "active", _("Active")
    CONSUMED = "consumed", _("Consumed")
    RELEASED = "released", _("Released")
    EXPIRED = "expired", _("Expired")


class Reservation(models.Model):
    """Material set aside: for a work order (made at its release, consumed by backflush) or held by a
    quote (`holder`, `reference`, `expires_at`: no work order yet; expires unless turned into an order).

    What is still reserved is `quantity - consumed_quantity` while active.
    """

    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="reservations", verbose_name=_("item")
    )
    quantity = models.DecimalField(_("quantity"), max_digits=16, decimal_places=6)
    consumed_quantity = models.DecimalField(
        _("consumed quantity"), max_digits=16, decimal_places=6, default=Decimal(0)
    )
    needed_on = models.DateField(_("needed on"), null=True, blank=True)
    work_order = models.ForeignKey(
        "production.WorkOrder",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reservations",
        verbose_name=_("work order"),
    )
    # The work-order operation (by sequence) whose progress consumes it; empty: the first operation.
    operation_sequence = models.PositiveIntegerField(_("consuming operation"), null=True, blank=True)
    # A quote's hold.
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True, db_index=True)
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="material_holds",
        verbose_name=_("held by"),
    )
    reference = models.CharField(_("reference"), max_length=120, blank=True, db_index=True)
    state = FSMField(
        _("state"),
        default=ReservationState.ACTIVE,
        choices=ReservationState.choices,
        protected=True,
        db_index=True,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        ordering = ["item", "needed_on", "id"]
        indexes = [
            # The active reservations of an item: every availability check reads them.
            models.Index(fields=["item"], condition=Q(state="active"), name="reservation_active_item"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_quantity_positive"),
            models.CheckConstraint(
                condition=Q(consumed_quantity__gte=0), name="reservation_consumed_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} x {self.quantity} ({self.state})"

    @property
    def open_quantity(self) -> Decimal:
        if self.state != ReservationState.ACTIVE:
            return Decimal(0)
        return max(self.quantity - self.consumed_quantity, Decimal(0))

    @transition(field=state, source=ReservationState.ACTIVE, target=ReservationState.CONSUMED)
    def consume(self) -> None:
        pass

    @transition(field=state, source=ReservationState.ACTIVE, target=ReservationState.RELEASED)
    def release(self) -> None:
        pass

    @transition(field=state, source=ReservationState.ACTIVE, target=ReservationState.EXPIRED)
    def expire(self) -> None:
        pass
