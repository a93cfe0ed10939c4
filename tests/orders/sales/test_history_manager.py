"""Model.history (django-simple-history), its manager class built once per model (config.history)."""

from __future__ import annotations

import pytest

from orders.models import OrderLine, SalesOrder
from tests.factories import make_order

pytestmark = pytest.mark.django_db


def test_reading_history_twice_gives_managers_of_one_class():
    assert type(SalesOrder.history) is type(SalesOrder.history)


def test_each_model_keeps_its_own_history_manager():
    assert SalesOrder.history.model is not OrderLine.history.model
    assert SalesOrder.history.model.instance_type is SalesOrder


def test_an_orders_history_lists_only_that_orders_rows():
    first = make_order()
    second = make_order()
    second.remarks = "changed"
    second.save()

    assert {row.id for row in first.history.all()} == {first.pk}
    assert second.history.count() == first.history.count() + 1


def test_every_model_with_history_builds_its_manager_class_once():
    from django.apps import apps

    from config.history import ManagerBuiltOnceDescriptor

    tracked = [
        model for model in apps.get_models() if hasattr(model._meta, "simple_history_manager_attribute")
    ]
    plain = [
        model._meta.label
        for model in tracked
        if not isinstance(
            model.__dict__[model._meta.simple_history_manager_attribute], ManagerBuiltOnceDescriptor
        )
    ]

    assert len(tracked) >= 20
    assert plain == [], "declare history = config.history.HistoricalRecords(...)"
