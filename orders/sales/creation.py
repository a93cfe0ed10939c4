"""Entering orders: one pipeline, prepare → write → publish, where a single order is a batch of one.

- prepare: the input rules on every order of the batch in a fixed number of queries (products by id in
  one, CRM ids in one more), each order unsaved, with its cleaned lines and its errors;
- write: numbers from one counter, then per chunk the orders, their history rows, their lines and the
  lines' history rows, each in one statement, stamped with the actor and the reason; the lines stay in
  hand on their order (orders.sales.lines);
- publish: each order's "order.created" with its own snapshot, together (config.kernel.deferred: a
  subscriber's batch form writes them at once; inside a caller's deferred block they wait for its end).

The doors are thin: `order_create` (a form, the API, the demo), `order_create_many` (a spreadsheet import),
`order_create_and_advance` (a CRM's order entered in a later status: created, then confirmed, released…
in one transaction) and the checks alone for previews (`order_create_errors`, `order_create_many_errors`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.history import bulk_history_copy
from config.kernel import Conflict, Message, ValidationFailed, deferred, event_reasons, require, stamp
from config.kernel import events as domain_events
from config.kernel.quantities import quantize
from orders.catalog.models import Customer, Priority
from orders.sales.lines import keep_lines, new_line
from orders.sales.models import OrderLine, OrderNumberAllocation, SalesOrder
from orders.sales.rules import (
    NOT_CLEANED,
    CleanedLine,
    FieldErrors,
    LineInput,
    ResolvedPriority,
    check_dates,
    clean_lines,
    lines_products,
    resolve_priority,
)
from orders.sales.snapshots import order_event_publish
from orders.sales.transitions import ORDER_TRANSITIONS, order_transition_in_transaction
from orders.validation import full_clean

if TYPE_CHECKING:
    from django.contrib.auth.models import User

ADD_ORDER = "orders.add_salesorder"


@dataclass
class NewOrder:
    """One order to enter: the arguments order_create takes."""

    customer: Customer | None
    lines: Sequence[LineInput] = field(default_factory=list)
    customer_po: str = ""
    crm_id: str = ""
    requested_date: dt.date | None = None
    promised_date: dt.date | None = None
    priority: int | None = None
    priority_reason: str = ""
    remarks: str = ""
    # A person's words, or a system's message (an import's "Imported from …, row …").
    reason: str | Message = ""
    promised_time: dt.time | None = None
    start_not_before: dt.datetime | None = None
    # The source row of an import; unique, so an import never makes a duplicate.
    external_ref: str = ""
    # The caller has just found no order with this CRM id in this transaction (a CRM's "created" message):
    # it is not looked up again; the unique index still decides a race.
    crm_id_checked: bool = False


@dataclass
class _Prepared:
    new: NewOrder
    order: SalesOrder  # unsaved, without its number
    lines: list[CleanedLine]
    errors: FieldErrors


# --- the pipeline -------------------------------------------------------------------------------------------
def _prepare(*, actor: User | None, orders: Sequence[NewOrder]) -> list[_Prepared]:
    """The input rules on every order of a batch, in a fixed number of queries.

    Products given by id are read in one query; the CRM ids in one more (a CRM id repeated inside the batch
    is refused on its second use, as the unique index would). Spec values are checked against each
    family's compiled validator (orders.catalog.specs caches it), then each order's fields.
    """
    products = lines_products([new.lines for new in orders])
    crm_ids = {new.crm_id for new in orders if new.crm_id and not new.crm_id_checked}
    taken = (
        set(SalesOrder.objects.filter(crm_id__in=crm_ids).values_list("crm_id", flat=True))
        if crm_ids
        else set()
    )
    prepared: list[_Prepared] = []
    for new in orders:
        customer = new.customer
        errors: FieldErrors = {}
        if customer is None:
            errors["customer"] = [_("This field is required.")]
        elif not customer.is_active:
            errors["customer"] = [_("This customer is inactive.")]
        dates = {"requested_date": new.requested_date, "promised_date": new.promised_date}
        errors.update(check_dates(dates, changed={"requested_date", "promised_date"}))
        if new.promised_time is not None and new.promised_date is None:
            errors["promised_time"] = [_("A promised time needs a promised date.")]
        cleaned, line_errors = clean_lines(new.lines or [], products=products, default_due=new.requested_date)
        errors.update(line_errors)
        priority = ResolvedPriority(Priority.NORMAL)
        if customer is not None:
            priority = resolve_priority(customer=customer, priority=new.priority, reason=new.priority_reason)
            errors.update(priority.errors)
        if new.crm_id and new.crm_id in taken:
            errors["crm_id"] = [_("Another order already has this CRM id.")]
        if new.crm_id:
            taken.add(new.crm_id)
        order = SalesOrder(
            customer=customer,
            owner=actor,
            customer_po=new.customer_po or "",
            crm_id=new.crm_id or "",
            requested_date=new.requested_date,
            promised_date=new.promised_date,
            promised_time=new.promised_time,
            start_not_before=new.start_not_before,
            priority=priority.value,
            priority_overridden=priority.overridden,
            priority_reason=priority.reason,
            remarks=new.remarks or "",
            external_ref=new.external_ref or "",
        )
        try:
            full_clean(order, exclude=NOT_CLEANED)
        except ValidationFailed as exc:
            for key, messages in exc.fields.items():
                errors.setdefault(key, []).extend(m for m in messages if m not in errors.get(key, []))
        prepared.append(_Prepared(new=new, order=order, lines=cleaned, errors=errors))
    return prepared


def _write(chunk: Sequence[_Prepared], *, actor: User | None, offset: int) -> None:
    """Insert a chunk of prepared orders (numbered) with their lines and history rows; keep the lines in hand.

    Each history row is what order_create's save would write: the actor, and the order's reason or
    "Order entered"."""
    default_reason = _("Order entered")
    orders = [item.order for item in chunk]
    for item in chunk:
        stamp(item.order, actor=actor, reason=item.new.reason or default_reason)
    _insert_orders(orders, offset=offset)
    now = timezone.now()
    bulk_history_copy(SalesOrder, orders, default_user=actor, default_date=now)
    lines_of: list[list[OrderLine]] = []
    for item in chunk:
        order_lines = [
            new_line(item.order, line, line_no=line_no) for line_no, line in enumerate(item.lines, start=1)
        ]
        for order_line in order_lines:
            stamp(order_line, actor=actor, reason=item.new.reason or default_reason)
        lines_of.append(order_lines)
    all_lines = [line for order_lines in lines_of for line in order_lines]
    if all_lines:
        OrderLine.objects.bulk_create(all_lines)
        bulk_history_copy(OrderLine, all_lines, default_user=actor, default_date=now)
    for item, order_lines in zip(chunk, lines_of, strict=True):
        keep_lines(item.order, order_lines)


def _publish(chunk: Sequence[_Prepared], *, actor: User | None) -> None:
    """Each new order's "order.created", published together (one outbox write for the chunk)."""
    with deferred():
        for item in chunk:
            order_event_publish(
                item.order,
                domain_events.OrderCreated,
                actor=actor,
                **event_reasons(item.new.reason),
                lines=item.order.loaded_lines,
                order_is_new=True,
            )


def _create(
    *,
    actor: User | None,
    orders: Sequence[NewOrder],
    action: str,
    target: str,
    chunk_size: int = 500,
    progress: Callable[[int, int], None] | None = None,
) -> list[SalesOrder]:
    """The pipeline, in the caller's transaction (no savepoint of its own): prepare all, refuse the first
    invalid order, number them all, then write and publish chunk by chunk."""
    require(actor, ADD_ORDER, action=action, target=target)
    prepared = _prepare(actor=actor, orders=orders)
    for index, item in enumerate(prepared):
        if item.errors:
            raise _with_index(
                ValidationFailed(_("Please correct the errors below."), fields=item.errors), index
            )
    for item, number in zip(prepared, next_order_numbers(len(prepared)), strict=True):
        item.order.number = number
    created: list[SalesOrder] = []
    total = len(prepared)
    for start in range(0, total, chunk_size):
        chunk = prepared[start : start + chunk_size]
        _write(chunk, actor=actor, offset=start)
        _publish(chunk, actor=actor)
        created.extend(item.order for item in chunk)
        if progress is not None:
            progress(len(created), total)
    return created


_E = TypeVar("_E", bound=Exception)


def _with_index(exc: _E, index: int) -> _E:
    """Tag a batch's error with the position of the order it is about (an import names its row)."""
    exc.index = index  # type: ignore[attr-defined]
    return exc


def _insert_orders(orders: list[SalesOrder], *, offset: int) -> None:
    """bulk_create the orders. Two transactions may race past the checks with one CRM id or external
    reference: the unique indexes decide, and a value taken meanwhile is a Conflict naming the first order
    concerned (a savepoint keeps the transaction usable to find it; none is needed without such values)."""
    if not any(order.crm_id or order.external_ref for order in orders):
        SalesOrder.objects.bulk_create(orders)
        return
    try:
        with transaction.atomic():
            SalesOrder.objects.bulk_create(orders)
    except IntegrityError as exc:
        refs = {o.external_ref for o in orders if o.external_ref}
        crm_ids = {o.crm_id for o in orders if o.crm_id}
        taken_refs = set(
            SalesOrder.objects.filter(external_ref__in=refs).values_list("external_ref", flat=True)
        )
        taken_crm = set(SalesOrder.objects.filter(crm_id__in=crm_ids).values_list("crm_id", flat=True))
        for index, order in enumerate(orders):
            if order.external_ref in taken_refs:
                conflict = Conflict(
                    _("Another order already has this external reference."),
                    fields={"external_ref": [order.external_ref]},
                )
                raise _with_index(conflict, offset + index) from exc
            if order.crm_id in taken_crm:
                conflict = Conflict(
                    _("Another order already has this CRM id."), fields={"crm_id": [order.crm_id]}
                )
                raise _with_index(conflict, offset + index) from exc
        raise


def _order_number(allocated: int, *, year: int) -> str:
    return f"{settings.ORDER_NUMBER_PREFIX}-{year}-{allocated:06d}"


def next_order_numbers(count: int) -> list[str]:
    """`count` new order numbers, in one statement per 1,000.

    The database's sequence hands each row a value no other transaction gets; they need not be
    consecutive (another intake may interleave), so they are sorted to follow the caller's order.
    """
    if count <= 0:
        return []
    allocations = OrderNumberAllocation.objects.bulk_create(
        [OrderNumberAllocation() for _ in range(count)], batch_size=1000
    )
    year = timezone.localdate().year
    return [_order_number(pk, year=year) for pk in sorted(a.pk for a in allocations)]


# --- the doors ------------------------------------------------------------------------------------------
@transaction.atomic
def order_create(
    *,
    actor: User | None,
    customer: Customer | None,
    lines: Sequence[LineInput],
    customer_po: str = "",
    crm_id: str = "",
    requested_date: dt.date | None = None,
    promised_date: dt.date | None = None,
    priority: int | None = None,
    priority_reason: str = "",
    remarks: str = "",
    reason: str | Message = "",
    external_ref: str = "",
    crm_id_checked: bool = False,
    promised_time: dt.time | None = None,
    start_not_before: dt.datetime | None = None,
) -> SalesOrder:
    """Create a draft order with its lines. Lines may be empty (a draft); confirm needs at least one.

    `external_ref` names the source row of an import; it is unique, so an import never makes a duplicate.
    `crm_id_checked`: the caller has just found no order with this CRM id in this transaction (a CRM's
    "created" message), so it is not looked up again; the unique index still decides a race.
    The returned order has its lines in hand (orders.sales.lines.loaded_lines), as written.
    """
    new = NewOrder(
        customer=customer,
        lines=lines,
        customer_po=customer_po,
        crm_id=crm_id,
        requested_date=requested_date,
        promised_date=promised_date,
        promised_time=promised_time,
        start_not_before=start_not_before,
        priority=priority,
        priority_reason=priority_reason,
        remarks=remarks,
        reason=reason,
        external_ref=external_ref,
        crm_id_checked=crm_id_checked,
    )
    [order] = _create(
        actor=actor, orders=[new], action="order_create", target=customer.code if customer else "-"
    )
    return order


@transaction.atomic
def order_create_many(
    *,
    actor: User | None,
    orders: Sequence[NewOrder],
    chunk_size: int = 500,
    progress: Callable[[int, int], None] | None = None,
) -> list[SalesOrder]:
    """Create many draft orders at once, all or none: order_create for each, in bulk.

    Each order gets what order_create would give it: the same checks (the first failing order refuses the
    whole batch with ValidationFailed, its position in `.index`), a number from the same counter, priority
    from its customer's tier, revision and version 1, its lines, history rows for the order and each line
    (the actor; the order's reason, or "Order entered"), and its "order.created" event. Rows are written
    `chunk_size` orders at a time; `progress(done, total)` is called after each chunk (from inside this
    transaction: it must report through something other than this database connection).

    An external reference or CRM id taken meanwhile by another transaction refuses the batch (Conflict).
    """
    return _create(
        actor=actor,
        orders=orders,
        action="order_create_many",
        target=f"{len(orders)} orders",
        chunk_size=chunk_size,
        progress=progress,
    )


# No savepoint of its own inside a caller's transaction (it runs once per CRM message): on an error the
# caller's transaction or savepoint must roll back, as inbound processing does.
@transaction.atomic(savepoint=False)
def order_create_and_advance(
    *, actor: User | None, transitions: Sequence[str], reason: str = "", **fields: Any
) -> SalesOrder:
    """order_create (`fields` are its arguments), then each transition in `transitions` (e.g. confirm,
    release) in the same transaction.

    For an order entered elsewhere in a later status (a CRM's "created, released"). The same checks,
    permissions, history rows and events (order.created, order.confirmed, …, each with its own snapshot) as
    the separate calls, for fewer queries: the new order is not locked and read again before each
    transition (its lines are in hand), and the events are published together at the end (one outbox write
    for all of them). Raises what order_create and the transitions raise; nothing is kept then.
    """
    [order] = order_create_and_advance_many(
        actor=actor, transitions=transitions, orders=[NewOrder(reason=reason, **fields)]
    )
    return order


@transaction.atomic(savepoint=False)
def order_create_and_advance_many(
    *, actor: User | None, transitions: Sequence[str], orders: Sequence[NewOrder]
) -> list[SalesOrder]:
    """order_create_and_advance for each of `orders` (each with its own reason), all or none, written
    together: every order gets what the single call gives it (checks, permissions, history rows, events in
    the same order per order), and the rows of the batch go in a fixed number of statements plus one
    UPDATE per order. For a CRM's orders that arrive faster than one at a time (crm_sync.inbound batches
    the "created, released" messages waiting together). The first invalid order refuses the batch
    (ValidationFailed, its position in `.index`).
    """
    if any(name not in ORDER_TRANSITIONS for name in transitions):
        raise ValidationFailed(_("Unknown action."), fields={"action": [_("Unknown action.")]})
    if not orders:
        return []
    customer = orders[0].customer
    target = customer.code if customer and len(orders) == 1 else f"{len(orders)} orders"
    with deferred():
        created = _create(actor=actor, orders=orders, action="order_create", target=target)
        # Each step gets its own history row and event snapshot, but each row is updated once, at the end
        # (nothing reads it in between: the events are held until the block ends), and the steps' history
        # rows are written together: two queries per step fewer.
        steps: list[SalesOrder] = []
        advanced: list[SalesOrder] = []
        as_inserted = [_column_values(order) for order in created]
        for index, (new, order) in enumerate(zip(orders, created, strict=True)):
            # Quantities as the column holds them (3 places), so that the later events' snapshots read as
            # they would from the database.
            for line in order.loaded_lines:
                line.quantity = quantize(line.quantity)
            try:
                for name in transitions:
                    order = order_transition_in_transaction(
                        actor=actor,
                        order=order,
                        name=name,
                        reason=new.reason,
                        locked=True,
                        unsaved_steps=steps,
                    )
            except Exception as exc:
                _with_index(exc, index)  # the batch's caller names the order it is about
                raise
            advanced.append(order)
        if steps:
            for order, inserted in zip(advanced, as_inserted, strict=True):
                # Only the columns the steps changed (status, version, their timestamps): a short UPDATE.
                changed = [name for name, value in _column_values(order).items() if inserted[name] != value]
                order.save_without_historical_record(update_fields=[*changed, "updated_at"])
            SalesOrder.history.bulk_history_create(steps, update=True)
    return advanced


def _column_values(order: SalesOrder) -> dict[str, Any]:
    return {field.attname: getattr(order, field.attname) for field in SalesOrder._meta.concrete_fields}


# --- the checks alone (previews) ---------------------------------------------------------------------------
def order_create_many_errors(*, orders: Sequence[NewOrder]) -> list[FieldErrors]:
    """order_create's input checks on each order of a batch (field -> messages), writing nothing.

    For previews that check thousands of orders before any is created (spreadsheet imports);
    order_create_many checks everything again when it runs.
    """
    return [item.errors for item in _prepare(actor=None, orders=orders)]


def order_create_errors(
    *,
    customer: Customer | None,
    lines: Sequence[LineInput],
    requested_date: dt.date | None = None,
    promised_date: dt.date | None = None,
    priority: int | None = None,
    priority_reason: str = "",
    crm_id: str = "",
) -> FieldErrors:
    """The input checks order_create makes, without writing anything (field -> messages)."""
    new = NewOrder(
        customer=customer,
        lines=lines,
        requested_date=requested_date,
        promised_date=promised_date,
        priority=priority,
        priority_reason=priority_reason,
        crm_id=crm_id,
    )
    return order_create_many_errors(orders=[new])[0]
