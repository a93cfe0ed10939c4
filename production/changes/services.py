"""What a change request does to work already under way, decided case by case.

Two entry points, both registered by production (apps.py / services.py), so orders never imports us:
- `analyse_change(order=, changes=)`: the impact analysis orders.change_requests.services stores on submit and
  shows to approvers (which work orders and operations, how far along, surplus and rework, projected
  completion before/after through the current plan, other orders pushed past their promise);
- `follow_change_request(event)`: on "order.change_applied", inside the apply transaction, the work orders
  follow: they grow, shrink, are cancelled, created, held or resumed, and quantities already made that
  become surplus or wrong are recorded as ChangeDisposition rows with the approver's disposition.

Both use one plan (`_plan_for`), so what the approver saw is what happens.

Rules:
- quantity up: the last unstarted work order grows up to the lot size, the rest becomes new work orders;
  started work is untouched;
- quantity down: unstarted work shrinks or is cancelled first (newest first); then the unmade rest of
  started work; what is already made beyond the new need is surplus. The line cannot go below the
  quantity of its completed work orders (that is an error, not a surplus);
- spec change: unstarted work takes the new spec (work orders read the line); each operation that has
  started under the old spec is flagged (rework or scrap); a scrapped quantity is made again by a new
  work order;
- cancel / remove a line: unstarted work is cancelled, started work is put on hold pending the
  disposition of what was made;
- hold / resume: the work orders follow; date changes: rescheduled, projection compared with the promise.

A third entry point settles what was left open: `change_disposition_decide` (a planner or production
manager decides an open ChangeDisposition row; a work order held pending it is completed or cancelled).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from config.kernel import bus as events
from config.kernel.errors import Conflict, TransitionNotAllowed, ValidationFailed
from config.kernel.events import DispositionDecided, OrderEvent
from orders.models import Disposition, OrderLine, OrderStatus, Product, SalesOrder
from production.changes.models import HOLDING_KINDS, ChangeDisposition, DispositionKind
from production.master_data import Routing
from production.replanning import schedule_request
from production.work_orders import (
    CLOSED_STATUSES,
    HOLDABLE_STATUSES,
    OperationStatus,
    WorkOrder,
    WorkOrderStatus,
)

ZERO = Decimal(0)


def _q(value: Decimal) -> str:
    value = Decimal(value)
    return str(value.normalize()) if value % 1 else str(int(value))


# --- the state of a line's work -------------------------------------------------------------------------
def is_started(work_order: WorkOrder) -> bool:
    if work_order.status in (WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.COMPLETED):
        return True
    if work_order.status == WorkOrderStatus.ON_HOLD and work_order.status_before_hold == "in_progress":
        return True
    return any(op.status != OperationStatus.PENDING for op in work_order.operations.all())


def made_quantity(work_order: WorkOrder) -> Decimal:
    """Units that entered production: the most any operation has reported (good, scrap or rework)."""
    if work_order.status == WorkOrderStatus.COMPLETED:
        return work_order.quantity
    made = [op.good_quantity + op.rework_quantity for op in work_order.operations.all()]
    return min(work_order.quantity, max(made, default=ZERO))


@dataclass
class Step:
    """One thing the change does to one work order (or a new one)."""

    action: str  # grow, shrink, cancel, create, hold, resume, rework, keep
    work_order: WorkOrder | None
    line: OrderLine | None
    quantity_from: Decimal = ZERO
    quantity_to: Decimal = ZERO
    surplus: Decimal = ZERO
    kind: str = ""  # ChangeDisposition kind when made quantity is affected
    operations: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        wo = self.work_order
        return {
            "work_order": wo.number if wo else None,
            "line_no": self.line.line_no if self.line else None,
            "status": wo.status if wo else None,
            "percent_complete": str(wo.percent_complete) if wo else "0",
            "action": self.action,
            "quantity_from": _q(self.quantity_from),
            "quantity_to": _q(self.quantity_to),
            "made": _q(made_quantity(wo)) if wo else "0",
            "surplus": _q(self.surplus),
            "kind": self.kind,
            "operations": self.operations,
        }


@dataclass
class ChangePlan:
    steps: list[Step] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    work_started: bool = False
    reduces_started_work: bool = False
    extra_work: list[tuple[Product, Decimal]] = field(default_factory=list)  # new quantity to plan

    def surplus(self, kind: str) -> Decimal:
        return sum((s.surplus for s in self.steps if s.kind == kind), ZERO)


def _work_by_line(order: SalesOrder) -> dict[int, list[WorkOrder]]:
    by_line: dict[int, list[WorkOrder]] = {}
    work_orders = (
        WorkOrder.objects.filter(order=order)
        .exclude(status=WorkOrderStatus.CANCELLED)
        .prefetch_related("operations")
        .order_by("pk")
    )
    for work_order in work_orders:
        by_line.setdefault(work_order.order_line_id, []).append(work_order)
    return by_line


def _lot_size(product: Product) -> Decimal | None:
    routing = Routing.objects.filter(product=product, is_active=True).first()
    return routing.lot_size if routing else None


def _split(quantity: Decimal, lot: Decimal | None) -> list[Decimal]:
    if quantity <= 0:
        return []
    if not lot or quantity <= lot:
        return [quantity]
    full = int(quantity // lot)
    parts = [lot] * full
    if quantity - lot * full > 0:
        parts.append(quantity - lot * full)
    return parts


def _operations_touched(work_order: WorkOrder) -> list[dict]:
    return [
        {
            "sequence": op.sequence,
            "name": op.name,
            "status": op.status,
            "good_quantity": _q(op.good_quantity),
        }
        for op in work_order.operations.all()
        if op.status != OperationStatus.PENDING
    ]


def _plan_quantity(plan: ChangePlan, line: OrderLine, work: list[WorkOrder], new: Decimal, field_name: str):
    completed = [wo for wo in work if wo.status == WorkOrderStatus.COMPLETED]
    open_work = [wo for wo in work if wo.status != WorkOrderStatus.COMPLETED]
    started = [wo for wo in open_work if is_started(wo)]
    unstarted = [wo for wo in open_work if not is_started(wo)]
    done = sum((wo.quantity for wo in completed), ZERO)
    if started or completed:
        plan.work_started = True
    if new < done:
        plan.errors.setdefault(field_name, []).append(
            _("Line %(no)s: %(done)s are already completed; the quantity cannot go below that.")
            % {"no": line.line_no, "done": _q(done)}
        )
        return
    need = new - done
    started_qty = sum((wo.quantity for wo in started), ZERO)
    unstarted_qty = sum((wo.quantity for wo in unstarted), ZERO)
    lot = _lot_size(line.product)
    if need >= started_qty + unstarted_qty:
        extra = need - started_qty - unstarted_qty
        if unstarted and extra > 0:
            last = unstarted[-1]
            room = (lot - last.quantity) if lot else extra
            grow = min(extra, max(room, ZERO))
            if grow > 0:
                plan.steps.append(Step("grow", last, line, last.quantity, last.quantity + grow))
                extra -= grow
        for part in _split(extra, lot):
            plan.steps.append(Step("create", None, line, ZERO, part))
        if need > started_qty + unstarted_qty:
            plan.extra_work.append((line.product, need - started_qty - unstarted_qty))
        return
    to_cut = started_qty + unstarted_qty - need
    for wo in reversed(unstarted):
        if to_cut <= 0:
            break
        if to_cut >= wo.quantity:
            plan.steps.append(Step("cancel", wo, line, wo.quantity, ZERO))
            to_cut -= wo.quantity
        else:
            plan.steps.append(Step("shrink", wo, line, wo.quantity, wo.quantity - to_cut))
            to_cut = ZERO
    if to_cut <= 0:
        return
    # Still too much: the change reduces work already started.
    plan.reduces_started_work = True
    for wo in reversed(started):
        if to_cut <= 0:
            break
        made = made_quantity(wo)
        unmade_cut = min(to_cut, wo.quantity - made)
        new_quantity = wo.quantity - unmade_cut
        to_cut -= unmade_cut
        surplus = min(to_cut, made)
        to_cut -= surplus
        step = Step(
            "cancel" if new_quantity <= 0 else ("shrink" if unmade_cut > 0 else "keep"),
            wo,
            line,
            wo.quantity,
            new_quantity,
            surplus=surplus,
            kind=DispositionKind.SURPLUS if surplus > 0 else "",
            operations=_operations_touched(wo),
        )
        if surplus > 0 and new_quantity - surplus <= 0:
            # Everything it still has to make is surplus: stop it, pending the disposition.
            step.action = "hold"
        plan.steps.append(step)


def _plan_stop(plan: ChangePlan, line: OrderLine, work: list[WorkOrder]) -> None:
    """Cancel a line (or the order): unstarted work cancelled, started work held pending disposition."""
    for wo in work:
        if wo.status == WorkOrderStatus.COMPLETED:
            plan.work_started = True
            plan.steps.append(
                Step("keep", wo, line, wo.quantity, wo.quantity, wo.quantity, DispositionKind.CANCELLED)
            )
        elif is_started(wo):
            plan.work_started = plan.reduces_started_work = True
            made = made_quantity(wo)
            plan.steps.append(
                Step(
                    # Nothing made yet (only scrap reported, or just begun): nothing to decide about later,
                    # so the work stops now instead of waiting on hold for a disposition no one will list.
                    "hold" if made > 0 else "cancel",
                    wo,
                    line,
                    wo.quantity,
                    wo.quantity,
                    made,
                    DispositionKind.CANCELLED if made > 0 else "",
                    _operations_touched(wo),
                )
            )
        else:
            plan.steps.append(Step("cancel", wo, line, wo.quantity, ZERO))


def _plan_spec(plan: ChangePlan, line: OrderLine, work: list[WorkOrder]) -> None:
    for wo in work:
        if not is_started(wo):
            plan.steps.append(Step("keep", wo, line, wo.quantity, wo.quantity))
            continue
        plan.work_started = True
        made = made_quantity(wo)
        plan.steps.append(
            Step(
                "rework",
                wo,
                line,
                wo.quantity,
                wo.quantity,
                made,
                DispositionKind.WRONG_SPEC if made > 0 else "",
                _operations_touched(wo),
            )
        )


def plan_change(*, order: SalesOrder, changes: list[dict]) -> ChangePlan:
    plan = ChangePlan()
    by_line = _work_by_line(order)
    lines = {line.line_no: line for line in order.lines.select_related("product")}
    for index, change in enumerate(changes):
        op = change["op"]
        line = lines.get(change.get("line_no"))
        work = by_line.get(line.pk, []) if line is not None else []
        if op == "set_quantity":
            _plan_quantity(plan, line, work, Decimal(change["quantity"]), f"changes[{index}].quantity")
        elif op == "set_spec":
            _plan_spec(plan, line, work)
        elif op == "remove_line":
            _plan_stop(plan, line, work)
        elif op == "cancel":
            for line in lines.values():
                _plan_stop(plan, line, by_line.get(line.pk, []))
        elif op == "add_line":
            product = Product.objects.filter(sku=change["product"]).first()
            if product is not None:
                for part in _split(Decimal(change["quantity"]), _lot_size(product)):
                    plan.steps.append(Step("create", None, None, ZERO, part))
                plan.extra_work.append((product, Decimal(change["quantity"])))
        elif op in ("hold", "resume"):
            for line_work in by_line.values():
                for wo in line_work:
                    if op == "hold" and wo.status in HOLDABLE_STATUSES:
                        plan.steps.append(Step("hold", wo, None, wo.quantity, wo.quantity))
                    if op == "resume" and wo.status == WorkOrderStatus.ON_HOLD:
                        plan.steps.append(Step("resume", wo, None, wo.quantity, wo.quantity))
        elif op in ("set_line_due_date", "set_date") and line is not None:
            plan.work_started = plan.work_started or any(is_started(wo) for wo in work)
    return plan


# --- the impact analysis -------------------------------------------------------------------------------
def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _end_of_day(date: dt.date) -> dt.datetime:
    zone = timezone.get_default_timezone()
    return dt.datetime.combine(date + dt.timedelta(days=1), dt.time(0), tzinfo=zone)


def _promised_after(order: SalesOrder, changes: list[dict]) -> dt.date | None:
    promised = order.promised_date
    for change in changes:
        if change["op"] == "set_date" and change["field"] == "promised_date":
            promised = dt.date.fromisoformat(change["value"])
    return promised


def _quote_extra(order: SalesOrder, extra: list[tuple[Product, Decimal]]) -> tuple[dt.datetime | None, dict]:
    """Insert the extra work into the current plan (capable-to-promise); its completion and whom it delays."""
    from production.master_data import planned_minutes
    from production.scheduling import current_schedule, job_weight
    from production.scheduling import plan_index as _plan_index
    from production.scheduling.calendar import HorizonExceeded
    from production.scheduling.quote import QuoteLine, quote

    schedule = current_schedule()
    index, origin, centers = _plan_index(schedule)
    lines = []
    for number, (product, quantity) in enumerate(extra):
        routing = Routing.objects.filter(product=product, is_active=True).first()
        operations = list(routing.operations.all()) if routing else []
        if not operations or any(op.work_center_id not in centers for op in operations):
            continue
        for lot in _split(quantity, routing.lot_size):
            ops = [
                (
                    op.work_center_id,
                    max(
                        1, math.ceil(planned_minutes(op, lot) / float(centers[op.work_center_id].efficiency))
                    ),
                )
                for op in operations
            ]
            lines.append(QuoteLine(key=number, ops=ops))
    if not lines:
        return None, {}
    earliest = max(0, int((timezone.now() - origin).total_seconds() // 60))
    try:
        result = quote(
            index, lines=lines, weight=job_weight(order.customer.tier, order.priority), earliest=earliest
        )
    except HorizonExceeded:
        return None, {}
    # The quote names the orders whose planned work the inserted work lands on; each moves behind it, so
    # its delay is at most the span of the inserted work (calendar-aware: the quote's completion).
    span = max(0, result.completion - earliest)
    delayed = {key: span for key in result.delayed if key != order.pk}
    return origin + dt.timedelta(minutes=result.completion), delayed


def analyse_change(*, order: SalesOrder, changes: list[dict]) -> dict:
    """The impact of validated changes; registered with
    orders.change_requests.services.register_impact_provider."""
    from production.scheduling import OrderProjection, current_schedule, order_projection

    plan = plan_change(order=order, changes=changes)
    projection = order_projection(order=order)
    before = projection.projected_completion if projection else None
    after = before
    delays_other: list[dict] = []
    notes: list[str] = []
    if plan.extra_work:
        completion, delayed = _quote_extra(order, plan.extra_work)
        if completion is not None and before is not None:
            after = max(before, completion)
        else:
            notes.append(_("The added work has no routing yet: its completion cannot be projected."))
        if delayed:
            schedule = current_schedule()
            others = OrderProjection.objects.filter(schedule=schedule, order_id__in=delayed).select_related(
                "order__customer"
            )
            for other in others:
                if other.promised_date is None or other.projected_completion is None:
                    continue
                pushed = other.projected_completion + dt.timedelta(minutes=delayed[other.order_id])
                if pushed >= _end_of_day(other.promised_date):
                    delays_other.append(
                        {
                            "order": other.order.number,
                            "customer": other.order.customer.name,
                            "tier": other.order.customer.tier,
                            "promised_date": other.promised_date.isoformat(),
                            "projected_before": _iso(other.projected_completion),
                            "projected_after": _iso(pushed),  # at most
                        }
                    )
    elif any(step.action in ("shrink", "cancel") for step in plan.steps):
        notes.append(_("Less work: the order completes at the projected date or earlier."))
    if projection is None:
        notes.append(_("No current plan projects this order yet: run the schedule for dates."))
    promised = _promised_after(order, changes)
    late_after = bool(after and promised and after >= _end_of_day(promised))
    return {
        "errors": plan.errors,
        "lines": [step.as_dict() for step in plan.steps],
        "work_started": plan.work_started,
        "reduces_started_work": plan.reduces_started_work,
        "surplus_quantity": _q(plan.surplus(DispositionKind.SURPLUS)),
        "rework_quantity": _q(plan.surplus(DispositionKind.WRONG_SPEC)),
        "cancelled_made_quantity": _q(plan.surplus(DispositionKind.CANCELLED)),
        "projected_before": _iso(before),
        "projected_after": _iso(after),
        "promised_date": promised.isoformat() if promised else None,
        "late_after": late_after,
        "delays_other_orders": delays_other,
        "notes": [str(note) for note in notes],
    }


# --- following an applied change ------------------------------------------------------------------------
def _actor(event: OrderEvent):
    if event.actor_id is None:
        return None
    return get_user_model().objects.filter(pk=event.actor_id).first()


def follow_change_request(event: OrderEvent) -> None:
    """On "order.change_applied": the work orders follow the change, in the apply transaction.

    Recomputes the plan from the locked work orders against the order as it was before the change (the
    event carries the changes; lines removed by it still exist until after the event).
    """
    from config.kernel import stamp as _stamp
    from production.master_data import planned_minutes

    order = event.order
    actor = _actor(event)
    number = event.data.get("change_request_number", "")
    reason = f"{number}: {event.reason}".strip(": ") if number not in event.reason else event.reason
    disposition = event.data.get("disposition", "")
    changes = event.data.get("changes", [])
    # Lock the order's work orders before reading them: progress reports take the same locks.
    list(WorkOrder.objects.select_for_update().filter(order=order).values_list("pk", flat=True))
    plan = plan_change(order=order, changes=_as_before(changes))
    sequence = WorkOrder.objects.filter(order=order).count()
    lines = {line.line_no: line for line in order.lines.select_related("product")}

    def new_work_order(line: OrderLine, quantity: Decimal) -> WorkOrder:
        nonlocal sequence
        sequence += 1
        return _new_work_order(
            order,
            line_id=line.pk,
            product=line.product,
            quantity=quantity,
            sequence=sequence,
            actor=actor,
            reason=reason,
        )

    added_lines = _added_lines(order, changes, lines)
    added_index = 0
    for step in plan.steps:
        wo = step.work_order
        if step.action == "create":
            line = step.line
            if line is None:  # a line added by this change: in the order they were added
                line = added_lines[min(added_index, len(added_lines) - 1)]
                added_index += 1
            new_work_order(line, step.quantity_to)
            continue
        if wo is None:
            continue
        if step.action in ("grow", "shrink") and step.quantity_to > 0:
            wo.quantity = step.quantity_to
            routing_ops = {}
            routing = Routing.objects.filter(product=wo.product).first()
            if routing:
                routing_ops = {op.sequence: op for op in routing.operations.all()}
            for op in wo.operations.all():
                if op.status == OperationStatus.PENDING and op.sequence in routing_ops:
                    op.planned_minutes = planned_minutes(routing_ops[op.sequence], wo.quantity)
                    _stamp(op, actor=actor, reason=reason)
                    op.save()
        elif step.action == "cancel":
            wo.cancel()
        elif step.action == "hold" and wo.status in HOLDABLE_STATUSES:
            wo.hold()
        elif step.action == "resume" and wo.status == WorkOrderStatus.ON_HOLD:
            wo.resume()
        if step.kind and step.surplus > 0:
            # A work order held pending its disposition waits for a decision; otherwise the approver's
            # pick is carried out here and now.
            settled = disposition if step.action != "hold" else ""
            _record_disposition(wo, step, number, disposition, actor, reason, settled=settled)
            if step.kind == DispositionKind.WRONG_SPEC and disposition == "scrap":
                # Scrapped parts made to the old spec are made again, to the new one.
                new_work_order(step.line, step.surplus)
        _stamp(wo, actor=actor, reason=reason)
        wo.save()
    # The work that stays now serves the new revision (progress and completion read this revision).
    for wo in (
        WorkOrder.objects.filter(order=order)
        .exclude(status=WorkOrderStatus.CANCELLED)
        .exclude(order_revision=order.revision)
    ):
        wo.order_revision = order.revision
        _stamp(wo, actor=actor, reason=reason)
        wo.save()
    schedule_request(trigger=f"{event.type} {order.number}")


def _as_before(changes: list[dict]) -> list[dict]:
    # hold/resume/cancel already moved the order's status; the work orders' own status decides the steps.
    return changes


def _added_lines(order: SalesOrder, changes: list[dict], lines: dict[int, OrderLine]) -> list[OrderLine]:
    """The lines this change added: the highest line numbers, one per add_line change."""
    count = sum(1 for change in changes if change["op"] == "add_line")
    if not count:
        return []
    return [lines[no] for no in sorted(lines)[-count:]]


def _record_disposition(
    wo, step: Step, number: str, disposition: str, actor, reason: str, *, settled: str = ""
) -> None:
    operations = list(wo.operations.all())
    if step.kind == DispositionKind.WRONG_SPEC:
        # Per operation that ran under the old spec.
        for op in operations:
            quantity = op.good_quantity + op.rework_quantity
            if op.status == OperationStatus.PENDING or quantity <= 0:
                continue
            row = ChangeDisposition(
                work_order=wo,
                operation=op,
                change_request_number=number,
                kind=step.kind,
                quantity=quantity,
                disposition=disposition,
            )
            _settle_at_apply(row, settled, actor, reason)
            _stamp_row(row, actor, reason)
        return
    row = ChangeDisposition(
        work_order=wo,
        change_request_number=number,
        kind=step.kind,
        quantity=step.surplus,
        disposition=disposition,
    )
    _settle_at_apply(row, settled, actor, reason)
    _stamp_row(row, actor, reason)


def _settle_at_apply(row: ChangeDisposition, settled: str, actor, reason: str) -> None:
    if settled:
        row.decision, row.decided_at, row.decided_by, row.decision_reason = (
            settled,
            timezone.now(),
            actor,
            reason,
        )


def _stamp_row(row: ChangeDisposition, actor, reason: str) -> None:
    row._history_user = actor
    row._change_reason = reason
    row.save()


# --- deciding what was left open -------------------------------------------------------------------------
DECIDE_PERM = "production.decide_changedisposition"
# Orders that still want a line's work made (a scrapped wrong part is made again only for them).
ACTIVE_ORDER_STATUSES = (OrderStatus.RELEASED, OrderStatus.IN_PRODUCTION, OrderStatus.ON_HOLD)


def _decision_label(value: str) -> str:
    return str(dict(Disposition.choices).get(value, value))


@transaction.atomic
def change_disposition_decide(
    *, actor: Any, disposition: ChangeDisposition | int, decision: str, reason: str
) -> ChangeDisposition:
    """Decide an open disposition: what happens to quantity a change request left made but not wanted.

    Preconditions: the actor holds production.decide_changedisposition; the row is open; `decision` is one
    of the row's kind (DECISIONS_BY_KIND); a reason is given. Errors: Forbidden, Conflict
    ("already_decided"), ValidationFailed (fields "decision", "reason"); nothing is saved on any of them.

    Side effects, in one transaction: the row records the decision, who, when and why (history too); a
    work order the change held pending this disposition leaves its hold through its own transitions
    (stock: resumed and completed as made; scrap: cancelled); parts made to the old spec that are scrapped
    are made again by a new work order while the order still wants them. When a work order changes state,
    the order rolls up (completed once all its work is closed), "production.disposition_decided" carries
    the order's work orders to the outbox (the MES), and a reschedule is asked. Not idempotent: a second
    decision of the same row is a Conflict.
    """
    from config.kernel import require
    from config.kernel import stamp as _stamp

    pk = disposition.pk if isinstance(disposition, ChangeDisposition) else disposition
    order_id = ChangeDisposition.objects.filter(pk=pk).values_list("work_order__order_id", flat=True).get()
    # Order first, then the row and its work order: the order the apply path locks in (no deadlock).
    order = (
        SalesOrder.objects.select_for_update(of=("self",))
        .select_related("customer", "owner")
        .get(pk=order_id)
    )
    row = ChangeDisposition.objects.select_for_update().get(pk=pk)
    require(
        actor, DECIDE_PERM, action="change_disposition_decide", target=f"{row.change_request_number}/{row.pk}"
    )
    if not row.is_open:
        raise Conflict(
            _("This disposition was already decided (%(decision)s).")
            % {"decision": _decision_label(row.decision)},
            code="already_decided",
        )
    decision = (decision or "").strip()
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if decision not in row.decision_choices:
        errors["decision"] = [
            _("Choose one of: %(choices)s.")
            % {"choices": ", ".join(f"{c} ({_decision_label(c)})" for c in row.decision_choices)}
        ]
    if not reason:
        errors["reason"] = [_("This field is required.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)

    work_order = WorkOrder.objects.select_for_update().get(pk=row.work_order_id)
    why = f"{row.change_request_number}: {_decision_label(decision)}. {reason}"
    moved = _carry_out(row, work_order, decision)
    remade = None
    if (
        decision == Disposition.SCRAP
        and row.kind == DispositionKind.WRONG_SPEC
        and work_order.order_line_id is not None
        and order.status in ACTIVE_ORDER_STATUSES
    ):
        remade = _remake(order, work_order, row.quantity, actor, why)
    row.decision = decision
    row.decided_at = timezone.now()
    row.decided_by = actor
    row.decision_reason = reason
    _stamp_row(row, actor, why)
    if moved:
        _stamp(work_order, actor=actor, reason=why)
        work_order.save()
        order = _roll_up_closed(order, work_order)
    if moved or remade is not None:
        _publish_decided(order, row, work_order, remade, actor, why)
        schedule_request(trigger=f"disposition.decided {work_order.number}")
    return row


def _carry_out(row: ChangeDisposition, work_order: WorkOrder, decision: str) -> bool:
    """Move a work order held pending this disposition out of its hold; True if its status changed."""
    if row.kind not in HOLDING_KINDS or work_order.status != WorkOrderStatus.ON_HOLD:
        return False
    if decision == Disposition.SCRAP:
        work_order.cancel()
        return True
    # To stock: what was made is kept, the work order is finished as made.
    work_order.resume()
    if not can_proceed(work_order.complete):
        raise TransitionNotAllowed(
            _("Work order %(number)s has not started: it cannot be completed as made; scrap it instead.")
            % {"number": work_order.number}
        )
    work_order.complete()
    work_order.completed_at = timezone.now()
    # Finished as made: nothing more will be made of it, so it counts as done in the order's progress.
    work_order.percent_complete = Decimal(100)
    return True


def _remake(order: SalesOrder, work_order: WorkOrder, quantity: Decimal, actor, why: str) -> WorkOrder:
    """A new work order for scrapped parts made to the old spec: made again, to the line's current spec."""
    return _new_work_order(
        order,
        line_id=work_order.order_line_id,
        product=work_order.product,
        quantity=quantity,
        sequence=WorkOrder.objects.filter(order=order).count() + 1,
        actor=actor,
        reason=why,
    )


def _new_work_order(
    order: SalesOrder, *, line_id: int, product: Product, quantity: Decimal, sequence: int, actor, reason: str
) -> WorkOrder:
    """A work order a change adds to an order line, with the operations of the product's active routing."""
    from config.kernel import stamp as _stamp
    from production.work_orders import operations_create

    routing = Routing.objects.filter(product=product, is_active=True).first()
    operations = list(routing.operations.select_related("work_center")) if routing else []
    work_order = WorkOrder(
        number=f"{order.number}-{sequence:02d}",
        order=order,
        order_line_id=line_id,
        order_revision=order.revision,
        product=product,
        quantity=quantity,
        routing_missing=not operations,
    )
    _stamp(work_order, actor=actor, reason=reason)
    work_order.save()
    operations_create(work_order=work_order, operations=operations, actor=actor, reason=reason)
    return work_order


def _roll_up_closed(order: SalesOrder, work_order: WorkOrder) -> SalesOrder:
    """The order completes once every work order of its revision is closed and one was completed.

    Like a progress report's roll-up (services._roll_up_order), but a cancelled work order may be the last
    one to close here.
    """
    from orders.sales import services as order_services
    from production.work_orders import system_actor

    if order.status not in (OrderStatus.RELEASED, OrderStatus.IN_PRODUCTION):
        return order
    statuses = set(
        WorkOrder.objects.filter(order=order, order_revision=order.revision).values_list("status", flat=True)
    )
    if statuses <= set(CLOSED_STATUSES) and WorkOrderStatus.COMPLETED in statuses:
        return order_services.order_complete(
            actor=system_actor(),
            order=order,
            reason=_("All work orders closed (%(number)s decided)") % {"number": work_order.number},
        )
    return order


def _publish_decided(
    order: SalesOrder, row: ChangeDisposition, work_order: WorkOrder, remade, actor, why: str
) -> None:
    """Tell the order's subscribers; the integration adds the order's work orders for the MES."""
    from orders.sales import services as order_services

    events.publish(
        DispositionDecided(
            order=order,
            actor=actor,
            reason=why[:500],
            snapshot=order_services.order_event_payload(order),
            change_request_number=row.change_request_number,
            disposition_id=row.pk,
            kind=row.kind,
            decision=row.decision,
            quantity=_q(row.quantity),
            work_order_number=work_order.number,
            work_order_status=work_order.status,
            remade_work_order_number=remade.number if remade is not None else None,
        )
    )
