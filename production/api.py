"""REST API v1 of production: work centers, routings, work orders, the schedule, progress, exceptions and
the delivery-date quote. Thin: reads through the packages' selectors, each write one service call;
business errors in the API's one error format (config.api)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from config.api import ModelPermissions
from config.http import request_user
from config.kernel import allowed
from orders.models import Customer, Product
from production import changes, master_data, replanning, scheduling, work_orders
from production.changes.models import ChangeDisposition
from production.policies import RUN_SCHEDULE
from production.scheduling import Schedule
from production.serializers import (
    ChangeDispositionSerializer,
    CurrentScheduleSerializer,
    DispositionDecideSerializer,
    InspectionCreateSerializer,
    LotCreateSerializer,
    LotSerializer,
    OperationsReplaceSerializer,
    OptimiserOutcomeSerializer,
    OrderProjectionSerializer,
    PlanObjectiveSerializer,
    ProductionExceptionSerializer,
    ProgressReportCreateSerializer,
    ProgressReportSerializer,
    PromiseRequestSerializer,
    PromiseResponseSerializer,
    QualityInspectionSerializer,
    ReasonSerializer,
    ResolveSerializer,
    RoutingCreateSerializer,
    RoutingSerializer,
    ScheduleRunSerializer,
    ScheduleSerializer,
    ShiftsReplaceSerializer,
    WorkCenterSerializer,
    WorkOrderSerializer,
)
from production.work_orders import (
    Lot,
    ProductionException,
    ProgressReport,
    QualityInspection,
    WorkOrder,
    WorkOrderOperation,
)


class ReadCreateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [ModelPermissions]


@extend_schema(tags=["production"])
class WorkCenterViewSet(mixins.CreateModelMixin, ReadCreateViewSet):
    serializer_class = WorkCenterSerializer
    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return master_data.work_centers()

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = master_data.work_center_create(
            actor=request_user(self.request),
            code=data["code"],
            name=data["name"],
            units=data.get("units", 1),
            efficiency=data.get("efficiency", "1.00"),
            shifts=[(s["weekday"], s["start"], s["end"]) for s in data.get("shifts", [])],
        )

    @extend_schema(request=ShiftsReplaceSerializer, responses={200: WorkCenterSerializer})
    @action(detail=True, methods=["put"])
    def shifts(self, request, code=None):
        """Replace the work center's weekly shifts as a whole (the plan is rescheduled on the new hours)."""
        body = ShiftsReplaceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        work_center = master_data.work_center_set_shifts(
            actor=request_user(request),
            work_center=self.get_object(),
            shifts=[(s["weekday"], s["start"], s["end"]) for s in body.validated_data["shifts"]],
            reason=body.validated_data["reason"],
        )
        return Response(WorkCenterSerializer(master_data.work_centers().get(pk=work_center.pk)).data)


@extend_schema(tags=["production"])
class RoutingViewSet(ReadCreateViewSet):
    serializer_class = RoutingSerializer
    filterset_fields = ["is_active"]

    def get_queryset(self):
        return master_data.routings().order_by("product__sku")

    @extend_schema(request=RoutingCreateSerializer, responses={201: RoutingSerializer})
    def create(self, request):
        body = RoutingCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        product = get_object_or_404(Product, sku=data["product"])
        routing = master_data.routing_create(
            actor=request_user(request),
            product=product,
            name=data.get("name", ""),
            lot_size=data.get("lot_size"),
            operations=[dict(op) for op in data["operations"]],
        )
        return Response(RoutingSerializer(master_data.routings().get(pk=routing.pk)).data, status=201)

    @extend_schema(request=OperationsReplaceSerializer, responses={200: RoutingSerializer})
    @action(detail=True, methods=["put"])
    def operations(self, request, pk=None):
        """Replace the routing's operations as a whole, for work orders made from now on."""
        body = OperationsReplaceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        routing = master_data.routing_set_operations(
            actor=request_user(request),
            routing=self.get_object(),
            operations=[dict(op) for op in body.validated_data["operations"]],
            reason=body.validated_data["reason"],
        )
        return Response(RoutingSerializer(master_data.routings().get(pk=routing.pk)).data)


@extend_schema(tags=["production"])
class WorkOrderViewSet(ReadCreateViewSet):
    serializer_class = WorkOrderSerializer
    lookup_field = "number"
    lookup_value_regex = "[^/]+"
    filterset_fields = ["status", "order__number"]
    search_fields = ["number", "order__number"]

    def get_queryset(self):
        queryset = work_orders.work_orders().select_related("order_line").order_by("number")
        return work_orders.records_visible_to(queryset, user=self.request.user)

    def _transition(self, request, name):
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        work_order = work_orders.work_order_transition(
            actor=request_user(request),
            work_order=self.get_object(),
            name=name,
            reason=body.validated_data["reason"],
        )
        return Response(WorkOrderSerializer(work_orders.work_orders().get(pk=work_order.pk)).data)

    @extend_schema(request=ReasonSerializer, responses={200: WorkOrderSerializer})
    @action(detail=True, methods=["post"])
    def release(self, request, number=None):
        return self._transition(request, "release")

    @extend_schema(request=ReasonSerializer, responses={200: WorkOrderSerializer})
    @action(detail=True, methods=["post"])
    def hold(self, request, number=None):
        return self._transition(request, "hold")

    @extend_schema(request=ReasonSerializer, responses={200: WorkOrderSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request, number=None):
        return self._transition(request, "resume")

    @extend_schema(request=ReasonSerializer, responses={200: WorkOrderSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, number=None):
        return self._transition(request, "cancel")


@extend_schema(tags=["production"])
class ChangeDispositionViewSet(ReadCreateViewSet):
    """What change requests left made but not wanted; `?open=1` lists those waiting for a decision."""

    serializer_class = ChangeDispositionSerializer
    filterset_fields = ["kind", "decision", "change_request_number", "work_order__number"]

    def get_queryset(self):
        if self.request.query_params.get("open") in ("1", "true"):
            queryset = work_orders.open_dispositions()
        else:
            queryset = ChangeDisposition.objects.select_related(
                "work_order__order", "operation", "decided_by"
            ).order_by("-created_at", "-id")
        return work_orders.records_visible_to(queryset, user=self.request.user)

    # Reading needs view_changedisposition; deciding is checked by the service (decide_changedisposition).
    @extend_schema(request=DispositionDecideSerializer, responses={200: ChangeDispositionSerializer})
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def decide(self, request, pk=None):
        body = DispositionDecideSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        row = changes.change_disposition_decide(
            actor=request_user(request),
            disposition=self.get_object(),
            decision=body.validated_data["decision"],
            reason=body.validated_data["reason"],
        )
        return Response(ChangeDispositionSerializer(work_orders.change_disposition(pk=row.pk)).data)


@extend_schema(tags=["production"])
class ScheduleViewSet(ReadCreateViewSet):
    """Stored plans, newest first; `current/` is the plan in force with its at-risk orders and what the last
    background optimiser run did."""

    serializer_class = ScheduleSerializer
    lookup_field = "version"
    queryset = Schedule.objects.select_related("created_by").order_by("-version")

    @extend_schema(responses={200: CurrentScheduleSerializer}, filters=False)
    @action(detail=False, methods=["get"])
    def current(self, request):
        schedule = scheduling.current_schedule()
        outcome = scheduling.optimiser_outcome()
        optimiser = OptimiserOutcomeSerializer(outcome).data if outcome is not None else None
        if schedule is None:
            return Response({"schedule": None, "at_risk": [], "optimiser": optimiser})
        return Response(
            {
                "schedule": ScheduleSerializer(schedule, context={"request": request}).data,
                "at_risk": OrderProjectionSerializer(
                    scheduling.at_risk_orders(schedule=schedule, user=request.user), many=True
                ).data,
                "optimiser": optimiser,
            }
        )

    @extend_schema(request=PlanObjectiveSerializer, responses={200: PlanObjectiveSerializer}, filters=False)
    @action(detail=False, methods=["get", "post"])
    def objective(self, request):
        """What a better plan means (the planner's choice) and who chose it; POST chooses (and replans)."""
        if request.method == "POST":
            body = PlanObjectiveSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            replanning.plan_objective_set(
                actor=request_user(request),
                objective=body.validated_data["objective"],
                reason=body.validated_data["reason"],
            )
        data = {"objective": replanning.plan_objective(), "history": replanning.plan_objective_history()}
        return Response(PlanObjectiveSerializer(data).data)

    @extend_schema(request=ScheduleRunSerializer, responses={201: ScheduleSerializer, 202: None})
    @action(detail=False, methods=["post"])
    def run(self, request):
        """Reschedule now: the fast engine answers at once; the optimising one is queued (202)."""
        body = ScheduleRunSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if body.validated_data["method"] == "optimised":
            if not allowed(request.user, RUN_SCHEDULE):
                return Response(status=status.HTTP_403_FORBIDDEN)
            replanning.request_now(trigger=f"manual by {request.user.username}", force=True)
            return Response(status=status.HTTP_202_ACCEPTED)
        schedule = scheduling.schedule_run(actor=request_user(request), trigger="manual", method="fast")
        return Response(
            ScheduleSerializer(schedule, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


@extend_schema(tags=["production"])
class ProgressReportViewSet(ReadCreateViewSet):
    """How the MES reports: a repeated message_id answers 200 with the first report and changes nothing."""

    serializer_class = ProgressReportSerializer
    lookup_field = "message_id"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        queryset = ProgressReport.objects.select_related("operation__work_order").order_by(
            "-reported_at", "-id"
        )
        return work_orders.records_visible_to(queryset, user=self.request.user)

    @extend_schema(request=ProgressReportCreateSerializer, responses={201: ProgressReportSerializer})
    def create(self, request):
        body = ProgressReportCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        operation = get_object_or_404(
            WorkOrderOperation, work_order__number=data["work_order"], sequence=data["sequence"]
        )
        report, created = work_orders.progress_report_create(
            actor=request_user(request),
            operation=operation,
            message_id=data["message_id"],
            good_quantity=data["good_quantity"],
            scrap_quantity=data["scrap_quantity"],
            rework_quantity=data["rework_quantity"],
            operator=data["operator"],
            reported_at=data["reported_at"],
            operation_finished=data["operation_finished"],
            started_at=data["started_at"],
        )
        return Response(ProgressReportSerializer(report).data, status=201 if created else 200)


@extend_schema(tags=["production"])
class ProductionExceptionViewSet(ReadCreateViewSet):
    serializer_class = ProductionExceptionSerializer
    filterset_fields = ["kind", "severity"]

    def get_queryset(self):
        queryset = ProductionException.objects.select_related("work_center", "work_order")
        if self.request.query_params.get("open") in ("1", "true"):
            queryset = queryset.filter(resolved_at__isnull=True)
        return work_orders.records_visible_to(queryset, user=self.request.user).order_by("-raised_at", "-id")

    def create(self, request):
        body = ProductionExceptionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        exception = work_orders.exception_raise(
            actor=request_user(request),
            kind=data["kind"],
            severity=data["severity"],
            work_center=data.get("work_center"),
            work_order=data.get("work_order"),
            description=data.get("description", ""),
            expected_delay_minutes=data.get("expected_delay_minutes", 0),
            raised_at=data.get("raised_at"),
        )
        return Response(ProductionExceptionSerializer(exception).data, status=201)

    @extend_schema(request=ResolveSerializer, responses={200: ProductionExceptionSerializer})
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        body = ResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        exception = work_orders.exception_resolve(
            actor=request_user(request),
            exception=self.get_object(),
            resolution=body.validated_data["resolution"],
        )
        return Response(ProductionExceptionSerializer(exception).data)


@extend_schema(
    tags=["production"], request=PromiseRequestSerializer, responses={200: PromiseResponseSerializer}
)
class PromiseView(APIView):
    """Delivery-date quote (capable-to-promise) against the current plan."""

    permission_classes = [permissions.IsAuthenticated]

    def post(self, request):
        body = PromiseRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        customer = get_object_or_404(Customer, code=data["customer"])
        skus = {line["product"] for line in data["lines"]}
        products = dict(Product.objects.filter(sku__in=skus).values_list("sku", "pk"))
        answer = scheduling.promise_quote(
            actor=request_user(request),
            customer=customer,
            priority=data.get("priority"),
            lines=[
                {
                    "product": products.get(line["product"]),
                    "quantity": line["quantity"],
                    "spec_values": line.get("spec_values") or {},
                }
                for line in data["lines"]
            ],
            hold=data.get("hold", False),
            start_not_before=data.get("start_not_before"),
        )
        return Response(PromiseResponseSerializer(answer).data)


@extend_schema(tags=["production"])
class LotViewSet(ReadCreateViewSet):
    """Lots (batches) per work order. Filters: `number`, `work_order` (number), `order` (number)."""

    serializer_class = LotSerializer
    lookup_field = "number"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        queryset = Lot.objects.select_related("work_order__order").prefetch_related("inspections")
        params = self.request.query_params
        for param, field in (
            ("number", "number"),
            ("work_order", "work_order__number"),
            ("order", "work_order__order__number"),
        ):
            if params.get(param):
                queryset = queryset.filter(**{field: params[param]})
        return work_orders.records_visible_to(queryset, user=self.request.user).order_by(
            "-produced_at", "-id"
        )

    @extend_schema(request=LotCreateSerializer, responses={201: LotSerializer})
    def create(self, request):
        body = LotCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        work_order = get_object_or_404(WorkOrder, number=data["work_order"])
        lot = work_orders.lot_create(
            actor=request_user(request),
            work_order=work_order,
            number=data["number"],
            quantity=data["quantity"],
            produced_at=data["produced_at"],
        )
        return Response(LotSerializer(self.get_queryset().get(pk=lot.pk)).data, status=201)


@extend_schema(tags=["production"])
class QualityInspectionViewSet(ReadCreateViewSet):
    """Quality inspections of lots. Filters: `lot` (number), `work_order` (number), `result`."""

    serializer_class = QualityInspectionSerializer

    def get_queryset(self):
        queryset = QualityInspection.objects.select_related("lot__work_order", "inspector")
        params = self.request.query_params
        for param, field in (
            ("lot", "lot__number"),
            ("work_order", "lot__work_order__number"),
            ("result", "result"),
        ):
            if params.get(param):
                queryset = queryset.filter(**{field: params[param]})
        return work_orders.records_visible_to(queryset, user=self.request.user).order_by(
            "-inspected_at", "-id"
        )

    @extend_schema(request=InspectionCreateSerializer, responses={201: QualityInspectionSerializer})
    def create(self, request):
        body = InspectionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        lot = get_object_or_404(Lot, number=data["lot"])
        inspection = work_orders.inspection_record(
            actor=request_user(request),
            lot=lot,
            result=data["result"],
            defect_code=data["defect_code"],
            notes=data["notes"],
            inspected_at=data["inspected_at"],
        )
        return Response(
            QualityInspectionSerializer(self.get_queryset().get(pk=inspection.pk)).data, status=201
        )


router = DefaultRouter()
router.register("work-centers", WorkCenterViewSet, basename="work-center")
router.register("routings", RoutingViewSet, basename="routing")
router.register("work-orders", WorkOrderViewSet, basename="work-order")
router.register("schedule", ScheduleViewSet, basename="schedule")
router.register("dispositions", ChangeDispositionViewSet, basename="change-disposition")
router.register("progress-reports", ProgressReportViewSet, basename="progress-report")
router.register("exceptions", ProductionExceptionViewSet, basename="production-exception")
router.register("lots", LotViewSet, basename="lot")
router.register("inspections", QualityInspectionViewSet, basename="quality-inspection")
