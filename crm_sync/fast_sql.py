"""The integration's hand-written SQL: every statement the ORM does not write for us, in one place.

Each runs on every order that crosses the integration (a delivery claimed and settled, a task message
counted, an inbound message's sequence checked), where the ORM's version cost more CPU or more round trips
than the statement itself (`make bench`, sync). Domain code calls these functions by name; nothing else in
crm_sync builds SQL. Each docstring says what the statement does, why it is SQL, and what runs where it
does not (PostgreSQL runs all of them; SQLite, for `make test` without DATABASE_URL, runs the portable ones
itself and the ORM's spelling of the claim). tests/crm_sync/test_fast_sql.py pins each statement.

Table and column names come from the models' _meta, quoted by the backend: the statements follow a
renamed table. Values are always parameters.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any

from django.db import connection
from django.db.models import Model
from django.utils import timezone

from crm_sync.models import (
    Delivery,
    DeliveryAttempt,
    ExternalSystem,
    InboundCursor,
    InboundMessage,
    OutboxEvent,
    TaskReceipt,
)

__all__ = [
    "claims_in_one_statement",
    "delivery_claim",
    "delivery_record_outcome",
    "inbound_cursor_advance",
    "inbound_message_look_unless_held",
    "inbound_message_state_unless_held",
    "inbound_message_store",
    "outbox_event_settle",
    "outcomes_in_one_statement",
    "task_receipt_count",
    "task_receipt_done",
]


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@functools.cache
def _columns(model: type[Model]) -> tuple[Any, ...]:
    """The model's fields that have a column, in declaration order (the order Model.from_db takes)."""
    return tuple(field for field in model._meta.get_fields() if field.concrete)


@functools.cache
def _loading(model: type[Model]) -> tuple[list[str], list[Any]]:
    """(attnames, each field's from_db_value or None) of the model's columns, worked out once per process."""
    fields = _columns(model)
    return [field.attname for field in fields], [getattr(field, "from_db_value", None) for field in fields]


def _instance(model: type[Model], values: tuple[Any, ...] | list[Any]) -> Any:
    """A model instance from its columns as the database returned them, through the ORM's public doors:
    each field's `from_db_value` (JSON text → Python, as every query does), then `Model.from_db` (the
    instance as loaded, not "adding"). PostgreSQL's driver already gives every other column type of these
    models as its Python value; the pinning test compares every field with the ORM's own read."""
    attnames, from_db_values = _loading(model)
    converted = [
        value if from_db_value is None else from_db_value(value, None, connection)
        for from_db_value, value in zip(from_db_values, values, strict=True)
    ]
    return model.from_db(connection.alias, attnames, converted)


# --- the delivery claim ---------------------------------------------------------------------------------
_CLAIMED = (Delivery, OutboxEvent, ExternalSystem)
_claim_statement: str | None = None


def claims_in_one_statement() -> bool:
    """Whether delivery_claim can run here (UPDATE … FROM with a locking sub-select: PostgreSQL)."""
    return connection.vendor == "postgresql"


def _claim_sql() -> str:
    global _claim_statement
    if _claim_statement is None:
        q = connection.ops.quote_name
        deliveries, events, systems = (_table(model) for model in _CLAIMED)
        returning = ", ".join(
            f"{alias}.{q(field.column)}"
            for alias, model in zip(("d", "e", "s"), _CLAIMED, strict=True)
            for field in _columns(model)
        )
        _claim_statement = (
            f"UPDATE {deliveries} d SET state = %(in_flight)s, attempts = d.attempts + 1, "  # noqa: S608 - our tables
            "claimed_until = %(now)s"
            " + make_interval(secs => s.connect_timeout + s.read_timeout + %(margin)s), "
            "updated_at = %(now)s "
            f"FROM {events} e, {systems} s "
            "WHERE e.id = d.event_id AND s.id = d.system_id AND d.id = ("
            f"  SELECT c.id FROM {deliveries} c JOIN {systems} cs ON cs.id = c.system_id"
            "   WHERE c.system_id = %(system)s AND c.order_id = %(order)s"
            "   AND cs.is_enabled AND NOT cs.is_paused"
            "   AND ((c.state IN (%(pending)s, %(failed)s) AND c.next_attempt_at <= %(now)s)"
            "        OR (c.state = %(in_flight)s AND c.claimed_until < %(now)s))"
            # The ordering guarantee: no earlier undelivered event of the order for the system.
            f"  AND NOT EXISTS (SELECT 1 FROM {deliveries} p WHERE p.system_id = c.system_id"
            "     AND p.order_id = c.order_id AND p.sequence < c.sequence AND p.state <> %(delivered)s)"
            # Another worker holding this row is busy with it: skip rather than wait.
            "   ORDER BY c.sequence LIMIT 1 FOR UPDATE OF c SKIP LOCKED"
            f") RETURNING {returning}"
        )
    return _claim_statement


def delivery_claim(
    *, system_id: int, order_id: int, now: dt.datetime, lease_margin: float
) -> Delivery | None:
    """Claim the head of one order's queue for one system, if it is due: one UPDATE … RETURNING.

    What: picks the head as `selectors.deliveries_claimable` does (system enabled and not paused; pending or
    failed and due, or in flight with its lease run out; no earlier undelivered event of the order for the
    system), locks it (FOR UPDATE SKIP LOCKED: a row another worker holds is skipped, not waited for),
    marks it in flight with one more attempt and a lease of the system's connect + read timeouts +
    `lease_margin` seconds, and returns the delivery with its event and system, ready to send. None when
    nothing is due. Run in autocommit, the statement is its own transaction: the claim is committed before
    the request goes out, and the sub-select's row lock makes the update a compare-and-set.

    Why SQL: it runs for every delivery. The ORM's version (a locking SELECT with an EXISTS subquery and two
    joins, then the compare-and-set UPDATE, in a transaction of their own) cost more CPU to build than
    anything else on the delivery path, and four round trips instead of one.

    Elsewhere: PostgreSQL only (see claims_in_one_statement). Other databases take the ORM's claim in
    crm_sync.outbox.delivery.delivery_claim_next: `deliveries_claimable()` (SKIP LOCKED where the backend
    has it), then a compare-and-set UPDATE on (state, attempts). Keep their conditions the same.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            _claim_sql(),
            {
                "system": system_id,
                "order": order_id,
                "now": now,
                "margin": lease_margin,
                "pending": Delivery.State.PENDING.value,
                "failed": Delivery.State.FAILED.value,
                "in_flight": Delivery.State.IN_FLIGHT.value,
                "delivered": Delivery.State.DELIVERED.value,
            },
        )
        row = cursor.fetchone()
    if row is None:
        return None
    instances = []
    start = 0
    for model in _CLAIMED:
        width = len(_columns(model))
        instances.append(_instance(model, row[start : start + width]))
        start += width
    delivery, event, system = instances
    delivery.event = event
    delivery.system = system
    return delivery


# --- settling an outbox event ---------------------------------------------------------------------------
def outbox_event_settle(event_id: Any) -> None:
    """Make the event's own state the summary of its deliveries: dead if any is dead, else delivered if
    all are, else pending. One UPDATE with CASE … EXISTS, in the caller's transaction.

    Why SQL: it runs after every delivery attempt, and building the same Case/When/Exists expression
    through the ORM cost more CPU than the statement itself.

    Elsewhere: portable; SQLite runs the same statement (no ORM fallback). Its ORM spelling would be
    `OutboxEvent.objects.filter(pk=…).update(state=Case(When(Exists(dead deliveries), then=DEAD), …))`.
    """
    pk = OutboxEvent._meta.pk.get_db_prep_value(event_id, connection)
    deliveries = _table(Delivery)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_table(OutboxEvent)} SET state = CASE "  # noqa: S608 - our own table names
            f"WHEN EXISTS (SELECT 1 FROM {deliveries} d WHERE d.event_id = %s AND d.state = %s) THEN %s "
            f"WHEN NOT EXISTS (SELECT 1 FROM {deliveries} d WHERE d.event_id = %s AND d.state <> %s) THEN %s "
            "ELSE %s END WHERE id = %s",
            [
                pk,
                Delivery.State.DEAD.value,
                OutboxEvent.State.DEAD.value,
                pk,
                Delivery.State.DELIVERED.value,
                OutboxEvent.State.DELIVERED.value,
                OutboxEvent.State.PENDING.value,
                pk,
            ],
        )


# --- recording a delivery attempt's outcome -------------------------------------------------------------
def outcomes_in_one_statement() -> bool:
    """Whether delivery_record_outcome can run here (data-modifying WITH clauses: PostgreSQL)."""
    return connection.vendor == "postgresql"


@functools.cache
def _outcome_sql(changed: tuple[str, ...]) -> str:
    """The statement for an outcome that sets the Delivery columns `changed` (attnames), once per process."""
    q = connection.ops.quote_name
    deliveries, events, attempts = _table(Delivery), _table(OutboxEvent), _table(DeliveryAttempt)
    attempt_columns = [field for field in DeliveryAttempt._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(q(field.column) for field in attempt_columns)
    values = ", ".join(f"%(attempt_{field.attname})s" for field in attempt_columns)
    column = {field.attname: field.column for field in Delivery._meta.concrete_fields}
    assignments = ", ".join(f"{q(column[name])} = %(set_{name})s" for name in changed)
    others = f"SELECT 1 FROM {deliveries} o WHERE o.event_id = %(event)s AND o.id <> %(delivery)s"  # noqa: S608
    return (
        f"WITH attempt AS (INSERT INTO {attempts} ({columns}) VALUES ({values})), "  # noqa: S608 - our tables
        f"moved AS (UPDATE {deliveries} SET {assignments} "
        "WHERE id = %(delivery)s AND state = %(in_flight)s AND attempts = %(attempts)s RETURNING id), "
        # The event's summary, as outbox_event_settle makes it once the delivery's new state is stored (this
        # statement's snapshot still holds the delivery's old state: the new one comes as a parameter).
        f"settled AS (UPDATE {events} SET state = CASE "
        f"WHEN %(new_state)s = %(dead)s OR EXISTS ({others} AND o.state = %(dead)s) THEN %(event_dead)s "
        f"WHEN %(new_state)s = %(delivered)s AND NOT EXISTS ({others} AND o.state <> %(delivered)s) "
        "THEN %(event_delivered)s ELSE %(event_pending)s END "
        "WHERE id = %(event)s AND EXISTS (SELECT 1 FROM moved)) "
        "SELECT EXISTS (SELECT 1 FROM moved), "
        f"EXISTS (SELECT 1 FROM {deliveries} n WHERE n.system_id = %(system)s AND n.order_id = %(order)s "
        "AND n.id <> %(delivery)s AND n.state NOT IN (%(delivered)s, %(dead)s))"
    )


def delivery_record_outcome(
    *, delivery: Delivery, changes: Mapping[str, Any], attempt: Mapping[str, Any]
) -> tuple[bool, bool]:
    """Log an attempt of a claimed delivery and apply its outcome, in one statement (WITH … INSERT, UPDATE,
    UPDATE, then SELECT). Returns (applied, more): whether the outcome was applied, and whether the
    delivery's order still has something to send to its system (due or not) besides this delivery.

    What: inserts the DeliveryAttempt (`attempt`: its attnames except id and delivery_id); sets `changes`
    (Delivery attnames → values) on the delivery only if it is still in flight with the attempts it was
    claimed with (compare-and-set: a worker overtaken after its lease ran out logs its attempt but does not
    overwrite the newer claim's outcome); and, only if that applied, settles the event as
    `outbox_event_settle` does. A statement is atomic: all of it is stored, or none. Run in autocommit, it
    is its own transaction.

    Why SQL: it runs after every delivery attempt. The ORM's way (a transaction; the attempt's INSERT, the
    compare-and-set UPDATE, the settle; then a read for what is left in the queue) was six round trips,
    and the ORM's INSERT and UPDATE machinery cost more CPU than the statements.

    Elsewhere: PostgreSQL only (see outcomes_in_one_statement). Other databases take the ORM's way in
    crm_sync.outbox.delivery.delivery_record_result. Keep their effects the same.
    """
    changed = tuple(sorted(changes))
    params: dict[str, Any] = {
        "delivery": delivery.pk,
        "event": OutboxEvent._meta.pk.get_db_prep_value(delivery.event_id, connection),
        "system": delivery.system_id,
        "order": delivery.order_id,
        "attempts": delivery.attempts,
        "new_state": changes["state"],
        "in_flight": Delivery.State.IN_FLIGHT.value,
        "delivered": Delivery.State.DELIVERED.value,
        "dead": Delivery.State.DEAD.value,
        "event_dead": OutboxEvent.State.DEAD.value,
        "event_delivered": OutboxEvent.State.DELIVERED.value,
        "event_pending": OutboxEvent.State.PENDING.value,
        "attempt_delivery_id": delivery.pk,
    }
    for name, value in changes.items():
        params[f"set_{name}"] = value
    for name, value in attempt.items():
        params[f"attempt_{name}"] = value
    with connection.cursor() as cursor:
        cursor.execute(_outcome_sql(changed), params)
        applied, more = cursor.fetchone()
    return bool(applied), bool(more)


# --- task receipts (the poison guard's counters) --------------------------------------------------------
def task_receipt_count(*, task_id: str, name: str, args: list[Any], now: dt.datetime) -> TaskReceipt:
    """Count one more delivery of a task message: INSERT … ON CONFLICT (task_id) DO UPDATE SET
    deliveries = deliveries + 1 … RETURNING. A new message starts at 1 (state running).

    Returns the receipt as it now is (id, deliveries, state, first seen as stored; no second query). Run
    in autocommit, the statement commits at once, before the task body runs, so a worker killed by the
    body has counted it. The unique task_id makes concurrent redeliveries of one message count one after
    the other.

    Why SQL: it runs before every task (twice per order: inbound, delivery). The ORM's way is a lock, a
    read, then an insert or an update (get_or_create + select_for_update + F()), three or four round
    trips; bulk_create(update_conflicts=True) cannot add to the stored count.

    Elsewhere: portable; SQLite (≥ 3.35 for RETURNING) runs the same statement (no ORM fallback).
    """
    table = _table(TaskReceipt)
    args_value = TaskReceipt._meta.get_field("args").get_db_prep_save(list(args), connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (task_id, name, args, deliveries, state, first_seen_at, last_seen_at) "  # noqa: S608 - our table name
            "VALUES (%s, %s, %s, 1, %s, %s, %s) "
            f"ON CONFLICT (task_id) DO UPDATE SET deliveries = {table}.deliveries + 1, "
            "last_seen_at = excluded.last_seen_at "
            "RETURNING id, deliveries, state, first_seen_at",
            [task_id, name, args_value, TaskReceipt.State.RUNNING.value, now, now],
        )
        pk, deliveries, state, first_seen_at = cursor.fetchone()
    return TaskReceipt.from_db(
        connection.alias,
        ["id", "task_id", "name", "args", "deliveries", "state", "first_seen_at", "last_seen_at"],
        [pk, task_id, name, list(args), deliveries, state, first_seen_at, now],
    )


def task_receipt_done(*, pk: int) -> None:
    """Mark a task receipt done: UPDATE … SET state = done WHERE id = pk.

    Why SQL: it runs after every task; a plain statement costs less CPU than the ORM's UPDATE machinery
    (`TaskReceipt.objects.filter(pk=pk).update(state=DONE)` is its ORM spelling).

    Elsewhere: portable; SQLite runs the same statement (no ORM fallback).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_table(TaskReceipt)} SET state = %s WHERE id = %s",  # noqa: S608 - our table name
            [TaskReceipt.State.DONE.value, pk],
        )


# --- the inbound cursor ---------------------------------------------------------------------------------
def inbound_cursor_advance(
    *, system_id: int, subject: str, sequence: int, message_id: str, now: dt.datetime
) -> bool:
    """Move a subject's cursor to `sequence` if it is newer than the last one applied; True if it moved.

    One upsert: INSERT … ON CONFLICT (system_id, subject) DO UPDATE … WHERE last_sequence < excluded
    .last_sequence RETURNING id — a row comes back when the cursor was created or moved, none when the
    stored sequence is equal or newer. Runs in the caller's transaction and leaves the cursor row locked
    (the upsert locks the row it inserts, updates, or finds newer), so messages for one subject are applied
    one after the other and a rolled-back effect rolls the cursor back. `subject` and `message_id` are cut
    to their columns' lengths by the caller.

    Why SQL: it runs for every inbound message; the ORM's way (get_or_create, select_for_update, compare,
    update) is three or four round trips.

    Elsewhere: portable; SQLite runs the same statement (no ORM fallback).
    """
    table = _table(InboundCursor)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} "  # noqa: S608 - our own table name
            "(system_id, subject, last_sequence, last_message_id, stale_ignored, updated_at) "
            "VALUES (%s, %s, %s, %s, 0, %s) "
            "ON CONFLICT (system_id, subject) DO UPDATE SET last_sequence = excluded.last_sequence, "
            "last_message_id = excluded.last_message_id, updated_at = excluded.updated_at "
            f"WHERE {table}.last_sequence < excluded.last_sequence "
            "RETURNING id",
            [system_id, subject, sequence, message_id, now],
        )
        return cursor.fetchone() is not None


# --- storing an inbound message -------------------------------------------------------------------------
_store_statement: str | None = None


def _store_sql() -> str:
    global _store_statement
    if _store_statement is None:
        q = connection.ops.quote_name
        meta = InboundMessage._meta
        returning = ", ".join(q(field.column) for field in _columns(InboundMessage))
        _store_statement = (
            f"INSERT INTO {_table(InboundMessage)} "  # noqa: S608 - our own table and column names
            "(system_id, message_id, content_type, body, kind, subject, state, attempts, next_attempt_at, "
            "last_error, result, received_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, 0, %s, '', %s, %s) "
            f"ON CONFLICT ({q(meta.get_field('system').column)}, {q(meta.get_field('message_id').column)}) "
            f"DO NOTHING RETURNING {returning}"
        )
    return _store_statement


def inbound_message_store(
    *,
    system_id: int,
    message_id: str,
    content_type: str,
    body: str,
    kind: str,
    subject: str,
    now: dt.datetime,
) -> InboundMessage | None:
    """Store a received message (state received, due now); None when (system, message id) is stored already.

    One INSERT … ON CONFLICT (system_id, message_id) DO NOTHING RETURNING every column: the new row comes
    back as an instance, no row means a duplicate (the caller reads the stored one). Run in autocommit, the
    statement is its own transaction: the row is committed when this returns, before the web request
    answers. A concurrent insert of the same id waits for the other transaction, then returns None.
    `content_type`, `kind` and `subject` are cut to their columns' lengths by the caller.

    Why SQL: it runs for every message a webhook accepts. The ORM's way (a transaction or savepoint around
    `objects.create`, the unique violation caught as IntegrityError) is three round trips and the model
    save's machinery; this is one.

    Elsewhere: portable; SQLite (≥ 3.35 for RETURNING) runs the same statement (no ORM fallback).
    """
    result = InboundMessage._meta.get_field("result").get_db_prep_save({}, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            _store_sql(),
            [
                system_id,
                message_id,
                content_type,
                body,
                kind,
                subject,
                InboundMessage.State.RECEIVED.value,
                now,
                result,
                now,
            ],
        )
        row = cursor.fetchone()
    return None if row is None else _instance(InboundMessage, row)


def inbound_message_state_unless_held(message_pk: int) -> str | None:
    """The message's state, or None when it is gone or another transaction holds its row (a worker whose
    batch took it): one statement in autocommit, whose row lock ends with it.

    Why SQL: the ORM refuses select_for_update outside a transaction; BEGIN, SELECT … FOR UPDATE SKIP LOCKED
    and COMMIT would be three round trips for what every process task asks first.

    Elsewhere (SQLite: no row locks, one writer at a time): the plain read.
    """
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT state FROM {_table(InboundMessage)} WHERE id = %s{lock}", [message_pk])  # noqa: S608 - our table
        row = cursor.fetchone()
    return row[0] if row else None


def inbound_message_look_unless_held(message_pk: int) -> tuple[str, str, int, dt.datetime, str] | None:
    """(state, kind, attempts, received_at, the system's kind) of the message, or None when it is gone or
    held by another transaction: inbound_message_state_unless_held with what lingering needs (a JOIN)."""
    lock = " FOR UPDATE OF m SKIP LOCKED" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT m.state, m.kind, m.attempts, m.received_at, s.kind FROM {_table(InboundMessage)} m"  # noqa: S608 - our tables
            f" JOIN {_table(ExternalSystem)} s ON s.id = m.system_id WHERE m.id = %s{lock}",
            [message_pk],
        )
        row = cursor.fetchone()
    if not row:
        return None
    state, kind, attempts, received_at, system_kind = row
    if isinstance(received_at, str):  # SQLite hands the column back as text
        received_at = dt.datetime.fromisoformat(received_at)
    if timezone.is_naive(received_at):
        received_at = timezone.make_aware(received_at, dt.UTC)
    return state, kind, attempts, received_at, system_kind
