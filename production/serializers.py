"""API shapes of production. Serializers validate the shape of input only; rules live in services."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from rest_framework import serializers

from config.api import WallClockTimeField
from production.changes.models import ChangeDisposition
from production.master_data import Operation, Routing, Shift, WorkCenter
from production.scheduling import OptimiserStop, OrderProjection, Schedule, plan_details
from production.work_orders import (
    ExceptionKind,
    InspectionResult,
    Lot,
    ProductionException,
    ProgressReport,
    QualityInspection,
    Severity,
    WorkOrder,
    WorkOrderOperation,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from orders.models import Product, SalesOrder


class ShiftSerializer(serializers.ModelSerializer):
    start = WallClockTimeField()
    end = WallClockTimeField()

    class Meta:
        model = Shift
        fields = ["weekday", "start", "end"]


class WorkCenterSerializer(serializers.ModelSerializer):
    shifts = ShiftSerializer(many=True, required=False)

    class Meta:
        model = WorkCenter
        fields = ["code", "name", "units", "efficiency", "is_active", "shifts"]
        extra_kwargs: ClassVar[dict[str, dict[str, Any]]] = {"code": {"validators": []}}


class OperationSerializer(serializers.ModelSerializer):
    work_center = serializers.SlugRelatedField(slug_field="code", queryset=WorkCenter.objects.all())

    class Meta:
        model = Operation
        fields = ["sequence", "name", "work_center", "setup_minutes", "run_minutes_per_unit"]


class RoutingSerializer(serializers.ModelSerializer):
    product: serializers.SlugRelatedField[Product] = serializers.SlugRelatedField(
        slug_field="sku", read_only=True
    )
    operations = OperationSerializer(many=True, read_only=True)

    class Meta:
        model = Routing
        fields = ["id", "product", "name", "lot_size", "is_active", "operations"]


class ShiftsReplaceSerializer(serializers.Serializer):
    shifts = ShiftSerializer(many=True, allow_empty=True)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class OperationsReplaceSerializer(serializers.Serializer):
    operations = OperationSerializer(many=True)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class RoutingCreateSerializer(serializers.Serializer):
    product = serializers.CharField(help_text="SKU")
    name = serializers.CharField(required=False, allow_blank=True, default="")
    lot_size = serializers.DecimalField(max_digits=12, decimal_places=3, required=False, allow_null=True)
    operations = OperationSerializer(many=True)


class WorkOrderOperationSerializer(serializers.ModelSerializer):
    work_center: serializers.SlugRelatedField[WorkCenter] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )

    class Meta:
        model = WorkOrderOperation
        fields = [
            "id",
            "sequence",
            "name",
            "work_center",
            "planned_minutes",
            "status",
            "scheduled_start",
            "scheduled_end",
            "scheduled_unit",
            "actual_start",
            "actual_end",
            "good_quantity",
            "scrap_quantity",
            "rework_quantity",
        ]


class LotInspectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = QualityInspection
        fields = ["id", "result", "defect_code", "inspected_at"]


class WorkOrderLotSerializer(serializers.ModelSerializer):
    inspections = LotInspectionSerializer(many=True, read_only=True)

    class Meta:
        model = Lot
        fields = ["number", "quantity", "produced_at", "inspections"]


class LotSerializer(WorkOrderLotSerializer):
    work_order: serializers.SlugRelatedField[WorkOrder] = serializers.SlugRelatedField(
        slug_field="number", read_only=True
    )
    order = serializers.CharField(source="work_order.order.number", read_only=True)

    class Meta:
        model = Lot
        fields = ["number", "work_order", "order", "quantity", "produced_at", "inspections"]


class WorkOrderSerializer(serializers.ModelSerializer):
    order: serializers.SlugRelatedField[SalesOrder] = serializers.SlugRelatedField(
        slug_field="number", read_only=True
    )
    product: serializers.SlugRelatedField[Product] = serializers.SlugRelatedField(
        slug_field="sku", read_only=True
    )
    line = serializers.IntegerField(source="order_line.line_no", read_only=True, allow_null=True)
    operations = WorkOrderOperationSerializer(many=True, read_only=True)
    lots = WorkOrderLotSerializer(many=True, read_only=True)

    class Meta:
        model = WorkOrder
        fields = [
            "number",
            "order",
            "line",
            "order_revision",
            "product",
            "quantity",
            "status",
            "routing_missing",
            "percent_complete",
            "good_quantity",
            "created_at",
            "released_at",
            "completed_at",
            "operations",
            "lots",
        ]


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ProgressReportSerializer(serializers.ModelSerializer):
    work_order = serializers.CharField(source="operation.work_order.number", read_only=True)
    sequence = serializers.IntegerField(source="operation.sequence", read_only=True)

    class Meta:
        model = ProgressReport
        fields = [
            "message_id",
            "work_order",
            "sequence",
            "good_quantity",
            "scrap_quantity",
            "rework_quantity",
            "operator",
            "reported_at",
            "operation_finished",
            "created_at",
        ]


class ProgressReportCreateSerializer(serializers.Serializer):
    message_id = serializers.CharField(max_length=100)
    work_order = serializers.CharField(help_text="work order number")
    sequence = serializers.IntegerField(help_text="operation sequence in the routing")
    good_quantity = serializers.DecimalField(max_digits=12, decimal_places=3, default=Decimal(0))
    scrap_quantity = serializers.DecimalField(max_digits=12, decimal_places=3, default=Decimal(0))
    rework_quantity = serializers.DecimalField(max_digits=12, decimal_places=3, default=Decimal(0))
    operator = serializers.CharField(required=False, allow_blank=True, default="")
    reported_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    operation_finished = serializers.BooleanField(default=False)
    started_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="when the operation actually began"
    )


class ProductionExceptionSerializer(serializers.ModelSerializer):
    work_center = serializers.SlugRelatedField(
        slug_field="code", queryset=WorkCenter.objects.all(), required=False, allow_null=True
    )
    work_order = serializers.SlugRelatedField(
        slug_field="number", queryset=WorkOrder.objects.all(), required=False, allow_null=True
    )
    kind = serializers.ChoiceField(choices=ExceptionKind.choices)
    severity = serializers.ChoiceField(choices=Severity.choices, default=Severity.MEDIUM)

    class Meta:
        model = ProductionException
        fields = [
            "id",
            "kind",
            "severity",
            "work_center",
            "work_order",
            "description",
            "expected_delay_minutes",
            "raised_at",
            "resolved_at",
            "resolution",
        ]
        read_only_fields = ["id", "resolved_at", "resolution"]
        extra_kwargs: ClassVar[dict[str, dict[str, Any]]] = {"raised_at": {"required": False}}


class ResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField(required=False, allow_blank=True, default="")


class OrderProjectionSerializer(serializers.ModelSerializer):
    order: serializers.SlugRelatedField[SalesOrder] = serializers.SlugRelatedField(
        slug_field="number", read_only=True
    )

    class Meta:
        model = OrderProjection
        fields = [
            "order",
            "projected_completion",
            "promised_date",
            "at_risk",
            "tardiness_minutes",
            "weight",
            "why",
        ]


class ScheduleSerializer(serializers.ModelSerializer):
    # Null for a plan no one asked for by name (the debounced replanning, the demo data).
    created_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    method_display = serializers.CharField(
        source="get_method_display", read_only=True, help_text="which engine made the plan, translated"
    )
    optimiser_gain = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="weighted minutes of tardiness the optimiser saved against the fast plan (null: fast plan)",
    )
    optimiser_gain_percent = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Schedule
        fields = [
            "version",
            "is_current",
            "trigger",
            "method",
            "method_display",
            "engine",
            "created_by",
            "created_at",
            "horizon_start",
            "weighted_tardiness",
            "makespan_end",
            "work_orders",
            "operations",
            "late_orders",
            "on_time_rate",
            "solve_seconds",
            "generation",
            "fast_weighted_tardiness",
            "optimiser_gain",
            "optimiser_gain_percent",
            "details",
        ]

    def to_representation(self, instance: Schedule) -> dict[str, Any]:
        data = super().to_representation(instance)
        # Details name orders (those left out of the plan): only those the reader may see.
        request = self.context.get("request")
        data["details"] = plan_details(schedule=instance, user=getattr(request, "user", None))
        return data


class OptimiserOutcomeSerializer(serializers.Serializer):
    """The last background optimiser run (production.scheduling.OptimiserOutcome)."""

    outcome = serializers.ChoiceField(choices=["replaced", "not_better", "stale"])
    outcome_display = serializers.CharField(source="label", help_text="the outcome in the reader's language")
    finished_at = serializers.DateTimeField(source="finished")
    seconds = serializers.FloatField()
    weighted_tardiness = serializers.IntegerField()
    fast_weighted_tardiness = serializers.IntegerField(allow_null=True)
    gain = serializers.IntegerField(allow_null=True, help_text="against the fast plan on the same input")
    current_version = serializers.IntegerField(allow_null=True, help_text="the plan it was compared with")
    current_weighted_tardiness = serializers.IntegerField(allow_null=True)
    version = serializers.IntegerField(allow_null=True, help_text="the plan it made current")
    stop_reason = serializers.ChoiceField(
        choices=[*OptimiserStop.values, ""],
        help_text="why it stopped: nothing better left to find, no longer improving, or its time limit "
        '("" for runs recorded before this was kept)',
    )
    stop_reason_display = serializers.CharField(
        source="stop_label", help_text="why it stopped, in the reader's language"
    )


class CurrentScheduleSerializer(serializers.Serializer):
    """GET schedule/current/: the plan in force (null before the first plan) and its at-risk orders."""

    schedule = ScheduleSerializer(allow_null=True)
    at_risk = OrderProjectionSerializer(many=True)


class PlanObjectiveChangeSerializer(serializers.Serializer):
    objective = serializers.CharField()
    previous = serializers.CharField()
    reason = serializers.CharField()
    changed_by = serializers.CharField(source="changed_by.get_username")
    changed_at = serializers.DateTimeField()


class PlanObjectiveSerializer(serializers.Serializer):
    objective = serializers.ChoiceField(
        choices=["weighted_tardiness", "on_time"],
        help_text="what a better plan means: total weighted tardiness (default) or on-time rate",
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=300, write_only=True
    )
    history = PlanObjectiveChangeSerializer(
        many=True, read_only=True, help_text="who chose which, newest first"
    )


class ScheduleRunSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=["fast", "optimised"], default="fast")


class PromiseLineSerializer(serializers.Serializer):
    product = serializers.CharField(help_text="SKU")
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3)
    spec_values = serializers.DictField(
        required=False,
        default=dict,
        help_text="the line's spec values, as on an order line: they choose spec-dependent components "
        "(finish powder_coat: powder in the RAL colour; length_mm: metres of profile)",
    )


class PromiseRequestSerializer(serializers.Serializer):
    customer = serializers.CharField(help_text="customer code")
    priority = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=4)
    lines = PromiseLineSerializer(many=True)
    hold = serializers.BooleanField(
        required=False, default=False, help_text="hold the material for this quote until the hold expires"
    )
    start_not_before = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="no work starts before this (material ready, drawing approved); no offset: plant time",
    )


class PromiseDelaySerializer(serializers.Serializer):
    order = serializers.CharField()
    customer = serializers.CharField()
    tier = serializers.CharField()
    projected_completion = serializers.DateTimeField(allow_null=True)
    promised_date = serializers.DateField(allow_null=True)
    delay_minutes_at_most = serializers.IntegerField()


class PromiseLineAnswerSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    completion = serializers.DateTimeField()


class PromiseBindingSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["capacity", "material"])
    text = serializers.CharField(help_text='"capacity at ASSY", "material AL-6063 until 2026-12-20 from X"')
    work_center = serializers.CharField(allow_blank=True)
    item = serializers.CharField(allow_blank=True)
    until = serializers.DateField(allow_null=True)
    purchase_order = serializers.CharField(
        source="source", allow_blank=True, help_text="the purchase order that brings the material"
    )


class PromiseMaterialSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    ready = serializers.DateTimeField(help_text="when all the line's material is there")
    item = serializers.CharField(allow_blank=True, help_text="its last component to arrive")
    purchase_order = serializers.CharField(source="source", allow_blank=True)
    uncovered = serializers.BooleanField(help_text="no open supply covers it: ready after the lead time")


class PromiseHoldSerializer(serializers.Serializer):
    reference = serializers.CharField()
    expires_at = serializers.DateTimeField()


class PromiseResponseSerializer(serializers.Serializer):
    completion = serializers.DateTimeField()
    promise_date = serializers.DateField()
    completion_without_overtaking = serializers.DateTimeField()
    weight = serializers.IntegerField()
    overtakes = serializers.BooleanField()
    delays = PromiseDelaySerializer(many=True)
    overtaking_cost = serializers.IntegerField(
        help_text="extra weighted tardiness (weighted minutes) overtaking costs the delayed orders (estimate)"
    )
    pushed_late = serializers.ListField(
        child=serializers.CharField(), help_text="orders overtaking would push past their promised date"
    )
    lines = PromiseLineAnswerSerializer(many=True)
    plan_version = serializers.IntegerField(allow_null=True)
    binding = PromiseBindingSerializer()
    materials = PromiseMaterialSerializer(many=True)
    hold = PromiseHoldSerializer(allow_null=True)


class QualityInspectionSerializer(serializers.ModelSerializer):
    lot: serializers.SlugRelatedField[Lot] = serializers.SlugRelatedField(slug_field="number", read_only=True)
    work_order = serializers.CharField(source="lot.work_order.number", read_only=True)
    inspector = serializers.CharField(source="inspector.username", read_only=True)

    class Meta:
        model = QualityInspection
        fields = ["id", "lot", "work_order", "result", "defect_code", "notes", "inspected_at", "inspector"]


class InspectionCreateSerializer(serializers.Serializer):
    lot = serializers.CharField(max_length=60, help_text="lot number")
    result = serializers.ChoiceField(choices=InspectionResult.choices)
    defect_code = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    inspected_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class LotCreateSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=60)
    work_order = serializers.CharField(max_length=40, help_text="work order number")
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3)
    produced_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ChangeDispositionSerializer(serializers.ModelSerializer):
    work_order: serializers.SlugRelatedField[WorkOrder] = serializers.SlugRelatedField(
        slug_field="number", read_only=True
    )
    order = serializers.CharField(source="work_order.order.number", read_only=True)
    work_order_status = serializers.CharField(source="work_order.status", read_only=True)
    operation = serializers.IntegerField(source="operation.sequence", read_only=True, allow_null=True)
    decided_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    is_open = serializers.BooleanField(read_only=True)
    decision_choices = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ChangeDisposition
        fields = [
            "id",
            "change_request_number",
            "order",
            "work_order",
            "work_order_status",
            "operation",
            "kind",
            "quantity",
            "disposition",
            "is_open",
            "decision_choices",
            "decision",
            "decided_at",
            "decided_by",
            "decision_reason",
            "created_at",
        ]


class DispositionDecideSerializer(serializers.Serializer):
    # The allowed values depend on the row's kind: the service checks them and names the choices.
    decision = serializers.CharField(allow_blank=True, default="")
    reason = serializers.CharField(allow_blank=True, default="")
