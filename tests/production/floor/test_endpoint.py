"""The operator pages and their JSON endpoint: badge sign-in, the QR code's URL, 201 / 200 for a repeat,
400 with field messages, 409 with a clear message and nothing saved."""

import json
import uuid

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from orders.catalog.models import Product
from production import floor
from production.work_orders import ProgressReport, WorkOrderOperation
from tests.factories import UserFactory
from tests.production.floor.conftest import PIN

pytestmark = pytest.mark.django_db


@pytest.fixture
def phone(client, operator):
    client.post(reverse("floor:sign_in"), {"badge": "1001", "pin": PIN})
    return client


def post(client, **body):
    body.setdefault("client_id", str(uuid.uuid4()))
    return client.post(reverse("floor:report"), data=json.dumps(body), content_type="application/json")


def test_the_qr_codes_path_is_the_operation_page():
    assert reverse("floor:operation", kwargs={"pk": 42}) == "/floor/operations/42/"


def test_an_operation_page_without_a_signed_in_operator_asks_for_the_badge(client, ops):
    response = client.get(f"/floor/operations/{ops[0].pk}/")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("floor:sign_in"))


def test_an_operator_signs_in_with_badge_and_pin_and_sees_the_operation(phone, operator, ops):
    response = phone.get(f"/floor/operations/{ops[0].pk}/")

    assert response.status_code == 200
    assert response.wsgi_request.user == operator
    assert ops[0].work_order.number in response.content.decode()


def test_a_chinese_operation_page_names_the_operation_product_and_predecessor_in_chinese(phone, ops):
    Product.objects.filter(pk=ops[0].work_order.product_id).update(name_zh="面板")
    WorkOrderOperation.objects.filter(pk=ops[0].pk).update(name_zh="剪切")
    WorkOrderOperation.objects.filter(pk=ops[1].pk).update(name_zh="折弯")
    phone.cookies["django_language"] = "zh-hans"

    content = phone.get(f"/floor/operations/{ops[1].pk}/").content.decode()

    assert "折弯" in content and "面板" in content
    assert "10 剪切" in content  # the previous operation, whose output this one works on


def test_a_refusal_names_the_predecessor_in_the_phones_language(phone, ops):
    WorkOrderOperation.objects.filter(pk=ops[0].pk).update(name_zh="剪切")
    phone.cookies["django_language"] = "zh-hans"

    response = post(phone, operation=ops[1].pk, action="report", good_quantity="1")

    assert response.status_code == 409
    assert "剪切" in response.json()["error"]["message"]


def test_a_pause_shows_on_the_operation_page_and_the_board_until_the_next_start(phone, planner, ops):
    board = Client()
    board.force_login(planner)
    post(phone, operation=ops[0].pk, action="start")

    paused = post(phone, operation=ops[0].pk, action="pause").json()["operation"]

    assert (paused["paused"], paused["status_label"]) == (True, "Paused")
    assert ">Paused</span>" in phone.get(f"/floor/operations/{ops[0].pk}/").content.decode()
    assert 'data-testid="board-paused"' in board.get("/boards/CUT/").content.decode()

    post(phone, operation=ops[0].pk, action="start")

    assert ">Started</span>" in phone.get(f"/floor/operations/{ops[0].pk}/").content.decode()
    assert 'data-testid="board-paused"' not in board.get("/boards/CUT/").content.decode()


def test_the_scan_page_serves_the_qr_decoder_and_its_webassembly_from_the_app(phone, ops):
    response = phone.get(reverse("floor:home"))

    content = response.content.decode()
    assert "/static/vendor/barcode-detector/ponyfill.js" in content
    assert "/static/vendor/zxing-wasm/zxing_reader.wasm" in content
    assert finders.find("vendor/barcode-detector/ponyfill.js")
    assert finders.find("vendor/zxing-wasm/zxing_reader.wasm")
    # WebAssembly may compile on the scan page only, and JavaScript's eval nowhere.
    assert "'wasm-unsafe-eval'" in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    operation_page = phone.get(f"/floor/operations/{ops[0].pk}/")
    assert "wasm-unsafe-eval" not in operation_page["Content-Security-Policy"]


def test_a_wrong_pin_does_not_sign_in(client, operator):
    response = client.post(reverse("floor:sign_in"), {"badge": "1001", "pin": "0000"})

    assert response.status_code == 200
    assert "not recognised" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_user_without_the_operator_role_cannot_use_the_floor(client, sales, ops):
    floor.operator_badge_set(user=sales, badge="2002", pin="1357")

    client.post(reverse("floor:sign_in"), {"badge": "2002", "pin": "1357"})

    assert client.get(f"/floor/operations/{ops[0].pk}/").status_code == 302


def test_a_report_is_201_and_its_repeat_200_with_the_same_answer(phone, ops):
    body = {"client_id": str(uuid.uuid4()), "operation": ops[0].pk, "action": "report", "good_quantity": "2"}

    first = post(phone, **body)
    again = post(phone, **body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["duplicate"] is True
    assert again.json()["operation"] == first.json()["operation"]
    assert ProgressReport.objects.count() == 1


def test_bad_input_is_a_400_naming_each_field(phone, ops):
    response = post(phone, client_id="nope", operation=ops[0].pk, action="report", good_quantity="lots")

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) >= {"client_id", "good_quantity"}


def test_over_reporting_is_a_400_with_a_message_and_nothing_saved(phone, ops):
    response = post(phone, operation=ops[0].pk, action="report", good_quantity="11")

    assert response.status_code == 400
    assert "at most 10" in response.json()["error"]["message"]
    assert not ProgressReport.objects.exists()


def test_a_report_on_a_cancelled_work_order_is_a_409(phone, manager, ops, released):
    from production import work_orders

    work_orders.work_order_transition(actor=manager, work_order=released, name="cancel", reason="customer")

    response = post(phone, operation=ops[0].pk, action="start")

    assert response.status_code == 409
    assert "Cancelled" in response.json()["error"]["message"]


def test_a_report_without_a_session_is_a_401(client, ops):
    assert post(client, operation=ops[0].pk, action="start").status_code == 401


def test_a_person_without_the_operator_role_is_refused_by_the_endpoint(client, ops):
    client.force_login(UserFactory(username="outsider"))

    assert post(client, operation=ops[0].pk, action="start").status_code == 403


def test_the_planner_releases_a_floor_work_order_from_the_order_page(client, sales, planner, floor_plant):
    from orders.sales import transitions
    from tests.factories import ProductFactory, make_order
    from tests.production.conftest import make_routing, make_work_center

    product = ProductFactory()
    make_routing(planner, product, [(make_work_center(planner, "CUT"), 0, "1")])
    order = transitions.order_release(
        actor=planner, order=make_order(owner=sales, product=product, confirmed=True)
    )
    client.force_login(planner)
    page = client.get(reverse("orders:order_detail", args=[order.number]))
    assert 'data-testid="release-to-floor"' in page.content.decode()

    work_order = order.work_orders.get()
    client.post(
        reverse("production:work_order_action"),
        {"number": work_order.number, "action": "release", "next": "/"},
    )

    work_order = type(work_order).objects.get(pk=work_order.pk)
    assert work_order.status == "released"


def test_the_planner_releases_a_floor_work_order_from_its_panel_on_the_plan_page(
    client, sales, planner, floor_plant
):
    from orders.sales import transitions
    from tests.factories import ProductFactory, make_order
    from tests.production.conftest import make_routing, make_work_center

    product = ProductFactory()
    make_routing(planner, product, [(make_work_center(planner, "CUT"), 0, "1")])
    order = transitions.order_release(
        actor=planner, order=make_order(owner=sales, product=product, confirmed=True)
    )
    work_order = order.work_orders.get()
    client.force_login(planner)
    panel = client.get(reverse("production:work_order_panel", args=[work_order.number]))
    assert 'data-testid="wo-release-to-floor"' in panel.content.decode()

    answer = client.post(
        reverse("production:work_order_action"),
        {"number": work_order.number, "action": "release"},
        headers={"HX-Request": "true"},
    )

    assert answer.status_code == 200
    assert type(work_order).objects.get(pk=work_order.pk).status == "released"
    assert 'data-testid="wo-release-to-floor"' not in answer.content.decode()


def test_the_offline_page_kept_by_the_service_worker_names_the_operator_and_lists_pending_reports(phone):
    response = phone.get(reverse("floor:offline"))

    content = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-cache"
    assert 'data-testid="floor-offline"' in content and 'data-testid="pending"' in content
    assert f'data-user="{response.wsgi_request.user.pk}"' in content


def test_the_service_worker_is_served_from_the_floor_scope(client):
    response = client.get(reverse("floor:service_worker"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("operation", 2**64),
        ("device_time", "2026-13-01T00:00:00+00:00"),
        ("finished", "yes"),
        ("all_remaining", "yes"),
        ("action", "dance"),
    ],
)
def test_a_bad_value_is_a_400_naming_its_field_never_a_500(phone, ops, field, value):
    body = {"operation": ops[0].pk, "action": "report", "good_quantity": "1", field: value}

    response = post(phone, **body)

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_an_admin_gives_an_operator_a_badge_and_pin_stored_hashed(client, admin_user):
    user = UserFactory(username="omar", role="operator")
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:production_operatorbadge_add"),
        {"user": user.pk, "badge": "3003", "pin": "97531", "is_active": "on"},
    )

    assert response.status_code == 302
    assert floor.badge_user(badge="3003", pin="97531") == user


def test_the_admin_refuses_a_pin_that_is_not_4_to_12_digits(client, admin_user):
    user = UserFactory(username="omar", role="operator")
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:production_operatorbadge_add"), {"user": user.pk, "badge": "3003", "pin": "12"}
    )

    assert response.status_code == 200
    assert not floor.OperatorBadge.objects.exists()
