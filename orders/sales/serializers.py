"""API shapes of customers, the catalog and orders.

Serializers check shapes and types only and turn codes (customer code, SKU, family code) into objects;
every business rule (who may, which state, dates, priorities, spec values) stays in the services,
whose errors the API's exception handler reports in the same format as the field errors here.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from typing import Any, ClassVar

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.reverse import reverse

from config.kernel import Actor
from orders.catalog.models import Customer, Priority, Product, ProductFamily
from orders.sales.lines import loaded_lines
from orders.sales.models import OrderStatus, SalesOrder
from orders.sales.selectors import HistoryEntry
from orders.sales.transitions import ORDER_TRANSITIONS

TRANSITION_NAMES = tuple(ORDER_TRANSITIONS)
# History keeps a reason in full (a text column); this bound only stops a pasted e-mail thread.
REASON_MAX_LENGTH = 2000


def transition_url_name(name: str) -> str:
    """`start_production` → `start-production` (the URL segment and route name of a transition)."""
    return name.replace("_", "-")


def available_transitions(order: SalesOrder, user: Actor) -> list[str]:
    """The transitions `user` may run on `order` now, as the model declares them (state, conditions, perms).

    No query when the order's lines are prefetched (the `has_lines` condition reads them) and the user's
    permissions are cached, so a list of orders stays at a fixed number of queries. The service still
    checks everything again (spec values, reasons) when a transition is run.
    """
    names = []
    for name in TRANSITION_NAMES:
        method = getattr(order, name)
        if can_proceed(method) and method._django_fsm.has_transition_perm(order, order.status, user):
            names.append(name)
    return names


# --- customers and catalog --------------------------------------------------------------------------------
class CustomerSerializer(serializers.ModelSerializer):
    tier_display = serializers.CharField(source="get_tier_display", read_only=True)

    class Meta:
        model = Customer
        fields = [
            "code",
            "name",
            "tier",
            "tier_display",
            "crm_id",
            "email",
            "phone",
            "address",
            "language",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        # Uniqueness is checked by the service (one place, one message), not twice.
        validators: list = []
        extra_kwargs: ClassVar[dict[str, dict[str, Any]]] = {
            "code": {"validators": []},
            "crm_id": {"validators": []},
        }


class ProductFamilySerializer(serializers.ModelSerializer):
    class Meta:
        model = ProductFamily
        fields = ["code", "name", "description", "spec_schema"]
        validators: list = []
        extra_kwargs: ClassVar[dict[str, dict[str, Any]]] = {
            "code": {"validators": []},
            "spec_schema": {"help_text": _("JSON Schema (draft 2020-12) of the lines' spec attributes.")},
        }


class ProductSerializer(serializers.ModelSerializer):
    family = serializers.SlugRelatedField(slug_field="code", queryset=ProductFamily.objects.all())
    family_name = serializers.CharField(source="family.name", read_only=True)

    class Meta:
        model = Product
        fields = ["sku", "name", "family", "family_name", "unit", "is_active"]
        validators: list = []
        extra_kwargs: ClassVar[dict[str, dict[str, Any]]] = {"sku": {"validators": []}}


# --- orders: reading --------------------------------------------------------------------------------------
# Plain serializers with declared fields, not ModelSerializers: every API write answers with an order, and
# a ModelSerializer rebuilds its fields from the model on every instance (about a tenth of a write's CPU).
class OrderLineSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    line_no = serializers.IntegerField(read_only=True)
    product = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3, read_only=True)
    unit = serializers.CharField(read_only=True)
    spec_values = serializers.JSONField(read_only=True)
    due_date = serializers.DateField(read_only=True, allow_null=True)


class OrderSerializer(serializers.Serializer):
    """An order as every client reads it. Expects `selectors.order_detail_queryset` (lines prefetched)."""

    number = serializers.CharField(read_only=True)
    crm_id = serializers.CharField(read_only=True)
    customer = serializers.CharField(source="customer.code", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    customer_po = serializers.CharField(read_only=True)
    owner = serializers.CharField(source="owner.get_username", read_only=True)
    status = serializers.ChoiceField(choices=OrderStatus.choices, read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    revision = serializers.IntegerField(read_only=True)
    version = serializers.IntegerField(read_only=True)
    priority = serializers.ChoiceField(choices=Priority.choices, read_only=True)
    priority_overridden = serializers.BooleanField(read_only=True)
    priority_reason = serializers.CharField(read_only=True)
    requested_date = serializers.DateField(read_only=True, allow_null=True)
    promised_date = serializers.DateField(read_only=True, allow_null=True)
    promised_time = serializers.TimeField(read_only=True, allow_null=True, format="%H:%M")
    start_not_before = serializers.DateTimeField(read_only=True, allow_null=True)
    remarks = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    confirmed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    released_at = serializers.DateTimeField(read_only=True, allow_null=True)
    completed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    shipped_at = serializers.DateTimeField(read_only=True, allow_null=True)
    lines = OrderLineSerializer(many=True, read_only=True)
    available_transitions = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=TRANSITION_NAMES)))
    def get_available_transitions(self, order: SalesOrder) -> list[str]:
        request = self.context.get("request")
        return available_transitions(order, request.user) if request else []

    @extend_schema_field(
        {
            "type": "object",
            "additionalProperties": {"type": "string", "format": "uri"},
            "description": "self, history, and one link per available transition.",
        }
    )
    def get_links(self, order: SalesOrder) -> dict[str, str]:
        return _order_links(order, self.get_available_transitions(order), self.context.get("request"))


@functools.cache
def _order_fields() -> tuple[list[serializers.Field], list[serializers.Field]]:
    """OrderSerializer's fields and its lines' fields, bound once per process. Reading a value through them
    keeps no state and needs no context (the two context-dependent method fields are computed apart)."""
    serializer = OrderSerializer()
    lines = serializer.fields["lines"]
    # OrderLineSerializer(many=True): a list of line serializers.
    assert isinstance(lines, serializers.ListSerializer) and isinstance(lines.child, serializers.Serializer)
    return list(serializer.fields.values()), list(lines.child.fields.values())


def _fields_data(instance: Any, fields: list[serializers.Field]) -> dict:
    """What Serializer.to_representation does with these fields."""
    data = {}
    for field in fields:
        try:
            value = field.get_attribute(instance)
        except SkipField:
            continue
        data[field.field_name] = None if value is None else field.to_representation(value)
    return data


def order_representation(order: SalesOrder, *, request: Any) -> dict:
    """Exactly `OrderSerializer(order, context={"request": request}).data`, at a fraction of the CPU: every
    API write answers with an order, and a serializer deep-copies its declared fields (and its lines'
    fields) on every instance. The same field objects turn each value into JSON, so formats cannot drift;
    tests/orders/sales/test_order_representation.py holds the two outputs equal. Lines prefetched, as for the
    serializer (selectors.order_detail_queryset, order_prefetch_lines), or in hand (orders.sales.lines: the
    lines the service that returned the order wrote or read under its lock)."""
    fields, line_fields = _order_fields()
    transitions = available_transitions(order, request.user) if request else []
    lines = loaded_lines(order)
    data: dict[str, Any] = {}
    for field in fields:
        name = field.field_name
        if name == "lines":
            data[name] = [
                _fields_data(line, line_fields) for line in (order.lines.all() if lines is None else lines)
            ]
        elif name == "available_transitions":
            data[name] = transitions
        elif name == "links":
            data[name] = _order_links(order, transitions, request)
        else:
            data.update(_fields_data(order, [field]))
    return data


def _order_links(order: SalesOrder, transitions: list[str], request: Any) -> dict[str, str]:
    kwargs = {"number": order.number}
    links = {
        "self": reverse("order-detail", kwargs=kwargs, request=request),
        "history": reverse("order-history", kwargs=kwargs, request=request),
    }
    for name in transitions:
        links[name] = reverse(f"order-{transition_url_name(name)}", kwargs=kwargs, request=request)
    return links


# --- orders: writing ---------------------------------------------------------------------------------------
class OrderLineInputSerializer(serializers.Serializer):
    # A SKU here; the order serializer resolves all lines' SKUs in one query (see resolve_line_products).
    product = serializers.CharField(max_length=64, help_text=_("The product's SKU."))
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3)
    spec_values = serializers.DictField(
        required=False, default=dict, help_text=_("Spec attributes, checked against the family's schema.")
    )
    due_date = serializers.DateField(required=False, allow_null=True, default=None)


class OrderLineUpdateSerializer(OrderLineInputSerializer):
    id = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("An existing line to update; leave out to add a line.")
    )


def resolve_line_products(lines: list[dict]) -> list[dict]:
    """Replace each line's SKU by its product (family loaded), one query for all lines."""
    skus = {line["product"] for line in lines}
    products = {p.sku: p for p in Product.objects.select_related("family").filter(sku__in=skus)}
    unknown = _("Unknown product %(sku)s.")
    errors = [
        {} if line["product"] in products else {"product": [unknown % {"sku": line["product"]}]}
        for line in lines
    ]
    if any(errors):
        raise serializers.ValidationError(errors)
    return [{**line, "product": products[line["product"]]} for line in lines]


class OrderHeaderSerializer(serializers.Serializer):
    customer_po = serializers.CharField(required=False, allow_blank=True, max_length=64)
    crm_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
    requested_date = serializers.DateField(required=False, allow_null=True)
    promised_date = serializers.DateField(required=False, allow_null=True)
    promised_time = serializers.TimeField(
        required=False,
        allow_null=True,
        format="%H:%M",
        help_text=_("Time of day the promise is due (plant time, HH:MM); without it, the end of the day."),
    )
    start_not_before = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text=_(
            "Production does not start before this moment (material ready, drawing approved), to the minute; "
            "a time without an offset is plant time."
        ),
    )
    priority = serializers.ChoiceField(
        choices=Priority.choices,
        required=False,
        allow_null=True,
        help_text=_("Leave empty for the customer tier's priority; a different one needs priority_reason."),
    )
    priority_reason = serializers.CharField(required=False, allow_blank=True, max_length=300)
    remarks = serializers.CharField(required=False, allow_blank=True)
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=REASON_MAX_LENGTH,
        help_text=_("Why, for the order's history."),
    )


class OrderCreateSerializer(OrderHeaderSerializer):
    customer = serializers.SlugRelatedField(
        slug_field="code", queryset=Customer.objects.all(), help_text=_("The customer's code.")
    )
    lines = OrderLineInputSerializer(many=True, required=False, default=list)

    def validate_lines(self, lines: list[dict]) -> list[dict]:
        return resolve_line_products(lines)


class OrderUpdateSerializer(OrderHeaderSerializer):
    """PUT and PATCH alike (see ORDER_UPDATE_DESCRIPTION): never partial, so `version` is required on both,
    for DRF and for the OpenAPI schema, which otherwise documents a PATCH body with every field optional."""

    @property
    def partial(self) -> bool:
        return False

    @partial.setter
    def partial(self, value: bool) -> None:
        """Ignored: header fields left out are kept by the service, not by a partial serializer."""

    version = serializers.IntegerField(
        help_text=_("The version you read; refused (409, code stale) if the order has changed since.")
    )
    lines = OrderLineUpdateSerializer(
        many=True,
        required=False,
        help_text=_(
            "When given, the complete new list of lines: with id updates that line, without id adds one, "
            "existing lines not listed are removed."
        ),
    )

    def validate_lines(self, lines: list[dict]) -> list[dict]:
        return resolve_line_products(lines)


class TransitionRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=REASON_MAX_LENGTH,
        help_text=_("Why; required to hold or cancel."),
    )
    version = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("The version you read; when given, a changed order is refused (409, code stale)."),
    )
    override = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_(
            "Start production or complete ahead of the work orders (a production manager's override, with a "
            "reason): true to confirm; without it such a request is refused (400, code override_required)."
        ),
    )


class ReasonRequiredTransitionSerializer(TransitionRequestSerializer):
    """Hold and cancel (transitions.REASON_REQUIRED): the reason is required and may not be blank."""

    reason = serializers.CharField(max_length=REASON_MAX_LENGTH, help_text=_("Why, for the order's history."))


class PriorityRequestSerializer(serializers.Serializer):
    priority = serializers.ChoiceField(choices=Priority.choices, help_text=_("The order's new priority."))
    reason = serializers.CharField(max_length=300, help_text=_("Why the priority changes (kept in history)."))
    version = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("The version you read; when given, a changed order is refused (409, code stale)."),
    )


# --- history ----------------------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """A history value as JSON: dates as ISO strings, decimals as strings, lazy text translated."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (Decimal, Promise)):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str, list, dict)):
        return value
    return str(value)


class HistoryChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.JSONField()
    new = serializers.JSONField()


HISTORY_KINDS = {"+": "created", "~": "changed", "-": "deleted"}


class HistoryEntrySerializer(serializers.Serializer):
    time = serializers.DateTimeField(source="when")
    user = serializers.CharField()
    reason = serializers.CharField()
    subject = serializers.CharField(help_text=_('"order" or "line N".'))
    kind = serializers.SerializerMethodField()
    changes = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ChoiceField(choices=list(HISTORY_KINDS.values())))
    def get_kind(self, entry: HistoryEntry) -> str:
        return HISTORY_KINDS.get(entry.kind, entry.kind)

    @extend_schema_field(HistoryChangeSerializer(many=True))
    def get_changes(self, entry: HistoryEntry) -> list[dict]:
        return [
            {"field": str(name), "old": _plain(old), "new": _plain(new)} for name, old, new in entry.changes
        ]
