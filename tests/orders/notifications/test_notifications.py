"""Notifications: who hears of which event, on which channels, and that nothing leaves before the commit."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.db import transaction
from django.urls import reverse

from config.celery import app as celery_app
from config.kernel import bus as events
from config.kernel import events as domain_events
from config.kernel.errors import Conflict, ValidationFailed
from orders import change_requests as crs
from orders.models import (
    ChangeRequest,
    Notification,
    NotificationDelivery,
    NotificationPreference,
    NotificationProfile,
    SalesOrder,
)
from orders.notifications import routes
from orders.notifications import services as notifications
from orders.notifications.models import DeliveryStatus, NotificationKind
from orders.sales import transitions
from orders.tasks import notifications_sweep
from orders.tracking import services as tracking
from tests.factories import make_order
from tests.orders.change_requests.cr_helpers import approved, make_line, released_order, submitted

pytestmark = pytest.mark.django_db

MORE = [{"op": "set_quantity", "line_no": 1, "quantity": "12"}]


@pytest.fixture(autouse=True)
def eager_celery():
    """Tasks run in the test's thread when enqueued (after commit), as a worker would run them."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def approvers(planner, manager):
    """Planners and managers hold the approval permission (made by the change-request feature)."""
    permission = Permission.objects.filter(
        codename="approve_changerequest", content_type__app_label="orders"
    ).first() or Permission.objects.create(
        codename="approve_changerequest",
        name="Can approve change requests",
        content_type=ContentType.objects.get_for_model(SalesOrder),
    )
    for role in ("planner", "production_manager"):
        Group.objects.get(name=role).permissions.add(permission)
    return [planner, manager]


class Hook:
    """A real chat webhook endpoint on a local port: records what it receives, answers as told."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.status = 200
        self.answer: dict = {"errcode": 0, "errmsg": "ok"}
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                hook.received.append(json.loads(self.rfile.read(length)))
                body = json.dumps(hook.answer).encode()
                self.send_response(hook.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/webhook/send?key=test"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook():
    server = Hook()
    yield server
    server.stop()


def cr_event(event_type: str, order, *, actor, requested_by, **extra) -> domain_events.OrderEvent:
    return domain_events.EVENT_TYPES[event_type](
        order=order,
        actor=actor,
        reason="Customer needs 20 more",
        change_request_id=1,
        change_request_number="CR-000042",
        requested_by_id=requested_by.pk,
        **extra,
    )


def choose(user, kind: str, *channels: str, webhook: str = "", style: str = "wecom") -> None:
    NotificationPreference.objects.update_or_create(
        user=user,
        kind=kind,
        defaults={"in_app": "in_app" in channels, "email": "email" in channels, "chat": "chat" in channels},
    )
    if webhook:
        NotificationProfile.objects.update_or_create(
            user=user, defaults={"chat_webhook_url": webhook, "chat_style": style}
        )


# --- routing -------------------------------------------------------------------------------------------
def test_a_submitted_change_request_notifies_every_approver_but_not_the_requester(sales, approvers):
    order = make_order(owner=sales)
    events.publish(
        cr_event("change_request.submitted", order, actor=sales, requested_by=sales, needs_manager=False)
    )
    notices = Notification.objects.filter(kind=NotificationKind.CR_SUBMITTED)
    assert {n.recipient for n in notices} == set(approvers)
    assert all("CR-000042" in n.title and order.number in n.title for n in notices)
    assert all(n.link == f"/orders/{order.number}/#panel-change-requests" for n in notices)


def test_an_approver_who_submits_is_not_told_of_his_own_request(sales, planner, manager, approvers):
    order = make_order(owner=sales)
    events.publish(cr_event("change_request.submitted", order, actor=planner, requested_by=planner))
    assert [n.recipient for n in Notification.objects.all()] == [manager]


@pytest.mark.parametrize("decision", ["approved", "rejected"])
def test_a_decided_change_request_notifies_the_requester_only(sales, planner, approvers, decision):
    order = make_order(owner=sales)
    events.publish(
        cr_event(
            f"change_request.{decision}", order, actor=planner, requested_by=sales, decided_by_id=planner.pk
        )
    )
    notice = Notification.objects.get()
    assert (notice.recipient, notice.kind) == (sales, NotificationKind.CR_DECIDED)
    assert decision in notice.title


def test_a_withdrawn_request_tells_the_approvers_it_no_longer_waits(sales, planner, approvers):
    order = released_order(sales, planner, make_line(planner))
    cr = submitted(sales, order, MORE)
    Notification.objects.all().delete()
    crs.change_request_withdraw(actor=sales, change_request=cr, comment="Customer changed his mind")
    notices = Notification.objects.filter(event="change_request.withdrawn")
    assert {n.recipient for n in notices} == set(approvers)
    assert all(n.kind == NotificationKind.CR_SUBMITTED and cr.number in n.title for n in notices)
    assert all("Customer changed his mind" in n.body for n in notices)


def test_withdrawing_a_draft_notifies_nobody(sales, planner, approvers):
    order = released_order(sales, planner, make_line(planner))
    draft = crs.change_request_create(actor=sales, order=order, base_revision=1, reason="r", changes=MORE)
    crs.change_request_withdraw(actor=sales, change_request=draft)
    assert not Notification.objects.exists()


def test_a_superseded_request_tells_its_requester_and_the_other_approvers(sales, planner, manager, approvers):
    order = released_order(sales, planner, make_line(planner))
    first = approved(sales, planner, order, MORE)
    waiting = submitted(sales, order, [{"op": "set_quantity", "line_no": 1, "quantity": "15"}])
    Notification.objects.all().delete()
    crs.change_request_apply(actor=planner, change_request=first)
    to_requester = Notification.objects.get(event="change_request.superseded")
    assert (to_requester.recipient, to_requester.kind) == (sales, NotificationKind.CR_DECIDED)
    assert waiting.number in to_requester.title and "Re-base" in to_requester.body
    to_approvers = Notification.objects.filter(event="change_request.superseded.approvers")
    assert [n.recipient for n in to_approvers] == [manager]
    assert all(n.kind == NotificationKind.CR_SUBMITTED for n in to_approvers)


def test_whoever_applies_a_change_request_hears_nothing_of_the_requests_it_superseded(
    sales, planner, approvers
):
    order = released_order(sales, planner, make_line(planner))
    first = approved(sales, planner, order, MORE)
    submitted(sales, order, [{"op": "set_quantity", "line_no": 1, "quantity": "15"}])
    Notification.objects.all().delete()
    crs.change_request_apply(actor=planner, change_request=first)
    assert not Notification.objects.filter(recipient=planner).exists()


def test_the_requester_whose_stale_draft_is_refused_on_submit_gets_no_notice_of_it(sales, planner, approvers):
    order = released_order(sales, planner, make_line(planner))
    draft = crs.change_request_create(actor=sales, order=order, base_revision=1, reason="r", changes=MORE)
    SalesOrder.objects.filter(pk=order.pk).update(revision=2)  # changed by another path meanwhile
    Notification.objects.all().delete()
    with pytest.raises(Conflict):
        crs.change_request_submit(actor=sales, change_request=draft)
    assert ChangeRequest.objects.get(pk=draft.pk).status == "superseded"
    assert not Notification.objects.exists()


def test_a_superseded_draft_tells_only_its_requester(sales, planner, approvers):
    order = released_order(sales, planner, make_line(planner))
    first = approved(sales, planner, order, MORE)
    crs.change_request_create(
        actor=sales, order=order, base_revision=order.revision, reason="r", changes=MORE
    )
    Notification.objects.all().delete()
    crs.change_request_apply(actor=planner, change_request=first)
    assert [n.recipient for n in Notification.objects.all()] == [sales]


def test_a_shipped_order_notifies_its_owner(sales, planner, manager):
    order = transitions.order_release(actor=planner, order=make_order(owner=sales, confirmed=True))
    order = transitions.order_complete(actor=planner, order=order)
    transitions.order_ship(actor=manager, order=order)
    notice = Notification.objects.get(kind=NotificationKind.ORDER_SHIPPED)
    assert (notice.recipient, notice.order) == (sales, order)
    assert notice.title == f"Your order {order.number} has shipped"


def test_the_shipped_email_goes_out_after_commit_in_the_users_language(
    sales, planner, manager, django_capture_on_commit_callbacks
):
    choose(sales, NotificationKind.ORDER_SHIPPED, "email")
    NotificationProfile.objects.create(user=sales, language="zh-hans")
    order = transitions.order_complete(
        actor=planner,
        order=transitions.order_release(actor=planner, order=make_order(owner=sales, confirmed=True)),
    )
    with django_capture_on_commit_callbacks(execute=True):
        transitions.order_ship(actor=manager, order=order)
    assert [m.to for m in mail.outbox] == [[sales.email]]
    assert order.number in mail.outbox[0].subject and "发货" in mail.outbox[0].subject


def test_a_customers_rating_reaches_the_owner_and_whoever_sent_the_link(
    sales, planner, manager, service_agent
):
    order = transitions.order_release(actor=planner, order=make_order(owner=sales, confirmed=True))
    order = transitions.order_ship(
        actor=manager, order=transitions.order_complete(actor=planner, order=order)
    )
    link = tracking.tracking_link_create(actor=service_agent, order=order)
    Notification.objects.all().delete()
    tracking.order_rating_submit(link=link, score="2", comment="Two boxes arrived crushed")
    notices = Notification.objects.filter(kind=NotificationKind.ORDER_RATED)
    assert {n.recipient for n in notices} == {sales, service_agent}
    notice = notices.first()
    assert f"order {order.number}: 2 of 5" in notice.title
    assert notice.body == "Two boxes arrived crushed"
    assert notice.link == f"/orders/{order.number}/#panel-tracking-link"


def test_a_hold_and_a_cancellation_by_production_reach_the_owner_with_the_reason(sales, planner, manager):
    order = transitions.order_release(actor=planner, order=make_order(owner=sales, confirmed=True))
    order = transitions.order_hold(actor=planner, order=order, reason="Waiting for steel")
    order = transitions.order_resume(actor=planner, order=order)
    transitions.order_cancel(actor=manager, order=order, reason="Customer went bankrupt")
    notices = Notification.objects.filter(recipient=sales).order_by("id")
    assert [(n.kind, n.event) for n in notices] == [
        (NotificationKind.ORDER_HELD, "order.held"),
        (NotificationKind.ORDER_HELD, "order.resumed"),
        (NotificationKind.ORDER_HELD, "order.cancelled"),
    ]
    assert "Waiting for steel" in notices[0].body
    assert "Customer went bankrupt" in notices[2].body


def test_the_owner_is_not_told_of_the_hold_they_made_themselves(sales):
    order = make_order(owner=sales, confirmed=True)
    transitions.order_cancel(actor=sales, order=order, reason="Duplicate entry")
    assert not Notification.objects.exists()


def test_a_completed_order_notifies_its_owner(sales, planner):
    order = transitions.order_release(actor=planner, order=make_order(owner=sales, confirmed=True))
    transitions.order_complete(actor=planner, order=order)
    notice = Notification.objects.get(kind=NotificationKind.ORDER_COMPLETED)
    assert notice.recipient == sales
    assert notice.order == order


def test_events_nobody_asked_for_notify_nobody(sales, planner):
    transitions.order_release(actor=planner, order=make_order(owner=sales, confirmed=True))
    assert not Notification.objects.exists()


def test_notices_listen_only_to_the_bus_events_they_route():
    (subscription,) = [each for each in events.subscriptions() if each.handler is notifications.on_event]
    assert subscription.event_types == routes.ROUTED_EVENTS
    routed = {cls.name for cls in routes.ROUTED_EVENTS}
    # Every routed event name but the rating (handed over by tracking, not published on the bus).
    assert routed == set(routes.ROUTES) & set(domain_events.EVENT_TYPES) - {"order.rated"}
    assert domain_events.WorkOrdersCreated.name not in routed
    assert domain_events.OrderCreated.name not in routed


def test_nothing_is_written_when_the_change_rolls_back(sales, planner):
    order = transitions.order_release(actor=planner, order=make_order(owner=sales, confirmed=True))
    with pytest.raises(RuntimeError), transaction.atomic():
        transitions.order_complete(actor=planner, order=order)
        raise RuntimeError("the caller's transaction fails later")
    assert not Notification.objects.exists()


# --- channels ------------------------------------------------------------------------------------------
def complete(sales, planner):
    order = transitions.order_release(actor=planner, order=make_order(owner=sales, confirmed=True))
    return transitions.order_complete(actor=planner, order=order)


def test_by_default_a_notice_is_in_app_only(sales, planner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        complete(sales, planner)
    assert Notification.objects.get().in_app
    assert not NotificationDelivery.objects.exists()
    assert mail.outbox == []


def test_email_leaves_only_after_the_commit(sales, planner, django_capture_on_commit_callbacks):
    choose(sales, NotificationKind.ORDER_COMPLETED, "in_app", "email")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order = complete(sales, planner)
    assert mail.outbox == []  # committed rows, nothing sent yet
    delivery = NotificationDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    for callback in callbacks:
        callback()
    assert [m.to for m in mail.outbox] == [[sales.email]]
    assert order.number in mail.outbox[0].subject
    assert f"/orders/{order.number}/" in mail.outbox[0].body
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT


def test_email_only_keeps_the_notice_out_of_the_inbox(
    client, sales, planner, django_capture_on_commit_callbacks
):
    choose(sales, NotificationKind.ORDER_COMPLETED, "email")
    with django_capture_on_commit_callbacks(execute=True):
        complete(sales, planner)
    assert len(mail.outbox) == 1
    assert notifications.unread_count(user=sales) == 0


def test_no_channel_chosen_means_no_notice(sales, planner):
    choose(sales, NotificationKind.ORDER_COMPLETED)
    complete(sales, planner)
    assert not Notification.objects.exists()


def test_the_email_is_written_in_the_users_language(sales, planner, django_capture_on_commit_callbacks):
    choose(sales, NotificationKind.ORDER_COMPLETED, "email")
    NotificationProfile.objects.create(user=sales, language="zh-hans")
    with django_capture_on_commit_callbacks(execute=True):
        order = complete(sales, planner)
    assert mail.outbox[0].subject == f"您的订单 {order.number} 已完工"


def test_the_chat_webhook_receives_a_wecom_text_message(
    sales, planner, hook, django_capture_on_commit_callbacks
):
    choose(sales, NotificationKind.ORDER_COMPLETED, "chat", webhook=hook.url)
    with django_capture_on_commit_callbacks(execute=True):
        order = complete(sales, planner)
    assert len(hook.received) == 1
    message = hook.received[0]
    assert message["msgtype"] == "text"
    assert order.number in message["text"]["content"]
    assert NotificationDelivery.objects.get().status == DeliveryStatus.SENT


def test_a_slack_style_webhook_gets_a_text_field(sales, planner, hook, django_capture_on_commit_callbacks):
    choose(sales, NotificationKind.ORDER_COMPLETED, "chat", webhook=hook.url, style="slack")
    with django_capture_on_commit_callbacks(execute=True):
        complete(sales, planner)
    assert set(hook.received[0]) == {"text"}


def test_a_failing_webhook_is_retried_with_backoff_then_given_up(
    sales, planner, hook, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFY_MAX_ATTEMPTS = 2
    hook.status = 500
    choose(sales, NotificationKind.ORDER_COMPLETED, "chat", webhook=hook.url)
    with django_capture_on_commit_callbacks(execute=True):
        complete(sales, planner)
    delivery = NotificationDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert "HTTP 500" in delivery.last_error
    assert (delivery.next_attempt_at - delivery.notification.created_at).total_seconds() >= 29
    NotificationDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=delivery.notification.created_at
    )
    assert notifications_sweep() == 1  # the beat sweep resends what is due
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(hook.received)) == (DeliveryStatus.FAILED, 2, 2)


def test_a_webhook_refusing_with_an_errcode_is_a_failure(
    sales, planner, hook, django_capture_on_commit_callbacks
):
    hook.answer = {"errcode": 93000, "errmsg": "invalid webhook url"}
    choose(sales, NotificationKind.ORDER_COMPLETED, "chat", webhook=hook.url)
    with django_capture_on_commit_callbacks(execute=True):
        complete(sales, planner)
    assert "93000" in NotificationDelivery.objects.get().last_error


def test_a_delivery_is_sent_once_however_often_its_task_runs(sales, planner, hook):
    choose(sales, NotificationKind.ORDER_COMPLETED, "chat", webhook=hook.url)
    complete(sales, planner)  # callbacks not run: we play the worker
    delivery = NotificationDelivery.objects.get()
    outcomes = [notifications.delivery_send(delivery_id=delivery.pk).outcome for _ in range(3)]
    assert outcomes == ["sent", "skipped", "skipped"]
    assert len(hook.received) == 1


# --- webhook URLs and preferences -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    ["", "ftp://example.com/hook", "https://user:secret@example.com/hook", "https:///nohost", "not a url"],
)
def test_bad_webhook_urls_are_refused(url):
    assert notifications.webhook_url_errors(url)


def test_plain_http_and_unlisted_hosts_are_refused_when_configured(settings):
    settings.NOTIFY_WEBHOOK_ALLOW_HTTP = False
    settings.NOTIFY_WEBHOOK_HOSTS = ["qyapi.weixin.qq.com"]
    assert notifications.webhook_url_errors("http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1")
    assert notifications.webhook_url_errors("https://10.0.0.5/admin")
    assert notifications.webhook_url_errors("https://qyapi.weixin.qq.com.evil.example/x")
    assert notifications.webhook_url_errors("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1") == []


def test_choosing_chat_without_a_valid_webhook_saves_nothing(sales):
    with pytest.raises(ValidationFailed) as refused:
        notifications.notification_preferences_save(
            user=sales,
            channels={NotificationKind.ORDER_COMPLETED: {"chat"}},
            language="en",
            chat_webhook_url="ftp://nope",
        )
    assert "chat_webhook_url" in refused.value.fields
    assert not NotificationPreference.objects.exists()
    assert not NotificationProfile.objects.exists()


def test_the_preferences_page_saves_channels_per_kind(client, sales, hook):
    client.force_login(sales)
    response = client.post(
        reverse("notifications:preferences"),
        {
            "order_completed__email": "1",
            "order_at_risk__in_app": "1",
            "order_at_risk__chat": "1",
            "language": "zh-hans",
            "chat_style": "dingtalk",
            "chat_webhook_url": hook.url,
        },
    )
    assert response.status_code == 302
    assert notifications.channels_for(sales, NotificationKind.ORDER_COMPLETED) == {
        "in_app": False,
        "email": True,
        "chat": False,
    }
    assert notifications.channels_for(sales, NotificationKind.ORDER_AT_RISK)["chat"]
    assert NotificationProfile.objects.get(user=sales).chat_style == "dingtalk"


def test_the_preferences_page_names_a_bad_webhook_url(client, sales):
    client.force_login(sales)
    response = client.post(
        reverse("notifications:preferences"),
        {
            "order_completed__chat": "1",
            "language": "en",
            "chat_style": "wecom",
            "chat_webhook_url": "javascript:x",
        },
    )
    assert response.status_code == 400
    assert "https://" in response.content.decode()


# --- the inbox -----------------------------------------------------------------------------------------
def test_the_badge_counts_unread_notices(client, sales, planner):
    complete(sales, planner)
    complete(sales, planner)
    client.force_login(sales)
    badge = client.get(reverse("notifications:badge")).content.decode()
    assert 'data-testid="unread-count">2<' in badge


def test_opening_a_notice_marks_it_read_and_goes_to_the_order(client, sales, planner):
    order = complete(sales, planner)
    notice = Notification.objects.get()
    client.force_login(sales)
    response = client.post(reverse("notifications:open", args=[notice.pk]))
    assert response.url == f"/orders/{order.number}/"
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_nobody_can_open_another_users_notice(client, sales, planner, other_sales):
    complete(sales, planner)
    notice = Notification.objects.get()
    client.force_login(other_sales)
    client.post(reverse("notifications:open", args=[notice.pk]))
    notice.refresh_from_db()
    assert notice.read_at is None
    assert notice.title not in client.get(reverse("notifications:inbox")).content.decode()


def test_mark_all_read_empties_the_badge(client, sales, planner):
    complete(sales, planner)
    client.force_login(sales)
    client.post(reverse("notifications:mark_all_read"))
    assert notifications.unread_count(user=sales) == 0


def test_the_inbox_shows_notices_in_the_readers_language(client, sales, planner):
    order = complete(sales, planner)
    client.force_login(sales)
    client.cookies["django_language"] = "zh-hans"
    assert f"您的订单 {order.number} 已完工" in client.get(reverse("notifications:inbox")).content.decode()


def test_the_inbox_needs_a_login(client):
    response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 302


@pytest.mark.parametrize(("op", "event"), [("hold", "order.held"), ("cancel", "order.cancelled")])
def test_a_hold_or_cancel_applied_by_change_request_tells_the_owner_once(
    sales, planner, manager, approvers, op, event
):
    order = released_order(sales, planner, make_line(planner))
    # A cancel of a released order needs the production manager's approval too (the cancel rule).
    cr = approved(sales, planner, order, [{"op": op}], manager=manager)
    Notification.objects.all().delete()
    crs.change_request_apply(actor=planner, change_request=cr)
    notices = Notification.objects.filter(recipient=sales)
    assert [(n.kind, n.event) for n in notices] == [(NotificationKind.ORDER_HELD, event)]
    assert f"{cr.number}: Customer called" in notices[0].body
