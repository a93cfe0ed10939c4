"""`crm_sync_setup_demo` points OrderBridge at the simulators that `make run` starts."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from crm_sync.models import ExternalSystem
from crm_sync.outbox import deliveries_drain
from orders.sales import transitions
from tests.crm_sync.conftest import start_simulator
from tests.factories import make_order

pytestmark = pytest.mark.django_db


def test_it_registers_both_simulators_once_however_often_it_runs():
    call_command("crm_sync_setup_demo", stdout=None)
    call_command("crm_sync_setup_demo", stdout=None)

    assert sorted(ExternalSystem.objects.values_list("slug", "format")) == [
        ("crm-simulator", "json"),
        ("mes-simulator", "b2mml"),
    ]


def test_the_simulators_are_registered_on_the_ports_the_procfile_starts_them_on(monkeypatch):
    monkeypatch.setenv("CRM_SIM_PORT", "8111")
    monkeypatch.setenv("MES_SIM_PORT", "8112")
    call_command("crm_sync_setup_demo", stdout=None)

    assert dict(ExternalSystem.objects.values_list("slug", "base_url")) == {
        "crm-simulator": "http://127.0.0.1:8111",
        "mes-simulator": "http://127.0.0.1:8112",
    }


def test_the_demo_secrets_match_what_the_simulators_verify(monkeypatch, sales, planner):
    crm = start_simulator("crm_sync.simulators.crm")  # no --secret: the demo default
    mes = start_simulator("crm_sync.simulators.mes")
    try:
        monkeypatch.setenv("ORDERBRIDGE_CRM_SIM_URL", crm.url)
        monkeypatch.setenv("ORDERBRIDGE_MES_SIM_URL", mes.url)
        call_command("crm_sync_setup_demo", stdout=None)
        order = make_order(owner=sales, confirmed=True)
        order = transitions.order_release(actor=planner, order=order)

        for system in ExternalSystem.objects.all():
            deliveries_drain(system_id=system.pk, order_id=order.pk)

        assert [item["sequence"] for item in crm.received()] == [1, 2, 3]
        assert [item["type"] for item in mes.received()] == ["ProcessOperationsSchedule"]
    finally:
        crm.stop()
        mes.stop()
