"""Work-order travellers: what a planner prints for the floor, in the plant's language, with a QR code per
operation that opens its operator page."""

import datetime as dt
import io

import pypdfium2
import pytest
import zxingcpp
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from orders.catalog.models import Product
from orders.sales import transitions
from production import master_data
from production.master_data import Plant, PlantMode, WorkCenter
from production.work_orders import WorkOrder, WorkOrderOperation
from tests.factories import ProductFactory, UserFactory, make_order
from tests.production.conftest import DAY_SHIFT, make_routing, make_work_center

pytestmark = pytest.mark.django_db

A4 = (595, 842)  # points, rounded
A5 = (420, 595)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def released(sales, planner):
    """An order of a two-step routing (PRESS then PAINT) released to production."""
    press = make_work_center(planner, "PRESS", shifts=DAY_SHIFT)
    paint = make_work_center(planner, "PAINT", shifts=DAY_SHIFT)
    product = ProductFactory(name="Panel 1200")
    make_routing(planner, product, [(press, 10, "1"), (paint, 5, "2")])
    order = make_order(owner=sales, product=product, confirmed=True)
    order = transitions.order_release(actor=planner, order=order)
    return WorkOrder.objects.get(order=order)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def page_sizes(content: bytes) -> list[tuple[int, int]]:
    return [
        (round(float(page.mediabox.width)), round(float(page.mediabox.height)))
        for page in PdfReader(io.BytesIO(content)).pages
    ]


def qr_codes(content: bytes) -> set[str]:
    """Every QR code on every page, read from the page rendered as an image (what a phone's camera sees)."""
    found = set()
    document = pypdfium2.PdfDocument(content)
    for page in document:
        image = page.render(scale=4).to_pil()
        found.update(
            code.text
            for code in zxingcpp.read_barcodes(image)
            if code.format == zxingcpp.BarcodeFormat.QRCode
        )
    return found


def test_a_planner_prints_a_work_orders_traveller_with_its_order_product_specs_and_routing(planner, released):
    response = client_for(planner).get(
        f"/production/travellers/work-orders/{released.number}/", {"lang": "en"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert released.number in text
    assert released.order.number in text
    assert released.order.customer.name in text
    assert "Panel 1200" in text
    for label in ("Material", "Thickness", "Finish", "Colour"):
        assert label in text
    assert "2.5 mm" in text
    assert "PRESS" in text and "PAINT" in text


def test_the_traveller_in_chinese_has_chinese_labels_in_an_embedded_cjk_font(planner, released):
    response = client_for(planner).get(
        f"/production/travellers/work-orders/{released.number}/", {"lang": "zh-hans"}
    )
    text = pdf_text(response.content)
    for label in ("工单流转卡", "订单号", "客户", "规格属性", "材质", "工艺路线", "工作中心"):
        assert label in text, label
    fonts = {
        str(font["/BaseFont"])
        for page in PdfReader(io.BytesIO(response.content)).pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert any("NotoSansSC" in name for name in fonts)
    descendant = next(
        font.get_object()["/DescendantFonts"][0].get_object()
        for page in PdfReader(io.BytesIO(response.content)).pages
        for font in page["/Resources"]["/Font"].values()
    )
    assert "/FontFile2" in descendant["/FontDescriptor"]  # the glyphs travel with the file


def test_the_plant_language_is_the_default(planner, released, settings):
    settings.PLANT_LANGUAGE = "zh-hans"
    response = client_for(planner).get(f"/production/travellers/work-orders/{released.number}/")
    assert "工单流转卡" in pdf_text(response.content)


def test_the_plants_own_floor_language_is_the_default(admin_user, planner, released):
    master_data.plant_save(
        actor=admin_user,
        plant=Plant(code="P1", name="Plant 1", mode=PlantMode.FLOOR, floor_language="zh-hans"),
        reason="test",
    )
    response = client_for(planner).get(f"/production/travellers/work-orders/{released.number}/")
    assert "工单流转卡" in pdf_text(response.content)


def test_the_work_centers_plant_decides_the_language_when_there_are_several(
    admin_user, planner, released, settings
):
    settings.PLANT_LANGUAGE = "zh-hans"
    english = master_data.plant_save(
        actor=admin_user, plant=Plant(code="EN", name="Plant EN", floor_language="en"), reason="test"
    )
    master_data.plant_save(
        actor=admin_user, plant=Plant(code="ZH", name="Plant ZH", floor_language="zh-hans"), reason="test"
    )
    WorkCenter.objects.update(plant=english)

    text = pdf_text(client_for(planner).get(f"/production/travellers/work-orders/{released.number}/").content)

    assert "Work order traveller" in text
    assert "工单流转卡" not in text


def test_each_operations_qr_code_opens_its_operator_page(planner, released, settings):
    settings.PUBLIC_URL = "https://plant.example"
    response = client_for(planner).get(f"/production/travellers/work-orders/{released.number}/")
    operations = WorkOrderOperation.objects.filter(work_order=released)
    expected = {f"https://plant.example/floor/operations/{operation.pk}/" for operation in operations}
    assert len(expected) == 2
    assert qr_codes(response.content) == expected | {released.number}


def test_without_a_public_url_the_qr_codes_use_the_requests_host(planner, released):
    response = client_for(planner).get(f"/production/travellers/work-orders/{released.number}/")
    assert all(
        code.startswith("http://testserver/floor/operations/")
        for code in qr_codes(response.content)
        if code != released.number
    )


def test_a4_and_a5_pages(planner, released):
    client = client_for(planner)
    url = f"/production/travellers/work-orders/{released.number}/"
    assert set(page_sizes(client.get(url, {"paper": "A4"}).content)) == {A4}
    assert set(page_sizes(client.get(url, {"paper": "A5"}).content)) == {A5}


def test_the_customer_can_be_left_off(planner, released):
    response = client_for(planner).get(
        f"/production/travellers/work-orders/{released.number}/", {"hide_customer": "1", "lang": "en"}
    )
    text = pdf_text(response.content)
    assert released.order.customer.name not in text
    assert "Customer" not in text
    assert released.order.number in text


def test_an_unknown_paper_size_is_a_400(planner, released):
    response = client_for(planner).get(
        f"/production/travellers/work-orders/{released.number}/", {"paper": "A3"}
    )
    assert response.status_code == 400
    assert b"paper" in response.content


def test_the_orders_page_prints_all_its_travellers(planner, sales, released):
    response = client_for(planner).get(f"/production/travellers/orders/{released.order.number}/")
    assert response.status_code == 200
    assert released.number in pdf_text(response.content)
    page = client_for(planner).get(f"/orders/{released.order.number}/")
    assert f"/production/travellers/work-orders/{released.number}/".encode() in page.content
    assert f"/production/travellers/orders/{released.order.number}/".encode() in page.content


def test_sales_may_not_print_travellers_nor_see_the_button(sales, released):
    client = client_for(sales)
    assert client.get(f"/production/travellers/work-orders/{released.number}/").status_code == 403
    assert client.get(f"/production/travellers/orders/{released.order.number}/").status_code == 403
    assert client.get("/production/travellers/shift/").status_code == 403
    assert b"/production/travellers/" not in client.get(f"/orders/{released.order.number}/").content


def test_an_outsider_may_not_print_travellers(outsider, released):
    assert (
        client_for(outsider).get(f"/production/travellers/work-orders/{released.number}/").status_code == 403
    )


def test_an_unknown_work_order_is_a_404(planner):
    assert client_for(planner).get("/production/travellers/work-orders/SO-0000-000000-01/").status_code == 404


def schedule(work_order: WorkOrder, starts: list[dt.datetime]) -> None:
    for operation, start in zip(work_order.operations.order_by("sequence"), starts, strict=True):
        WorkOrderOperation.objects.filter(pk=operation.pk).update(
            scheduled_start=start, scheduled_end=start + dt.timedelta(hours=1)
        )


def test_a_shift_prints_every_work_order_the_plan_runs_in_it_in_one_file(sales, planner, released):
    other = transitions.order_release(
        actor=planner, order=make_order(owner=sales, product=released.product, confirmed=True)
    )
    other_work_order = WorkOrder.objects.get(order=other)
    later = transitions.order_release(
        actor=planner, order=make_order(owner=sales, product=released.product, confirmed=True)
    )
    later_work_order = WorkOrder.objects.get(order=later)
    day = timezone.localdate() + dt.timedelta(days=1)
    at = lambda hour: dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_current_timezone())  # noqa: E731
    schedule(released, [at(9), at(11)])
    schedule(other_work_order, [at(8), at(12)])
    schedule(later_work_order, [at(17), at(18)])  # the evening: another shift
    response = client_for(planner).get(
        "/production/travellers/shift/", {"day": day.isoformat(), "shift": "08:00-16:00", "lang": "en"}
    )
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert other_work_order.number in text and released.number in text
    assert later_work_order.number not in text
    assert text.index(other_work_order.number) < text.index(released.number)  # the earlier one first


def test_a_shift_print_keeps_to_the_work_centers_chosen(sales, planner, released):
    day = timezone.localdate() + dt.timedelta(days=1)
    at = lambda hour: dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_current_timezone())  # noqa: E731
    schedule(released, [at(9), at(20)])  # PRESS in the day shift, PAINT in the evening
    press, paint = (op.work_center for op in released.operations.order_by("sequence"))
    client = client_for(planner)
    query = {"day": day.isoformat(), "shift": "08:00-16:00"}
    assert released.number in pdf_text(
        client.get("/production/travellers/shift/", {**query, "work_centers": press.pk}).content
    )
    assert released.number not in pdf_text(
        client.get("/production/travellers/shift/", {**query, "work_centers": paint.pk}).content
    )


def test_the_shift_page_offers_the_plants_shifts_and_refuses_a_bad_date(planner, released):
    client = client_for(planner)
    page = client.get("/production/travellers/shift/")
    assert page.status_code == 200
    assert b"08:00-16:00" in page.content  # the work centers' day shift
    assert client.get("/production/travellers/shift/", {"day": "not-a-date"}).status_code == 400


def printer_without_view_all():
    """Someone who may print travellers but not see every order (as an operator role might be)."""
    user = UserFactory(username="pia")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="production", codename="print_traveller")
    )
    return user


def test_a_work_order_of_an_order_the_user_may_not_see_is_a_404(released):
    client = client_for(printer_without_view_all())
    assert client.get(f"/production/travellers/work-orders/{released.number}/").status_code == 404
    assert client.get(f"/production/travellers/orders/{released.order.number}/").status_code == 404


def test_a_shift_print_reads_in_a_few_queries_whatever_the_number_of_work_orders(
    sales, planner, released, django_assert_max_num_queries
):
    day = timezone.localdate() + dt.timedelta(days=1)
    at = lambda hour: dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_current_timezone())  # noqa: E731
    for hour in range(8, 14):
        order = transitions.order_release(
            actor=planner, order=make_order(owner=sales, product=released.product, confirmed=True)
        )
        schedule(WorkOrder.objects.get(order=order), [at(hour), at(hour + 1)])
    client = client_for(planner)
    query = {"day": day.isoformat(), "shift": "08:00-16:00"}
    client.get("/production/travellers/shift/", query)  # warm the session and permission caches
    with django_assert_max_num_queries(8):
        response = client.get("/production/travellers/shift/", query)
    assert len(PdfReader(io.BytesIO(response.content)).pages) == 6


LONG_NOTE = (
    "Engrave the customer's logo 40 mm high on the left panel, centred, 5 mm below the top edge, "
    "and deburr every cut edge before packing"
)


def test_a_long_spec_value_is_printed_whole_with_its_label_not_cut(planner, released):
    family = released.product.family
    family.spec_schema = {
        **family.spec_schema,
        "properties": {
            **family.spec_schema["properties"],
            "engraving": {"type": "string", "title": "Engraving"},
        },
    }
    family.save()
    line = released.order_line
    line.spec_values = {**line.spec_values, "engraving": LONG_NOTE}
    line.save()

    response = client_for(planner).get(f"/production/travellers/work-orders/{released.number}/?paper=A5")

    text = " ".join(pdf_text(response.content).split())
    assert "Engraving" in text
    assert LONG_NOTE in text
    assert "…" not in text


def test_the_chinese_traveller_names_the_product_operations_and_unit_in_chinese(planner, released):
    Product.objects.filter(pk=released.product_id).update(name_zh="面板一二〇〇")
    WorkOrderOperation.objects.filter(work_order=released, sequence=10).update(name_zh="冲压成形")

    response = client_for(planner).get(f"/production/travellers/work-orders/{released.number}/?lang=zh-hans")

    text = pdf_text(response.content)
    assert "面板一二〇〇" in text and "冲压成形" in text
    assert "Panel 1200" not in text
