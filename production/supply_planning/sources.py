"""What supply planning reads, in bulk: BOM needs per product, items' time lines (stock, open supply,
reservations and holds), and the needs of open work orders timed by the current plan.

Everything here runs a fixed number of queries whatever the number of work orders or items (the MRP and
promise benches hold it to that); the arithmetic is in timeline.py and netting.py.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from config.kernel import ValidationFailed
from production.materials import (
    PURCHASED_KINDS,
    BomBook,
    Item,
    Reservation,
    bom_revision,
    item_position,
)
from production.scheduling.models import Schedule, ScheduleEntry
from production.supply_planning.timeline import Supply, Timeline
from production.work_orders.models import SCHEDULABLE_STATUSES, OperationStatus, WorkOrder, WorkOrderOperation

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass(frozen=True)
class Need:
    """A leaf component of one unit of a product: bought (or made elsewhere), what the promise checks."""

    item: int
    code: str
    per_unit: Decimal
    lead_time_days: int
    operation_sequence: int | None


@dataclass(frozen=True)
class WorkOrderNeed:
    work_order: int
    item: int
    quantity: Decimal
    at: dt.datetime  # when the plan starts the consuming operation (now when not planned yet)
    operation_sequence: int | None


def start_of_day(date: dt.date) -> dt.datetime:
    """Supply expected on a date counts from the start of that day in the plant's time zone."""
    return dt.datetime.combine(date, dt.time(0), tzinfo=timezone.get_default_timezone())


# Explosions kept per (product, spec) while the BOMs are unchanged; past this many, the cache starts over.
MAX_CACHED_EXPLOSIONS = 20_000


# --- BOMs: explosions cached per BOM state -------------------------------------------------------------
_book_lock = threading.Lock()
_cache: dict[str, Any] = {}


def _bom_state() -> tuple[Any, ...]:
    """What cached explosions are valid for: the BOM revision's token (a one-row read; database triggers
    change it on every write to items, BOMs, lines and variants) and today's date (the version in force)."""
    return (bom_revision(), timezone.localdate())


class Explosions:
    """Leaf needs of one unit per (product, spec), from one read of every BOM (shared while BOMs, lines and
    items are unchanged: a quote reads one small row to know)."""

    def __init__(self) -> None:
        self.book = BomBook()
        self.items = {
            item.product_id: item for item in Item.objects.filter(product__isnull=False, is_active=True)
        }
        self.cached: dict[tuple[int, str], list[Need]] = {}

    def needs(self, product_id: int, spec: Mapping[str, Any] | None = None) -> list[Need]:
        """The leaf needs of one unit; a BOM that cannot be exploded for this spec (a quantity-driving
        spec value missing, a BOM containing itself) gives none: work already ordered is not refused here,
        its BOM page shows the error."""
        try:
            return self.needs_or_error(product_id, spec)
        except ValidationFailed:
            return []

    def needs_or_error(self, product_id: int, spec: Mapping[str, Any] | None = None) -> list[Need]:
        """`needs`, but a BOM that cannot be exploded for the spec raises ValidationFailed (a quote asks
        for the spec it lacks instead of promising without the material)."""
        key = (product_id, repr(sorted((spec or {}).items())))
        found = self.cached.get(key)
        if found is None:
            # Raises for a spec the BOM cannot be exploded with (not cached: the message is in the
            # asker's language, and the path is rare).
            found = self._explode(product_id, spec or {})
            with _book_lock:
                if len(self.cached) >= MAX_CACHED_EXPLOSIONS:  # many distinct specs (lengths): start over
                    self.cached.clear()
                self.cached[key] = found
        return found

    def _explode(self, product_id: int, spec: Mapping[str, Any]) -> list[Need]:
        item = self.items.get(product_id)
        if item is None:
            return []
        rows = self.book.explode(item, spec=spec, quantity=Decimal(1), on=timezone.localdate())
        totals: dict[tuple[int, int | None], list[Any]] = {}
        for row in rows:
            if row.is_leaf:
                sequence = row.operation.sequence if row.operation is not None else None
                entry = totals.setdefault((row.item.pk, sequence), [row.item, Decimal(0)])
                entry[1] += row.quantity
        return [
            Need(leaf.pk, leaf.code, quantity, leaf.lead_time_days, sequence)
            for (_, sequence), (leaf, quantity) in totals.items()
        ]


# Inside an `explosions_held()` block: the book read first in the block, reused (None: outside one).
_held: ContextVar[list[Explosions] | None] = ContextVar("supply_planning_explosions_held", default=None)


@contextlib.contextmanager
def explosions_held() -> Iterator[None]:
    """Read the BOM digest once for the whole block, not once per explosions() call: for a caller that
    writes many messages' materials together (a batch of releases' outbox rows), changing no BOM meanwhile."""
    if _held.get() is not None:  # nested: the outer block holds
        yield
        return
    token = _held.set([])
    try:
        yield
    finally:
        _held.reset(token)


def explosions() -> Explosions:
    held = _held.get()
    if held:
        return held[0]
    found = _explosions()
    if held is not None:
        held.append(found)
    return found


def _explosions() -> Explosions:
    state = _bom_state()
    with _book_lock:
        if _cache.get("state") == state:
            cached: Explosions = _cache["explosions"]
            return cached
    found = Explosions()
    with _book_lock:
        _cache["state"], _cache["explosions"] = state, found
    return found


def needs_per_unit(product_ids: Iterable[int]) -> dict[int, list[Need]]:
    book = explosions()
    return {product_id: book.needs(product_id) for product_id in product_ids}


def line_needs(lines: list[tuple[int, Mapping[str, Any]]], *, strict: bool = True) -> list[list[Need]]:
    """Per quote line (product id, spec values): the leaf needs of one unit, exploded with the line's spec.

    A line whose BOM cannot be exploded for its spec (a spec value driving a component quantity is missing
    or not a number) is a ValidationFailed naming `lines[i].spec_values.<attribute>`: a quote without the
    length would otherwise promise without the profile."""
    book = explosions()
    if not strict:
        return [book.needs(product_id, spec) for product_id, spec in lines]
    found: list[list[Need]] = []
    errors: dict[str, list[str]] = {}
    message = ""
    for number, (product_id, spec) in enumerate(lines):
        try:
            found.append(book.needs_or_error(product_id, spec))
        except ValidationFailed as error:
            found.append([])
            message = message or error.message
            for name, messages in (error.fields or {}).items():
                if name == "bom":  # a BOM containing itself: the product cannot be checked
                    errors.setdefault(f"lines[{number}].product", []).append(error.message)
                else:
                    errors.setdefault(f"lines[{number}].spec_values.{name}", []).extend(messages)
    if errors or message:
        raise ValidationFailed(message, fields=errors)
    return found


# --- time lines ------------------------------------------------------------------------------------------
def timelines(
    item_ids: Iterable[int],
    *,
    now: dt.datetime,
    work_order_reservations: bool = True,
    codes: Mapping[int, str] | None = None,
    except_work_orders: Iterable[int] = (),
) -> dict[int, Timeline]:
    """Per item: stock on hand, open purchase order lines by expected date, active reservations and quote
    holds as demand when needed (one query: materials' `item_position`; one more for the items' codes
    unless `codes` gives them). `work_order_reservations=False` leaves out what released work orders
    reserved (when their own needs are counted instead)."""
    ids = list(item_ids)
    if not ids:
        return {}
    if codes is None:
        codes = dict(Item.objects.filter(pk__in=ids).values_list("pk", "code"))
    position = item_position(
        ids, now=now, work_order_reservations=work_order_reservations, except_work_orders=except_work_orders
    )
    lines = {
        item: Timeline(item=codes.get(item, str(item)), on_hand=position.on_hand.get(item, Decimal(0)))
        for item in ids
    }
    for item, supplies in position.supply.items():
        lines[item].supplies.extend(
            Supply(start_of_day(s.expected_date), s.quantity, s.purchase_order_number) for s in supplies
        )
    for row in position.reserved:
        at = start_of_day(row.needed_on) if row.needed_on else now
        lines[row.item_id].demands.append((at, row.open_quantity))
    return lines


def holds_create(
    *,
    rows: list[tuple[int, Decimal, dt.datetime]],
    expires_at: dt.datetime,
    reference: str,
    holder: User | None,
) -> list[Reservation]:
    """Quote holds: reservations without a work order, with an expiry (the caller holds the item locks)."""
    holds = [
        Reservation(
            item_id=item,
            quantity=quantity,
            needed_on=timezone.localtime(at).date(),
            expires_at=expires_at,
            holder=holder,
            reference=reference,
        )
        for item, quantity, at in rows
    ]
    return Reservation.objects.bulk_create(holds)


# --- open work orders' needs, timed by the plan ----------------------------------------------------------
def open_work_orders(ids: Iterable[int] | None = None) -> list[dict[str, Any]]:
    rows = WorkOrder.objects.filter(status__in=SCHEDULABLE_STATUSES)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return [
        dict(row)
        for row in rows.values(
            "id",
            "number",
            "product_id",
            "quantity",
            "order_id",
            "order__number",
            "order__promised_date",
            "order_line__spec_values",
        ).order_by("order__promised_date", "id")
    ]


def work_order_needs(
    work_orders: list[dict[str, Any]], *, now: dt.datetime, schedule: Schedule | None
) -> list[WorkOrderNeed]:
    """The leaf needs of open work orders still to be consumed (operations not completed), each when the
    plan starts its consuming operation (the first open one when the BOM line names none)."""
    ids = [row["id"] for row in work_orders]
    open_ops: dict[int, list[int]] = defaultdict(list)
    for work_order, sequence in (
        WorkOrderOperation.objects.filter(work_order_id__in=ids)
        .exclude(status=OperationStatus.COMPLETED)
        .order_by("work_order_id", "sequence")
        .values_list("work_order_id", "sequence")
    ):
        open_ops[work_order].append(sequence)
    starts: dict[tuple[int, int], dt.datetime] = {}
    if schedule is not None:
        for work_order, sequence, start in ScheduleEntry.objects.filter(
            schedule=schedule, operation__work_order_id__in=ids
        ).values_list("operation__work_order_id", "operation__sequence", "start"):
            starts[(work_order, sequence)] = start
    needs: list[WorkOrderNeed] = []
    book = explosions()
    for row in work_orders:
        sequences = open_ops.get(row["id"])
        if not sequences:
            continue
        for need in book.needs(row["product_id"], row["order_line__spec_values"]):
            sequence = need.operation_sequence if need.operation_sequence is not None else sequences[0]
            if sequence not in sequences:
                continue  # consumed already (its operation is completed: backflushed)
            at = max(now, starts.get((row["id"], sequence), now))
            needs.append(WorkOrderNeed(row["id"], need.item, need.per_unit * row["quantity"], at, sequence))
    return needs


def purchased_item_ids() -> set[int]:
    return set(Item.objects.filter(kind__in=PURCHASED_KINDS).values_list("pk", flat=True))


def lead_times(item_ids: Iterable[int]) -> dict[int, int]:
    return dict(Item.objects.filter(pk__in=list(item_ids)).values_list("pk", "lead_time_days"))


def item_codes(item_ids: Iterable[int]) -> dict[int, str]:
    return dict(Item.objects.filter(pk__in=list(item_ids)).values_list("pk", "code"))


def item_units() -> dict[int, str]:
    return dict(Item.objects.values_list("pk", "unit"))
