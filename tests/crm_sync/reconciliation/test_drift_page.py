"""The drift page and the admin show each drift's differences as a table: field, ours, theirs."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from crm_sync import reconciliation
from crm_sync.models import Drift, ExternalSystem
from tests.crm_sync.factories import ExternalSystemFactory

pytestmark = pytest.mark.django_db

NOW = "2026-11-26T00:00:00Z"


def drift(**fields):
    system = fields.pop("system", None) or ExternalSystemFactory(
        name="Plant MES", kind=ExternalSystem.Kind.MES
    )
    return Drift.objects.create(system=system, detected_at=NOW, last_seen_at=NOW, **fields)


def rows(found):
    return [(row.label, row.ours, row.theirs) for row in reconciliation.drift_rows(found)]


def test_a_drift_lists_only_the_fields_that_differ():
    found = drift(
        subject="SO-1",
        kind=Drift.Kind.REVISION,
        ours={"revision": 3, "work_orders": ["SO-1-01"]},
        theirs={"revision": 2, "work_orders": ["SO-1-01"]},
    )

    assert rows(found) == [("Revision", "3", "2")]


def test_what_one_side_does_not_hold_is_a_dash():
    found = drift(
        subject="SO-1-02",
        work_order="SO-1-02",
        kind=Drift.Kind.MISSING_THERE,
        ours={"quantity": "5.000", "status": "Held"},
    )

    assert rows(found) == [("Quantity", "5.000", "—"), ("Status", "Held", "—")]


def test_lists_and_mappings_read_as_one_line_and_long_values_are_cut():
    found = drift(
        subject="CRM-9",
        kind=Drift.Kind.MISSING_HERE,
        theirs={"work_orders": ["A", "B"], "document": {"type": "order.created", "data": "x" * 300}},
    )

    [(label, ours, listed), (other, _none, document)] = rows(found)

    assert (label, ours, listed) == ("Work orders", "—", "A, B")
    assert other == "Document" and document.startswith("type: order.created; data: xxx")
    assert len(document) == 120 and document.endswith("…")


@pytest.fixture
def quantity_drift():
    return drift(
        subject="SO-7-01",
        work_order="SO-7-01",
        kind=Drift.Kind.QUANTITY,
        ours={"quantity": "12.000"},
        theirs={"quantity": "10"},
    )


def test_the_drift_page_shows_the_work_order_and_a_table_of_field_ours_theirs(
    client, planner, quantity_drift
):
    client.force_login(planner)

    page = client.get(reverse("sync:drift")).content.decode()

    assert 'data-testid="drift-differences"' in page
    assert '<th scope="row" class="fw-normal">Quantity</th><td>12.000</td><td>10</td>' in page
    assert "SO-7-01" in page and "Quantity differs" in page
    assert "{&#x27;quantity&#x27;" not in page  # no raw dicts


def test_the_drift_page_speaks_chinese(client, planner, quantity_drift):
    client.force_login(planner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"

    page = client.get(reverse("sync:drift")).content.decode()

    assert '<th scope="row" class="fw-normal">数量</th><td>12.000</td><td>10</td>' in page
    assert "字段" in page and "我方" in page and "对方" in page


def test_the_admin_shows_the_differences_as_a_table(client, admin_user, quantity_drift):
    client.force_login(admin_user)

    page = client.get(reverse("admin:crm_sync_drift_change", args=[quantity_drift.pk])).content.decode()

    assert "<tr><th>Quantity</th><td>12.000</td><td>10</td></tr>" in page


def test_the_admin_list_shows_the_differences_too(client, admin_user, quantity_drift):
    client.force_login(admin_user)

    page = client.get(reverse("admin:crm_sync_drift_changelist")).content.decode()

    assert "<tr><th>Quantity</th><td>12.000</td><td>10</td></tr>" in page
