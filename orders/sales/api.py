"""REST API v1 for customers, the catalog and sales orders.

Thin viewsets: reads go through the selectors, every write is one call to a service of `orders.catalog`
or `orders.sales` (one transaction, so nothing is ever partly saved), and business errors come back in the
API's one error format (config.api). An order the user may not see answers 404, never 403.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import DefaultRouter

from config.api import ErrorResponseSerializer, ModelPermissions
from config.http import request_user
from orders import catalog
from orders.catalog.models import Customer, CustomerTier, Product
from orders.sales import creation, editing, selectors, transitions
from orders.sales.lines import loaded_lines
from orders.sales.locks import OrderNumber
from orders.sales.models import OrderStatus, SalesOrder
from orders.sales.rules import LineInput
from orders.sales.serializers import (
    CustomerSerializer,
    HistoryEntrySerializer,
    OrderCreateSerializer,
    OrderSerializer,
    OrderUpdateSerializer,
    PriorityRequestSerializer,
    ProductFamilySerializer,
    ProductSerializer,
    ReasonRequiredTransitionSerializer,
    TransitionRequestSerializer,
    order_representation,
    transition_url_name,
)

ERROR = ErrorResponseSerializer


# --- customers and catalog ------------------------------------------------------------------------------
class CatalogViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """List, read, create and update; no delete (orders keep pointing at these rows)."""

    permission_classes = [ModelPermissions]
    parser_classes = [JSONParser]
    # Codes and SKUs may contain dots.
    lookup_value_regex = "[^/]+"


class CustomerFilter(django_filters.FilterSet):
    tier = django_filters.ChoiceFilter(choices=CustomerTier.choices)

    class Meta:
        model = Customer
        fields = ["tier", "is_active"]


@extend_schema(tags=["customers"])
@extend_schema_view(
    create=extend_schema(responses={201: CustomerSerializer, 400: ERROR, 403: ERROR}),
    update=extend_schema(responses={200: CustomerSerializer, 400: ERROR, 403: ERROR, 404: ERROR}),
    partial_update=extend_schema(responses={200: CustomerSerializer, 400: ERROR, 403: ERROR, 404: ERROR}),
)
class CustomerViewSet(CatalogViewSet):
    # Every customer, inactive ones included (filter with is_active); the selector lists only active ones.
    queryset = Customer.objects.order_by("name", "code")
    serializer_class = CustomerSerializer
    lookup_field = "code"
    filterset_class = CustomerFilter
    search_fields = ["code", "name", "crm_id"]
    ordering_fields = ["code", "name", "tier", "created_at"]

    def perform_create(self, serializer):
        serializer.instance = catalog.customer_create(
            actor=request_user(self.request), **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = catalog.customer_update(
            actor=request_user(self.request), customer=serializer.instance, **serializer.validated_data
        )


class ProductFilter(django_filters.FilterSet):
    family = django_filters.CharFilter(field_name="family__code", help_text=_("Product family code."))

    class Meta:
        model = Product
        fields = ["family", "is_active"]


@extend_schema(tags=["catalog"])
@extend_schema_view(
    create=extend_schema(responses={201: ProductSerializer, 400: ERROR, 403: ERROR}),
    update=extend_schema(responses={200: ProductSerializer, 400: ERROR, 403: ERROR, 404: ERROR}),
    partial_update=extend_schema(responses={200: ProductSerializer, 400: ERROR, 403: ERROR, 404: ERROR}),
)
class ProductViewSet(CatalogViewSet):
    queryset = Product.objects.select_related("family").order_by("sku")
    serializer_class = ProductSerializer
    lookup_field = "sku"
    filterset_class = ProductFilter
    search_fields = ["sku", "name"]
    ordering_fields = ["sku", "name"]

    def perform_create(self, serializer):
        serializer.instance = catalog.product_create(
            actor=request_user(self.request), **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = catalog.product_update(
            actor=request_user(self.request), product=serializer.instance, **serializer.validated_data
        )


@extend_schema(tags=["catalog"])
@extend_schema_view(
    create=extend_schema(responses={201: ProductFamilySerializer, 400: ERROR, 403: ERROR}),
    update=extend_schema(responses={200: ProductFamilySerializer, 400: ERROR, 403: ERROR, 404: ERROR}),
    partial_update=extend_schema(
        responses={200: ProductFamilySerializer, 400: ERROR, 403: ERROR, 404: ERROR}
    ),
)
class ProductFamilyViewSet(CatalogViewSet):
    queryset = catalog.product_families()
    serializer_class = ProductFamilySerializer
    lookup_field = "code"
    filterset_fields: list[str] = []
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name"]

    def perform_create(self, serializer):
        serializer.instance = catalog.product_family_create(
            actor=request_user(self.request), **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = catalog.product_family_update(
            actor=request_user(self.request), family=serializer.instance, **serializer.validated_data
        )


# --- orders --------------------------------------------------------------------------------------------
def _line_input(line: Mapping[str, Any]) -> LineInput:
    """A line as OrderLineInputSerializer validated it: the keys of a LineInput (DRF's data is untyped)."""
    return cast(LineInput, dict(line))


class OrderFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=OrderStatus.choices, help_text=_("Repeat for several: ?status=draft&status=confirmed.")
    )
    customer = django_filters.CharFilter(field_name="customer__code", help_text=_("Customer code."))
    created_after = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    created_before = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte")
    requested_date_after = django_filters.DateFilter(field_name="requested_date", lookup_expr="gte")
    requested_date_before = django_filters.DateFilter(field_name="requested_date", lookup_expr="lte")
    promised_date_after = django_filters.DateFilter(field_name="promised_date", lookup_expr="gte")
    promised_date_before = django_filters.DateFilter(field_name="promised_date", lookup_expr="lte")

    class Meta:
        model = SalesOrder
        fields = ["status", "customer"]


def transition_request_serializer(name: str) -> type[TransitionRequestSerializer]:
    """The body of a transition: hold and cancel require a reason (the service refuses them without)."""
    if name in transitions.REASON_REQUIRED:
        return ReasonRequiredTransitionSerializer
    return TransitionRequestSerializer


def _transition_action(name: str):
    """The POST endpoint of one transition: orders/{number}/<name>/ → transitions.order_transition."""

    def run(self, request, number=None):
        return self.run_transition(request, name)

    run.__name__ = name  # the router maps the HTTP method to the attribute of this name
    run = action(
        detail=True,
        methods=["post"],
        url_path=transition_url_name(name),
        url_name=transition_url_name(name),
    )(run)
    return extend_schema(
        operation_id=f"v1_orders_{name}",
        summary=transitions.TRANSITION_LABELS[name],
        description=(
            "Runs the transition. 409 if the order's status does not allow it (or the version is stale), "
            "403 without the permission, 400 if a condition is not met (e.g. hold and cancel need a reason). "
            "start-production and complete follow the work orders by themselves: asked for ahead of them, "
            "they are a production manager's override (403 for anyone else, code work_unfinished) and need "
            'a reason and `"override": true` (400 on `reason` / `override`, listing what is unfinished).'
        ),
        request=transition_request_serializer(name),
        responses={200: OrderSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )(run)


ORDER_WRITE_RESPONSES = {200: OrderSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR}
ORDER_UPDATE_DESCRIPTION = (
    "Edit a draft or confirmed order. `version` is the version you read: a stale one is refused "
    "(409, code stale); a released or later order is locked (409, code order_locked). PUT and PATCH "
    "behave alike: header fields left out are kept; `lines`, when given, is the complete new list."
)


@extend_schema(tags=["orders"])
@extend_schema_view(
    list=extend_schema(summary=_("The orders you may see")),
    retrieve=extend_schema(responses={200: OrderSerializer, 404: ERROR}),
    create=extend_schema(
        request=OrderCreateSerializer,
        responses={201: OrderSerializer, 400: ERROR, 403: ERROR},
        description="Enter a draft order with its lines (lines may be empty for a draft).",
    ),
    update=extend_schema(
        request=OrderUpdateSerializer, responses=ORDER_WRITE_RESPONSES, description=ORDER_UPDATE_DESCRIPTION
    ),
    partial_update=extend_schema(
        request=OrderUpdateSerializer, responses=ORDER_WRITE_RESPONSES, description=ORDER_UPDATE_DESCRIPTION
    ),
)
class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sales orders, looked up by number. No DELETE: an order is cancelled, never removed."""

    serializer_class = OrderSerializer
    # Orders carry nested lines: JSON only.
    parser_classes = [JSONParser]
    lookup_field = "number"
    lookup_value_regex = "[^/]+"
    filterset_class = OrderFilter
    search_fields = ["number", "customer__code", "customer__name", "crm_id", "customer_po"]
    ordering_fields = [
        "number",
        "created_at",
        "updated_at",
        "requested_date",
        "promised_date",
        "priority",
        "status",
        "customer__code",
    ]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        # Only what this user may see: a hidden order is simply not there (404, not 403).
        return selectors.order_detail_queryset(self.request.user)

    def get_object(self) -> SalesOrder:
        order = selectors.order_get(user=self.request.user, number=self.kwargs[self.lookup_field])
        self.check_object_permissions(self.request, order)
        return order

    def get_serializer_class(self):
        # Input shapes for the browsable API's forms; responses are always OrderSerializer.
        if self.action == "create":
            return OrderCreateSerializer
        if self.action in transitions.ORDER_TRANSITIONS:
            return transition_request_serializer(self.action)
        return OrderSerializer

    def represent(self, order: SalesOrder, *, fresh: bool = True) -> dict:
        """The order as the user sees it now (OrderSerializer's output). `fresh=False` serializes the order
        the service returned (its row as written, its lines as the service handed them on) instead of
        reading it all again."""
        if fresh:
            order = selectors.order_get(user=self.request.user, number=order.number)
        elif loaded_lines(order) is None:
            selectors.order_prefetch_lines(order)
        return order_representation(order, request=self.request)

    def create(self, request, *args, **kwargs):
        body = OrderCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        lines = [_line_input(line) for line in data.pop("lines")]
        order = creation.order_create(actor=request.user, lines=lines, **data)
        location = reverse("order-detail", kwargs={"number": order.number}, request=request)
        return Response(
            self.represent(order, fresh=False), status=status.HTTP_201_CREATED, headers={"Location": location}
        )

    def update(self, request, *args, **kwargs):
        order = self.get_object()
        body = OrderUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        version = data.pop("version")
        reason = data.pop("reason", "")
        lines = data.pop("lines", None)
        order = editing.order_update(
            actor=request.user,
            order=order,
            expected_version=version,
            data=data,
            lines=None if lines is None else [_line_input(line) for line in lines],
            reason=reason,
        )
        return Response(self.represent(order))

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, **kwargs)

    def run_transition(self, request, name: str) -> Response:
        body = transition_request_serializer(name)(data=request.data)
        body.is_valid(raise_exception=True)
        # The service locks the order if the user may see it, in one query (404 if hidden).
        order = transitions.order_transition(
            actor=request.user,
            order=OrderNumber(number=self.kwargs[self.lookup_field], user=request.user),
            name=name,
            reason=body.validated_data["reason"],
            expected_version=body.validated_data["version"],
            override=body.validated_data["override"],
        )
        return Response(self.represent(order, fresh=False))

    confirm = _transition_action("confirm")
    release = _transition_action("release")
    start_production = _transition_action("start_production")
    complete = _transition_action("complete")
    ship = _transition_action("ship")
    close = _transition_action("close")
    hold = _transition_action("hold")
    resume = _transition_action("resume")
    cancel = _transition_action("cancel")

    @extend_schema(
        operation_id="v1_orders_priority",
        summary=_("Set the order's priority, with a reason"),
        description=(
            "Planners and production managers, in any open status (also after release); sales only on "
            "their own orders before release. 400 without a reason, 403 not allowed, 409 closed or stale."
        ),
        request=PriorityRequestSerializer,
        responses=ORDER_WRITE_RESPONSES,
    )
    @action(detail=True, methods=["post"], url_path="priority", url_name="priority")
    def priority(self, request, number=None):
        order_id = selectors.order_id_visible(user=request.user, number=self.kwargs[self.lookup_field])
        body = PriorityRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        order = editing.order_set_priority(
            actor=request.user,
            order=order_id,
            priority=body.validated_data["priority"],
            reason=body.validated_data["reason"],
            expected_version=body.validated_data["version"],
        )
        return Response(self.represent(order))

    @extend_schema(
        operation_id="v1_orders_history",
        summary=_("The order's history: who changed what, when and why (newest first)"),
        responses={200: HistoryEntrySerializer(many=True), 404: ERROR},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, number=None):
        order = self.get_object()
        return Response(HistoryEntrySerializer(selectors.order_history(order=order), many=True).data)


router = DefaultRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("products", ProductViewSet, basename="product")
router.register("product-families", ProductFamilyViewSet, basename="product-family")
router.register("orders", OrderViewSet, basename="order")
