"""Orders created in bulk (spreadsheet imports): the same orders, lines, history and outbox events as
order_create one by one, all or nothing, idempotent, with progress, and a preview in a fixed number of
queries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from celery.signals import before_task_publish
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.kernel import message_text
from config.kernel.errors import Conflict, ValidationFailed
from crm_sync.models import Delivery, OutboxEvent
from orders import sales as services
from orders.imports import import_job_commit, import_job_run
from orders.imports import jobs as imports
from orders.models import (
    CustomerTier,
    ImportJobStatus,
    OrderLine,
    OrderNumberAllocation,
    SalesOrder,
)
from tests.crm_sync.factories import ExternalSystemFactory
from tests.factories import CustomerFactory, ProductFactory, in_days
from tests.orders.imports.test_import import imported, row, validated, xlsx

pytestmark = pytest.mark.django_db

ORDER_FIELDS = (
    "customer_id",
    "owner_id",
    "customer_po",
    "crm_id",
    "requested_date",
    "promised_date",
    "priority",
    "priority_overridden",
    "priority_reason",
    "remarks",
    "status",
    "status_before_hold",
    "revision",
    "version",
)
LINE_FIELDS = ("line_no", "product_id", "quantity", "unit", "spec_values", "due_date")


@pytest.fixture
def catalog(db):
    return {"customer": CustomerFactory(code="HARBOUR"), "product": ProductFactory(sku="PNL-1")}


def orders_to_create(prefix: str, *, standard, vip, panel, bracket) -> list[services.NewOrder]:
    return [
        services.NewOrder(
            customer=standard,
            lines=[
                {
                    "product": panel,
                    "quantity": "5",
                    "spec_values": {"material": "steel", "thickness_mm": 2.5},
                },
                {
                    "product": bracket.pk,
                    "quantity": Decimal("7.5"),
                    "spec_values": {"material": "aluminium", "thickness_mm": 1, "finish": "powder"},
                    "due_date": in_days(40),
                },
            ],
            customer_po=f"{prefix}-PO",
            requested_date=in_days(30),
            promised_date=in_days(35),
            remarks="two lines",
            reason=f"Imported from {prefix}.xlsx, row 2",
            external_ref=f"{prefix}-1",
        ),
        # A VIP customer's order takes its priority from the tier.
        services.NewOrder(
            customer=vip,
            lines=[
                {"product": panel, "quantity": 1, "spec_values": {"material": "steel", "thickness_mm": 3}}
            ],
            crm_id=f"{prefix}-CRM",
            reason=f"Imported from {prefix}.xlsx, row 4",
            external_ref=f"{prefix}-2",
        ),
        # A priority overridden with a reason; no reason given to the service: history says "Order entered".
        services.NewOrder(
            customer=standard,
            lines=[
                {"product": panel, "quantity": 2, "spec_values": {"material": "steel", "thickness_mm": 4}}
            ],
            priority=4,
            priority_reason="line stop at the customer",
            external_ref=f"{prefix}-3",
        ),
    ]


def snapshot(order: SalesOrder, prefix: str) -> dict:
    """Everything an order is, with what must differ between two copies (ids, numbers, refs) masked."""

    def mask(value):
        return (
            value.replace(order.number, "NUMBER").replace(prefix, "PREFIX")
            if isinstance(value, str)
            else value
        )

    def deep(value):
        if isinstance(value, dict):
            return {k: deep(v) for k, v in value.items()}
        if isinstance(value, list):
            return [deep(v) for v in value]
        return mask(value)

    lines = list(order.lines.order_by("line_no"))
    return {
        "order": {name: mask(getattr(order, name)) for name in ORDER_FIELDS},
        "external_ref": mask(order.external_ref),
        "lines": [{name: getattr(line, name) for name in LINE_FIELDS} for line in lines],
        "order_history": [
            (
                h.history_type,
                h.history_user_id,
                mask(h.history_change_reason),
                h.status,
                h.priority,
                h.version,
            )
            for h in order.history.order_by("history_id")
        ],
        "line_history": sorted(
            (h.history_type, h.history_user_id, mask(h.history_change_reason), h.line_no, h.quantity)
            for h in OrderLine.history.filter(order_id=order.pk)
        ),
        "outbox": [
            (
                event.type,
                event.sequence,
                event.subject == order.number,
                event.actor_id,
                mask(event.reason),
                event.origin,
                event.state,
                event.source,
                deep(event.data),
                sorted(
                    (d.system_id, d.sequence, d.state, d.order_id == order.pk) for d in event.deliveries.all()
                ),
            )
            for event in OutboxEvent.objects.filter(order=order).order_by("sequence")
        ],
    }


def test_bulk_creation_gives_what_order_create_gives_one_by_one(sales, django_capture_on_commit_callbacks):
    standard = CustomerFactory(tier=CustomerTier.STANDARD)
    vip = CustomerFactory(tier=CustomerTier.VIP)
    panel, bracket = ProductFactory(), ProductFactory(unit="kg")
    crm = ExternalSystemFactory()
    ExternalSystemFactory(event_types=["order.released"])  # takes no "order.created"
    one_by_one = orders_to_create("ONE", standard=standard, vip=vip, panel=panel, bracket=bracket)
    in_bulk = orders_to_create("BULK", standard=standard, vip=vip, panel=panel, bracket=bracket)

    with django_capture_on_commit_callbacks() as single_callbacks:
        singles = [
            services.order_create(
                actor=sales,
                customer=new.customer,
                lines=new.lines,
                customer_po=new.customer_po,
                crm_id=new.crm_id,
                requested_date=new.requested_date,
                promised_date=new.promised_date,
                priority=new.priority,
                priority_reason=new.priority_reason,
                remarks=new.remarks,
                reason=new.reason,
                external_ref=new.external_ref,
            )
            for new in one_by_one
        ]
    woken: list[int] = []

    def seen(sender=None, body=None, **kwargs):
        if sender == "crm_sync.deliver_order":
            woken.append(body[0][1])
        elif sender == "crm_sync.deliver_orders":
            woken.extend(body[0][1])

    before_task_publish.connect(seen, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True) as bulk_callbacks:
            bulk = services.order_create_many(actor=sales, orders=in_bulk, chunk_size=2)
    finally:
        before_task_publish.disconnect(seen)

    assert [snapshot(o, "BULK") for o in bulk] == [snapshot(o, "ONE") for o in singles]
    assert [o.priority for o in bulk] == [2, 4, 4]
    assert message_text(OrderLine.history.get(order_id=bulk[0].pk, line_no=1).history_change_reason) == (
        "Imported from BULK.xlsx, row 2"
    )
    assert SalesOrder.history.get(id=bulk[2].pk).history_change_reason == "Order entered"
    assert Delivery.objects.filter(order__in=bulk, system=crm).count() == 3
    # Every order woken for delivery after commit, as one by one (a wake-up task per chunk's orders).
    assert len(single_callbacks) == 3
    assert sorted(woken) == sorted(o.pk for o in bulk) and len(bulk_callbacks) == 2
    assert len({o.number for o in [*singles, *bulk]}) == 6


def test_a_bad_order_late_in_the_file_saves_nothing_and_names_its_row(sales, catalog, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_ORDERS", 2)
    retired = ProductFactory(sku="OLD-1")
    rows = [row(f"R{n}") for n in range(1, 6)] + [row("R6", sku="OLD-1")]
    job = validated(sales, xlsx(rows))
    import_job_commit(actor=sales, job=job)
    # Between preview and import the last row's product is withdrawn; earlier chunks were fine.
    retired.is_active = False
    retired.save()

    job = import_job_run(job_id=job.pk)

    assert job.status == ImportJobStatus.INVALID
    [error] = job.errors
    assert error["row"] == 7 and "Row 7 (R6)" in error["message"] and "no longer sold" in error["message"]
    assert not SalesOrder.objects.exists()
    assert not OrderLine.objects.exists() and not SalesOrder.history.exists()
    assert not OutboxEvent.objects.exists() and not OrderNumberAllocation.objects.exists()


def test_an_external_reference_taken_meanwhile_refuses_the_batch_naming_the_order(sales, catalog):
    services.order_create(
        actor=sales, customer=catalog["customer"], lines=[], external_ref="R2", reason="earlier import"
    )
    new = [
        services.NewOrder(customer=catalog["customer"], lines=[], external_ref=ref) for ref in ("R1", "R2")
    ]

    with pytest.raises(Conflict) as refused:
        services.order_create_many(actor=sales, orders=new)

    assert refused.value.index == 1
    assert list(SalesOrder.objects.values_list("external_ref", flat=True)) == ["R2"]


def test_the_first_invalid_order_refuses_the_batch_with_its_position(sales, catalog):
    new = [
        services.NewOrder(customer=catalog["customer"], lines=[], external_ref="R1"),
        services.NewOrder(customer=catalog["customer"], lines=[], requested_date=in_days(-1)),
    ]

    with pytest.raises(ValidationFailed) as refused:
        services.order_create_many(actor=sales, orders=new)

    assert refused.value.index == 1 and "requested_date" in refused.value.fields
    assert not SalesOrder.objects.exists()


def test_reimporting_a_file_in_bulk_skips_the_orders_already_imported(sales, catalog):
    first = imported(sales, xlsx([row("R1"), row("R2")]))

    again = imported(sales, xlsx([row("R1"), row("R2"), row("R3")]))

    assert len(first.created_order_numbers) == 2 and len(again.created_order_numbers) == 1
    assert sorted(SalesOrder.objects.values_list("external_ref", flat=True)) == ["R1", "R2", "R3"]
    assert OutboxEvent.objects.filter(type="order.created").count() == 3


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_import_reports_progress_after_each_chunk_while_its_transaction_is_open(
    sales, catalog, monkeypatch
):
    monkeypatch.setattr(imports, "CHUNK_ORDERS", 2)
    job = validated(sales, xlsx([row(f"R{n}") for n in range(1, 6)]))
    import_job_commit(actor=sales, job=job)
    seen = []
    report = imports._set_progress

    def spy(job_id, done, total, **kwargs):
        report(job_id, done, total, **kwargs)
        # What the polling page reads, and whether the orders are committed yet (not while importing).
        seen.append((imports.progress(job), connection.in_atomic_block))

    monkeypatch.setattr(imports, "_set_progress", spy)

    import_job_run(job_id=job.pk)

    assert seen == [
        ({"done": 0, "total": 5, "phase": ""}, True),  # the run holds its job's row lock from here
        ({"done": 2, "total": 5, "phase": ""}, True),
        ({"done": 4, "total": 5, "phase": ""}, True),
        ({"done": 5, "total": 5, "phase": ""}, True),
        ({"done": 5, "total": 5, "phase": ""}, False),
    ]


def test_the_preview_checks_a_file_in_a_fixed_number_of_queries(sales, catalog):
    def queries_to_validate(rows: int) -> int:
        content = xlsx([row(f"Q{rows}-{n}") for n in range(rows)])
        with CaptureQueriesContext(connection) as queries:
            job = validated(sales, content)
        assert job.status == ImportJobStatus.VALID, job.errors
        return len(queries)

    queries_to_validate(1)  # warms the permission and content-type caches
    few = queries_to_validate(2)

    assert queries_to_validate(40) == few


def test_a_crm_id_repeated_in_the_file_is_named_at_its_second_row(sales, catalog):
    headers = [
        "external_ref",
        "customer_code",
        "crm_id",
        "sku",
        "quantity",
        "spec.material",
        "spec.thickness_mm",
    ]
    rows = [
        ["R1", "HARBOUR", "CRM-1", "PNL-1", 1, "steel", 2],
        ["R2", "HARBOUR", "CRM-1", "PNL-1", 1, "steel", 2],
    ]

    job = validated(sales, xlsx(rows, headers=headers))

    assert [(e["row"], e["column"]) for e in job.errors] == [(3, "crm_id")]
