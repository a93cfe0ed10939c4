"""API for tracking links (a CRM may ask for a link to send): list, create, revoke. Services do the work."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.http import request_user
from config.kernel import allowed
from orders.sales import selectors
from orders.tracking import services as tracking
from orders.tracking.models import TrackingLink, TrackingLinkState


class TrackingLinkSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="The customer's URL; null once expired or revoked.")
    state = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username", read_only=True, allow_null=True)

    class Meta:
        model = TrackingLink
        fields = ["id", "url", "state", "created_at", "expires_at", "revoked_at", "open_count", "created_by"]

    def get_url(self, link: TrackingLink) -> str | None:
        if link.state() != TrackingLinkState.ACTIVE:
            return None
        return tracking.tracking_url(link, request=self.context.get("request"))

    def get_state(self, link: TrackingLink) -> str:
        return link.state()


class TrackingLinkCreateSerializer(serializers.Serializer):
    expires_in_days = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Days the link works; by default until two weeks after the order's expected completion.",
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class TrackingLinkRevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class OrderTrackingLinksView(APIView):
    """GET: the order's tracking links. POST: a new link (orders.add_trackinglink)."""

    @extend_schema(responses=TrackingLinkSerializer(many=True))
    def get(self, request: Request, number: str) -> Response:
        order = selectors.order_get(user=request.user, number=number)
        if not allowed(request.user, "orders.view_trackinglink"):
            raise PermissionDenied
        links = tracking.tracking_links_for(order=order)
        return Response(TrackingLinkSerializer(links, many=True, context={"request": request}).data)

    @extend_schema(request=TrackingLinkCreateSerializer, responses={201: TrackingLinkSerializer})
    def post(self, request: Request, number: str) -> Response:
        order = selectors.order_get(user=request.user, number=number)
        data = TrackingLinkCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        link = tracking.tracking_link_create(
            actor=request_user(request),
            order=order,
            expires_in_days=data.validated_data["expires_in_days"],
            reason=data.validated_data["reason"],
        )
        body = TrackingLinkSerializer(link, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class TrackingLinkRevokeView(APIView):
    """POST: stop the link at once (orders.revoke_trackinglink); a second revoke is a 409."""

    @extend_schema(request=TrackingLinkRevokeSerializer, responses=TrackingLinkSerializer)
    def post(self, request: Request, number: str, link_id: int) -> Response:
        order = selectors.order_get(user=request.user, number=number)
        link = order.tracking_links.filter(pk=link_id).first()
        if link is None:
            raise Http404(_("No such link on this order."))
        data = TrackingLinkRevokeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        link = tracking.tracking_link_revoke(
            actor=request_user(request), link=link, reason=data.validated_data["reason"]
        )
        return Response(TrackingLinkSerializer(link, context={"request": request}).data)
