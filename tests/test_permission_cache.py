"""Permission sets are cached in the shared cache, and every change of groups or permissions drops them."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def fresh(user):
    """The user as the next request loads it: no per-object permission cache."""
    return get_user_model().objects.get(pk=user.pk)


def test_a_second_request_reads_permissions_from_the_cache_not_the_database():
    user = UserFactory(role="sales")
    assert fresh(user).has_perm("orders.add_salesorder")
    again = fresh(user)
    with CaptureQueriesContext(connection) as queries:
        assert again.has_perm("orders.add_salesorder")
    assert len(queries) == 0


def test_leaving_a_group_takes_its_permissions_away_at_once():
    user = UserFactory(role="sales")
    assert fresh(user).has_perm("orders.add_salesorder")
    user.groups.remove(Group.objects.get(name="sales"))
    assert not fresh(user).has_perm("orders.add_salesorder")


def test_a_permission_removed_from_a_group_is_gone_for_its_members():
    user = UserFactory(role="sales")
    assert fresh(user).has_perm("orders.add_salesorder")
    permission = Permission.objects.get(codename="add_salesorder", content_type__app_label="orders")
    Group.objects.get(name="sales").permissions.remove(permission)
    assert not fresh(user).has_perm("orders.add_salesorder")


def test_a_permission_granted_directly_counts_at_once():
    user = UserFactory()
    assert not fresh(user).has_perm("orders.view_customer")
    user.user_permissions.add(Permission.objects.get(codename="view_customer"))
    assert fresh(user).has_perm("orders.view_customer")


def test_an_inactive_user_has_no_permission_even_when_cached():
    user = UserFactory(role="sales")
    assert fresh(user).has_perm("orders.add_salesorder")
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    assert not fresh(user).has_perm("orders.add_salesorder")
