"""REST API v1 of change requests: /api/v1/change-requests/.

Thin: reads through orders.change_requests.selectors, every write is one call to
orders.change_requests (proposals, decisions)
(one transaction, nothing half-saved), errors in the API's one format. A CR the user may not see is a 404.
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import DefaultRouter

from config.api import ErrorResponseSerializer
from config.kernel import allowed, message_text, refused
from config.kernel.errors import ValidationFailed
from orders.change_requests import OPS, decisions, policies, proposals, selectors
from orders.change_requests.models import ChangeOrigin, ChangeRequest, ChangeRequestStatus, Disposition
from orders.sales import orders_visible_to

ERROR = ErrorResponseSerializer


class StoredTextField(serializers.CharField):
    """A stored comment: the system's (a message code and parameters) read in the request's language."""

    def to_representation(self, value: object) -> str:
        return message_text(str(value or ""))


class DecisionSerializer(serializers.Serializer):
    action = serializers.CharField()
    role = serializers.CharField()
    by = serializers.SerializerMethodField()
    comment = StoredTextField()
    at = serializers.DateTimeField(source="created_at")

    def get_by(self, decision) -> str | None:
        return decision.actor.get_username() if decision.actor_id else None


def _username(user) -> str | None:
    return user.get_username() if user else None


class ChangeRequestSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number")
    status_display = serializers.CharField(source="get_status_display")
    requested_by = serializers.SerializerMethodField()
    planner_approved_by = serializers.SerializerMethodField()
    manager_approved_by = serializers.SerializerMethodField()
    decided_by = serializers.SerializerMethodField()
    rebased_from = serializers.CharField(source="rebased_from.number", default=None, allow_null=True)
    decisions = DecisionSerializer(many=True, read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = ChangeRequest
        fields = [
            "number",
            "url",
            "order",
            "status",
            "status_display",
            "origin",
            "base_revision",
            "applied_revision",
            "reason",
            "changes",
            "impact",
            "needs_manager",
            "disposition",
            "requested_by",
            "planner_approved_by",
            "manager_approved_by",
            "decided_by",
            "rebased_from",
            "created_at",
            "submitted_at",
            "decided_at",
            "applied_at",
            "acknowledged_at",
            "decisions",
        ]

    def get_requested_by(self, cr) -> str | None:
        return _username(cr.requested_by)

    def get_planner_approved_by(self, cr) -> str | None:
        return _username(cr.planner_approved_by)

    def get_manager_approved_by(self, cr) -> str | None:
        return _username(cr.manager_approved_by)

    def get_decided_by(self, cr) -> str | None:
        return _username(cr.decided_by)

    def get_url(self, cr) -> str:
        return reverse(
            "change-request-detail", kwargs={"number": cr.number}, request=self.context.get("request")
        )


@extend_schema_field(
    {
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "object",
            "required": ["op"],
            "properties": {"op": {"type": "string", "enum": list(OPS)}},
        },
    }
)
class ChangesField(serializers.JSONField):
    """The proposed changes: each is checked by its operation (orders.change_requests.operations), which
    names the bad ones (400, changes[0].quantity); the schema gives the shape all of them share."""


class ChangeRequestCreateSerializer(serializers.Serializer):
    order = serializers.CharField(help_text=_("Order number."))
    base_revision = serializers.IntegerField(help_text=_("The order revision the change is made on."))
    reason = serializers.CharField(max_length=2000, help_text=_("Why the order must change."))
    changes = ChangesField(
        help_text=_(
            'A list of changes, e.g. [{"op": "set_quantity", "line_no": 1, "quantity": "12"}]. Ops: '
            "set_quantity, set_date (field, value), set_time (field promised_time or start_not_before, "
            "value HH:MM or an ISO date-time, empty clears), set_line_due_date, set_spec (spec_values), "
            "add_line (product SKU, quantity, spec_values, due_date), remove_line, hold, resume, cancel."
        )
    )
    submit = serializers.BooleanField(default=False, help_text=_("Submit at once for approval."))


class ChangeRequestUpdateSerializer(serializers.Serializer):
    """A draft edited by its requester: PUT sends all three, PATCH what changes (the rest is kept)."""

    base_revision = serializers.IntegerField(help_text=_("The order revision the change is made on."))
    reason = serializers.CharField(max_length=2000, help_text=_("Why the order must change."))
    changes = ChangesField(help_text=_("The whole new list of changes (same ops as on create)."))
    submit = serializers.BooleanField(default=False, help_text=_("Submit at once for approval."))


class ChangeRequestActionSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000, help_text=_("Required to reject.")
    )
    disposition = serializers.ChoiceField(
        choices=Disposition.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("On approval: what happens to quantity already made that becomes surplus or wrong."),
    )


class ChangeRequestFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ChangeRequestStatus.choices)
    order = django_filters.CharFilter(field_name="order__number", help_text=_("Order number."))
    requested_by = django_filters.CharFilter(field_name="requested_by__username")
    origin = django_filters.ChoiceFilter(choices=ChangeOrigin.choices)
    submitted_after = django_filters.DateFilter(field_name="submitted_at", lookup_expr="date__gte")
    submitted_before = django_filters.DateFilter(field_name="submitted_at", lookup_expr="date__lte")

    class Meta:
        model = ChangeRequest
        fields = ["status", "order", "needs_manager", "origin"]


def _action(name: str):
    def run(self, request, number=None):
        return self.run_action(request, name)

    run.__name__ = name
    run = action(detail=True, methods=["post"], url_path=name, url_name=name)(run)
    return extend_schema(
        operation_id=f"v1_change_requests_{name}",
        summary=str(decisions.ACTION_LABELS[name]),
        request=ChangeRequestActionSerializer,
        responses={
            200: ChangeRequestSerializer,
            201: ChangeRequestSerializer,
            400: ERROR,
            403: ERROR,
            404: ERROR,
            409: ERROR,
        },
    )(run)


@extend_schema(tags=["change requests"])
@extend_schema_view(
    list=extend_schema(summary=_("The change requests you may see")),
    retrieve=extend_schema(responses={200: ChangeRequestSerializer, 404: ERROR}),
    create=extend_schema(
        request=ChangeRequestCreateSerializer,
        responses={201: ChangeRequestSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
        description=(
            "Propose a change of a released order. 400 with field messages (e.g. changes[0].quantity), "
            "403 without the permission, 409 if the order is editable directly, closed, or `base_revision` "
            "is not its current revision (code stale)."
        ),
    ),
    update=extend_schema(
        request=ChangeRequestUpdateSerializer,
        responses={200: ChangeRequestSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
        description=(
            "The requester edits a draft (reason and the whole list of changes) with the checks of create; "
            "403 for anyone else, 409 once it is submitted or the order moved on."
        ),
    ),
    partial_update=extend_schema(
        request=ChangeRequestUpdateSerializer,
        responses={200: ChangeRequestSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
        description="Like PUT; what is left out is kept.",
    ),
)
class ChangeRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ChangeRequestSerializer
    parser_classes = [JSONParser]
    lookup_field = "number"
    lookup_value_regex = "[^/]+"
    filterset_class = ChangeRequestFilter
    search_fields = ["number", "order__number", "reason"]
    ordering_fields = ["created_at", "submitted_at", "decided_at", "applied_at", "number"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return selectors.change_request_detail_queryset(self.request.user)

    def get_object(self) -> ChangeRequest:
        return selectors.change_request_get(user=self.request.user, number=self.kwargs["number"])

    def get_serializer_class(self):
        if self.action == "create":
            return ChangeRequestCreateSerializer
        if self.action in ("update", "partial_update"):
            return ChangeRequestUpdateSerializer
        if self.action in decisions.ACTION_LABELS:
            return ChangeRequestActionSerializer
        return ChangeRequestSerializer

    def represent(self, cr: ChangeRequest) -> dict:
        fresh = selectors.change_request_get(user=self.request.user, number=cr.number)
        return ChangeRequestSerializer(fresh, context=self.get_serializer_context()).data

    def create(self, request, *args, **kwargs):
        body = ChangeRequestCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if not allowed(request.user, policies.ADD_PERM):
            raise refused(
                request.user, "change_request_create", data["order"], f"missing {policies.ADD_PERM}"
            )
        # An order the user cannot see is unknown to them: the same answer as a number that does not exist.
        order = orders_visible_to(request.user).filter(number=data["order"]).first()
        if order is None:
            raise ValidationFailed(
                _("Please correct the errors below."), fields={"order": [_("Unknown order.")]}
            )
        cr = proposals.change_request_create(
            actor=request.user,
            order=order,
            base_revision=data["base_revision"],
            reason=data["reason"],
            changes=data["changes"],
            # Where a change came from is the server's to say: "crm" only on the CRM's inbound path.
            origin=ChangeOrigin.API,
            submit=data["submit"],
        )
        location = reverse("change-request-detail", kwargs={"number": cr.number}, request=request)
        return Response(self.represent(cr), status=status.HTTP_201_CREATED, headers={"Location": location})

    def update(self, request, *args, partial: bool = False, **kwargs):
        cr = self.get_object()
        body = ChangeRequestUpdateSerializer(data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        result = proposals.change_request_update(
            actor=request.user,
            change_request=cr.pk,
            base_revision=data.get("base_revision", cr.base_revision),
            reason=data.get("reason", cr.reason),
            changes=data.get("changes", cr.changes),
            submit=data.get("submit", False),
        )
        return Response(self.represent(result))

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def run_action(self, request, name: str) -> Response:
        cr = self.get_object()
        body = ChangeRequestActionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = decisions.change_request_act(
            actor=request.user,
            change_request=cr.pk,
            action=name,
            comment=body.validated_data["comment"],
            disposition=body.validated_data["disposition"],
        )
        code = status.HTTP_201_CREATED if name == "rebase" else status.HTTP_200_OK
        return Response(self.represent(result), status=code)

    submit = _action("submit")
    approve = _action("approve")
    reject = _action("reject")
    withdraw = _action("withdraw")
    apply = _action("apply")
    rebase = _action("rebase")


router = DefaultRouter()
router.register("change-requests", ChangeRequestViewSet, basename="change-request")
