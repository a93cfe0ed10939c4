"""The enabled systems each process keeps for the outbox: every change of a system is seen at the next event,
in this process and (through the shared cache's version) in every other one; a rolled-back change never."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from crm_sync import outbox
from crm_sync.models import Delivery, ExternalSystem, OutboxEvent
from crm_sync.outbox.systems import SYSTEMS_VERSION_KEY
from tests.crm_sync.factories import ExternalSystemFactory
from tests.factories import make_order

pytestmark = pytest.mark.django_db


def systems_told(order) -> list[int]:
    return sorted(Delivery.objects.filter(order=order).values_list("system_id", flat=True))


def test_the_second_event_reads_no_systems_from_the_database(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the system's creation, committed
        ExternalSystemFactory()
    make_order()

    with CaptureQueriesContext(connection) as queries:
        outbox.enabled_systems()

    assert not [q for q in queries.captured_queries if "crm_sync_externalsystem" in q["sql"]]


def test_a_system_added_after_the_systems_were_read_gets_the_next_event():
    make_order()
    system = ExternalSystemFactory()

    order = make_order()

    assert systems_told(order) == [system.pk]


def test_a_system_disabled_after_the_systems_were_read_gets_no_further_event():
    system = ExternalSystemFactory()
    assert systems_told(make_order()) == [system.pk]
    system.is_enabled = False
    system.save()

    assert systems_told(make_order()) == []


def test_a_change_another_process_made_is_seen_through_the_shared_version():
    system = ExternalSystemFactory()
    assert systems_told(make_order()) == [system.pk]
    # Another process: its signal replaced the version in the shared cache, not in this process.
    ExternalSystem.objects.filter(pk=system.pk).update(is_enabled=False)
    cache.set(SYSTEMS_VERSION_KEY, "set-by-another-process", timeout=None)

    assert systems_told(make_order()) == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_system_added_in_a_rolled_back_transaction_is_never_told_anything():
    make_order()  # the systems are read and cached: none
    with pytest.raises(RuntimeError), transaction.atomic():
        ExternalSystemFactory()
        assert OutboxEvent.objects.get(order=make_order()).deliveries.count() == 1  # its own change, seen
        raise RuntimeError("rolled back")

    order = make_order()

    assert ExternalSystem.objects.count() == 0
    assert systems_told(order) == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_committed_change_is_seen_by_the_next_event():
    make_order()
    with transaction.atomic():
        system = ExternalSystemFactory()

    assert systems_told(make_order()) == [system.pk]
