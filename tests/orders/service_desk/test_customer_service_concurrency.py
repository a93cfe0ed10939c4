"""Real parallel transactions on PostgreSQL: a customer double-clicking "send rating" rates once; two
workers running the same notification delivery send it once."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from config.kernel.errors import Conflict
from orders.models import NotificationDelivery, NotificationPreference, NotificationProfile, OrderRating
from orders.notifications import services as notifications
from orders.notifications.models import DeliveryStatus, NotificationKind
from orders.sales import transitions
from orders.tracking import services as tracking
from tests.factories import UserFactory, complete_by_hand, make_order
from tests.orders.sales.test_concurrency import _in_threads
from tests.services import require_postgresql

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.services]


def _shipped_order():
    sales = UserFactory(role="sales")
    planner = UserFactory(role="planner")
    order = transitions.order_release(actor=planner, order=make_order(owner=sales, confirmed=True))
    order = complete_by_hand(order)
    return sales, transitions.order_ship(actor=UserFactory(role="production_manager"), order=order)


def test_two_simultaneous_ratings_store_one_and_refuse_the_other():
    require_postgresql()
    sales, order = _shipped_order()
    link = tracking.tracking_link_create(actor=sales, order=order)

    results, errors = _in_threads(2, lambda index: tracking.order_rating_submit(link=link, score=index + 4))
    assert len(results) == 1
    assert len(errors) == 1 and isinstance(errors[0], Conflict)
    assert OrderRating.objects.filter(order=order).count() == 1


def test_two_workers_on_one_delivery_send_it_once():
    require_postgresql()
    received = []

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            threading.Event().wait(0.5)  # the first worker holds the row while the second arrives
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sales = UserFactory(role="sales")
        NotificationPreference.objects.create(user=sales, kind=NotificationKind.ORDER_COMPLETED, chat=True)
        NotificationProfile.objects.create(
            user=sales, chat_webhook_url=f"http://127.0.0.1:{server.server_address[1]}/hook"
        )
        planner = UserFactory(role="planner")
        order = transitions.order_release(actor=planner, order=make_order(owner=sales, confirmed=True))
        complete_by_hand(order)
        delivery = NotificationDelivery.objects.get()

        outcomes, errors = _in_threads(
            2, lambda _: notifications.delivery_send(delivery_id=delivery.pk).outcome
        )
    finally:
        server.shutdown()
        server.server_close()
    assert errors == []
    assert sorted(outcomes) == ["sent", "skipped"]
    assert len(received) == 1
    assert NotificationDelivery.objects.get().status == DeliveryStatus.SENT
