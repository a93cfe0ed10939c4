"""`manage.py setup_demo`: demo users per role and realistic, repeatable demo data."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone
from jsonschema import Draft202012Validator

from config.kernel import message_text
from crm_sync.models import OutboxEvent
from orders import demo
from orders.catalog import spec_value_errors
from orders.models import (
    Customer,
    CustomerContact,
    OrderLine,
    OrderStatus,
    Product,
    ProductFamily,
    SalesOrder,
)

pytestmark = pytest.mark.django_db

ROLES = {
    "sales": "sales",
    "sales2": "sales",
    "planner": "planner",
    "manager": "production_manager",
    "service": "customer_service",
    "buyer": "purchasing",
    "admin": "admin",
}


@pytest.fixture(autouse=True)
def _orders_only(monkeypatch):
    """The orders' own demo, without the steps higher apps register
    (tests/production/work_orders/test_demo.py)."""
    monkeypatch.setattr(demo, "_hooks", {})


@pytest.fixture(autouse=True)
def _no_shared_password(monkeypatch, settings):
    monkeypatch.delenv("ORDERBRIDGE_DEMO_PASSWORD", raising=False)
    # Seven users per run: the production hasher would spend seconds here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def setup_demo(*args: str) -> str:
    out = StringIO()
    call_command("setup_demo", *args, stdout=out)
    return out.getvalue()


def printed_password(output: str, username: str) -> str:
    for line in output.splitlines():
        columns = line.split()
        if columns and columns[0] == username:
            return columns[2]
    raise AssertionError(f"no password printed for {username}:\n{output}")


def snapshot(seed: int) -> tuple[list, list]:
    """Load the demo data with `seed`, read it, and roll it back."""
    with transaction.atomic():
        setup_demo("--seed", str(seed), "--orders", "20")
        names = list(Customer.objects.order_by("code").values_list("name", flat=True))
        lines = list(
            OrderLine.objects.order_by("order__id", "line_no").values_list("product__sku", "quantity")
        )
        transaction.set_rollback(True)
    return names, lines


def test_it_creates_one_user_per_role_in_that_role_group():
    setup_demo("--orders", "0")

    for username, role in ROLES.items():
        user = get_user_model().objects.get(username=username)
        assert list(user.groups.values_list("name", flat=True)) == [role]


def test_only_the_admin_is_staff_and_superuser():
    setup_demo("--orders", "0")

    staff = get_user_model().objects.filter(is_staff=True, is_superuser=True)
    assert list(staff.values_list("username", flat=True)) == ["admin"]


def test_it_prints_each_new_password_once_and_that_password_logs_in():
    first = setup_demo("--orders", "0")
    password = printed_password(first, "planner")

    second = setup_demo("--orders", "0")

    assert get_user_model().objects.get(username="planner").check_password(password)
    assert password not in second


def test_new_users_get_different_random_passwords():
    output = setup_demo("--orders", "0")

    passwords = {printed_password(output, username) for username in ROLES}
    assert len(passwords) == len(ROLES)
    assert all(len(password) >= 16 for password in passwords)


def test_a_shared_password_from_the_environment_is_used_and_not_printed(monkeypatch):
    monkeypatch.setenv("ORDERBRIDGE_DEMO_PASSWORD", "plant-demo-2024!")

    output = setup_demo("--orders", "0")

    assert get_user_model().objects.get(username="service").check_password("plant-demo-2024!")
    assert "plant-demo-2024!" not in output


def test_a_weak_shared_password_is_refused(monkeypatch):
    monkeypatch.setenv("ORDERBRIDGE_DEMO_PASSWORD", "1234")

    with pytest.raises(CommandError, match="ORDERBRIDGE_DEMO_PASSWORD"):
        setup_demo("--orders", "0")

    assert not get_user_model().objects.exists()


def test_it_loads_customers_with_tiers_crm_ids_contacts_and_a_few_inactive():
    setup_demo("--orders", "10")

    customers = Customer.objects.all()
    assert customers.count() == 30
    assert set(customers.values_list("tier", flat=True)) == {"standard", "key", "vip"}
    assert all(crm_id.startswith("CRM-") for crm_id in customers.values_list("crm_id", flat=True))
    assert 0 < customers.filter(is_active=False).count() < 10
    assert CustomerContact.objects.exists()


def test_family_schemas_are_strict_draft_2020_12_with_english_and_chinese_titles():
    setup_demo("--orders", "0")

    families = ProductFamily.objects.all()
    assert families.count() == 3
    for family in families:
        schema = family.spec_schema
        Draft202012Validator.check_schema(schema)
        assert schema["additionalProperties"] is False
        assert schema["required"]
        for prop in schema["properties"].values():
            assert prop["title"] and prop["x-title"]["zh-hans"]
        assert 5 <= Product.objects.filter(family=family).count() <= 8


def test_order_statuses_are_spread_over_every_status():
    setup_demo("--orders", "60")

    statuses = set(SalesOrder.objects.values_list("status", flat=True))
    assert statuses == set(OrderStatus.values)


def test_every_order_line_satisfies_its_family_schema():
    setup_demo("--orders", "40")

    lines = OrderLine.objects.select_related("product__family")
    assert lines.count() >= 40
    for line in lines:
        assert spec_value_errors(line.product.family.spec_schema, line.spec_values) == {}, line.spec_values


def test_orders_are_owned_by_sales_and_released_by_the_planner():
    setup_demo("--orders", "40")

    owners = set(SalesOrder.objects.values_list("owner__username", flat=True))
    releasers = set(
        SalesOrder.history.filter(status=OrderStatus.RELEASED, history_type="~").values_list(
            "history_user__username", flat=True
        )
    )
    assert owners == {"sales", "sales2"}
    assert releasers == {"planner"}


def test_orders_have_one_to_four_lines():
    setup_demo("--orders", "40")

    for order in SalesOrder.objects.prefetch_related("lines"):
        assert 1 <= len(order.lines.all()) <= 4


def test_open_orders_have_dates_from_today_on_and_closed_ones_dates_in_the_past():
    setup_demo("--orders", "40")
    today = timezone.localdate()

    for order in SalesOrder.objects.all():
        if order.status == OrderStatus.CLOSED:
            assert order.requested_date < today
        elif order.status == OrderStatus.SHIPPED:
            assert order.shipped_at < timezone.now()
        elif order.status != OrderStatus.CANCELLED:
            assert order.requested_date >= today


def test_without_production_the_manager_records_production_start_and_completion_as_an_override():
    setup_demo("--orders", "40")

    completions = SalesOrder.history.filter(status=OrderStatus.COMPLETED, history_type="~")
    completers = set(completions.values_list("history_user__username", flat=True))
    assert completers == {"manager"}
    assert all(
        message_text(reason).startswith("Override by hand: Demo data")
        for reason in completions.values_list("history_change_reason", flat=True)
    )


def test_orders_are_created_through_the_services_with_outbox_events():
    setup_demo("--orders", "10")

    assert OutboxEvent.objects.filter(type="order.created").count() == 10


def test_a_second_run_adds_nothing():
    setup_demo("--orders", "15")
    counts = [model.objects.count() for model in (get_user_model(), Customer, Product, SalesOrder, OrderLine)]

    output = setup_demo("--orders", "15")

    assert [
        model.objects.count() for model in (get_user_model(), Customer, Product, SalesOrder, OrderLine)
    ] == (counts)
    assert "no demo data loaded" in output


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data():
    first, second, other = snapshot(7), snapshot(7), snapshot(8)

    assert first == second
    assert first != other


def test_the_passwords_are_the_last_thing_it_prints_so_nothing_scrolls_them_away():
    output = setup_demo("--orders", "3")

    last = output.strip().splitlines()
    loaded = next(i for i, line in enumerate(last) if "Demo data loaded" in line)
    table = next(i for i, line in enumerate(last) if line.split()[:1] == ["username"])
    assert loaded < table
    assert last[-1].split()[0] == "admin"  # the table's last row
