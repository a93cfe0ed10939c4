"""Real parallel transactions on PostgreSQL: numbers stay unique, one of two racing writers wins."""

import threading

import pytest
from django.db import close_old_connections, connection

from config.kernel.errors import Conflict
from orders import sales as services
from orders.models import SalesOrder
from tests.factories import CustomerFactory, ProductFactory, UserFactory, in_days, valid_spec
from tests.services import require_postgresql

# serialized_rollback: a transactional test flushes the database; restore the role groups the migrations made.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.services]


def _in_threads(count, work):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def run(index):
        try:
            barrier.wait(timeout=10)
            results.append(work(index))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    close_old_connections()
    return results, errors


def test_concurrent_order_entry_never_repeats_an_order_number():
    require_postgresql()
    owner = UserFactory(role="sales")
    customer, product = CustomerFactory(), ProductFactory()

    def create(_):
        return services.order_create(
            actor=owner,
            customer=customer,
            lines=[{"product": product.pk, "quantity": 1, "spec_values": valid_spec()}],
            requested_date=in_days(10),
        ).number

    numbers, errors = _in_threads(8, create)
    assert errors == []
    assert len(set(numbers)) == 8
    assert SalesOrder.objects.count() == 8


def test_of_two_simultaneous_edits_of_one_version_exactly_one_wins():
    require_postgresql()
    owner = UserFactory(role="sales")
    order = services.order_create(
        actor=owner,
        customer=CustomerFactory(),
        lines=[{"product": ProductFactory().pk, "quantity": 1, "spec_values": valid_spec()}],
    )

    def edit(index):
        return services.order_update(
            actor=owner, order=order.pk, expected_version=order.version, data={"remarks": f"writer {index}"}
        )

    results, errors = _in_threads(2, edit)
    assert len(results) == 1
    assert len(errors) == 1 and isinstance(errors[0], Conflict)
    assert SalesOrder.objects.get(pk=order.pk).version == order.version + 1
