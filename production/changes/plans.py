"""What a change request does to work under way: one plan, per operation a planner.

The impact analysis (production.changes.impact) shows the plan to approvers; the follow-up
(production.changes.follow) carries it out when the change is applied: what the approver saw is what
happens. Each change operation of orders.change_requests.operations has its planner here, registered by op
name (PLANNERS): adding an operation there means adding its planner here.

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
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from orders.catalog.models import Product
from orders.sales.models import OrderLine, SalesOrder
from production.changes.models import DispositionKind
from production.master_data.models import Routing
from production.work_orders import split_quantity
from production.work_orders.models import HOLDABLE_STATUSES, OperationStatus, WorkOrder, WorkOrderStatus

ZERO = Decimal(0)


def quantity_text(value: Decimal) -> str:
    value = Decimal(value)
    return str(value.normalize()) if value % 1 else str(int(value))


def lots(quantity: Decimal, lot_size: Decimal | None) -> list[Decimal]:
    """The lots of `quantity` (production.work_orders' rule); none for nothing to make."""
    # split_quantity refuses a quantity ≤ 0; here a change that adds nothing plans no lot.
    return split_quantity(quantity, lot_size) if quantity > 0 else []


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
    operations: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        wo = self.work_order
        return {
            "work_order": wo.number if wo else None,
            "line_no": self.line.line_no if self.line else None,
            "status": wo.status if wo else None,
            "percent_complete": str(wo.percent_complete) if wo else "0",
            "action": self.action,
            "quantity_from": quantity_text(self.quantity_from),
            "quantity_to": quantity_text(self.quantity_to),
            "made": quantity_text(made_quantity(wo)) if wo else "0",
            "surplus": quantity_text(self.surplus),
            "kind": self.kind,
            "operations": self.operations,
        }


@dataclass
class ChangePlan:
    steps: list[Step] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    work_started: bool = False
    reduces_started_work: bool = False
    # New quantity to plan: (product, quantity, the line's spec values: they choose its materials).
    extra_work: list[tuple[Product, Decimal, dict[str, Any]]] = field(default_factory=list)
    # Unstarted work that takes a new spec: (product, quantity, the new spec values): its material is
    # checked again (a new RAL colour needs its powder).
    respec_work: list[tuple[Product, Decimal, dict[str, Any]]] = field(default_factory=list)
    respec_work_orders: list[int] = field(default_factory=list)  # whose reservations the new spec replaces

    def surplus(self, kind: str) -> Decimal:
        return sum((s.surplus for s in self.steps if s.kind == kind), ZERO)


@dataclass
class PlanContext:
    """The order's work as the plan is made: open work orders by line, lines by number."""

    order: SalesOrder
    plan: ChangePlan
    work_by_line: dict[int | None, list[WorkOrder]]  # None: work orders whose order line is gone
    lines: dict[int, OrderLine]

    def line_of(self, change: Mapping[str, Any]) -> OrderLine | None:
        line_no = change.get("line_no")
        return self.lines.get(line_no) if line_no is not None else None

    def work_of(self, line: OrderLine | None) -> list[WorkOrder]:
        return self.work_by_line.get(line.pk, []) if line is not None else []


Planner = Callable[[PlanContext, Mapping[str, Any], int], None]
PLANNERS: dict[str, Planner] = {}


def planner(op: str) -> Callable[[Planner], Planner]:
    """Register the planner of change operation `op` (orders.change_requests.operations)."""

    def register(function: Planner) -> Planner:
        PLANNERS[op] = function
        return function

    return register


def plan_change(*, order: SalesOrder, changes: list[Mapping[str, Any]]) -> ChangePlan:
    ctx = PlanContext(
        order=order,
        plan=ChangePlan(),
        work_by_line=_work_by_line(order),
        lines={line.line_no: line for line in order.lines.select_related("product")},
    )
    for index, change in enumerate(changes):
        PLANNERS[change["op"]](ctx, change, index)
    return ctx.plan


def _work_by_line(order: SalesOrder) -> dict[int | None, list[WorkOrder]]:
    by_line: dict[int | None, list[WorkOrder]] = {}
    work_orders = (
        WorkOrder.objects.filter(order=order)
        .exclude(status=WorkOrderStatus.CANCELLED)
        .prefetch_related("operations")
        .order_by("pk")
    )
    for work_order in work_orders:
        by_line.setdefault(work_order.order_line_id, []).append(work_order)
    return by_line


def lot_size(product: Product) -> Decimal | None:
    routing = Routing.objects.filter(product=product, is_active=True).first()
    return routing.lot_size if routing else None


def _operations_touched(work_order: WorkOrder) -> list[dict[str, Any]]:
    return [
        {
            "sequence": op.sequence,
            "name": op.name,
            "name_zh": op.name_zh,  # the reader's language picks (orders_ui's localized_name)
            "status": op.status,
            "good_quantity": quantity_text(op.good_quantity),
        }
        for op in work_order.operations.all()
        if op.status != OperationStatus.PENDING
    ]


# --- the planners ----------------------------------------------------------------------------------------
@planner("set_quantity")
def _plan_quantity(ctx: PlanContext, change: Mapping[str, Any], index: int) -> None:
    line, plan = ctx.line_of(change), ctx.plan
    assert line is not None  # cleaned: the line exists
    work = ctx.work_of(line)
    new = Decimal(change["quantity"])
    completed = [wo for wo in work if wo.status == WorkOrderStatus.COMPLETED]
    open_work = [wo for wo in work if wo.status != WorkOrderStatus.COMPLETED]
    started = [wo for wo in open_work if is_started(wo)]
    unstarted = [wo for wo in open_work if not is_started(wo)]
    done = sum((wo.quantity for wo in completed), ZERO)
    if started or completed:
        plan.work_started = True
    if new < done:
        plan.errors.setdefault(f"changes[{index}].quantity", []).append(
            _("Line %(no)s: %(done)s are already completed; the quantity cannot go below that.")
            % {"no": line.line_no, "done": quantity_text(done)}
        )
        return
    need = new - done
    started_qty = sum((wo.quantity for wo in started), ZERO)
    unstarted_qty = sum((wo.quantity for wo in unstarted), ZERO)
    lot = lot_size(line.product)
    if need >= started_qty + unstarted_qty:
        extra = need - started_qty - unstarted_qty
        if unstarted and extra > 0:
            last = unstarted[-1]
            room = (lot - last.quantity) if lot else extra
            grow = min(extra, max(room, ZERO))
            if grow > 0:
                plan.steps.append(Step("grow", last, line, last.quantity, last.quantity + grow))
                extra -= grow
        for part in lots(extra, lot):
            plan.steps.append(Step("create", None, line, ZERO, part))
        if need > started_qty + unstarted_qty:
            plan.extra_work.append(
                (line.product, need - started_qty - unstarted_qty, dict(line.spec_values or {}))
            )
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


def _stop(plan: ChangePlan, line: OrderLine, work: list[WorkOrder]) -> None:
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


@planner("remove_line")
def _plan_remove_line(ctx: PlanContext, change: Mapping[str, Any], index: int) -> None:
    line = ctx.line_of(change)
    assert line is not None  # cleaned: the line exists
    _stop(ctx.plan, line, ctx.work_of(line))


@planner("cancel")
def _plan_cancel(ctx: PlanContext, change: Mapping[str, Any], index: int) -> None:
    for line in ctx.lines.values():
        _stop(ctx.plan, line, ctx.work_of(line))


@planner("set_spec")
def _plan_spec(ctx: PlanContext, change: Mapping[str, Any], index: int) -> None:
    line, plan = ctx.line_of(change), ctx.plan
    for wo in ctx.work_of(line):
        if not is_started(wo):
            plan.steps.append(Step("keep", wo, line, wo.quantity, wo.quantity))
            plan.respec_work.append((wo.product, wo.quantity, dict(change.get("spec_values") or {})))
            plan.respec_work_orders.append(wo.pk)
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


@planner("add_line")
def _plan_add_line(ctx: PlanContext, change: Mapping[str, Any], index: int) -> None:
    product = Product.objects.filter(sku=change["product"]).first()
    if product is None:
        return
    quantity = Decimal(change["quantity"])
    for part in lots(quantity, lot_size(product)):
        ctx.plan.steps.append(Step("create", None, None, ZERO, part))
    ctx.plan.extra_work.append((product, quantity, dict(change.get("spec_values") or {})))


@planner("hold")
def _plan_hold(ctx: PlanContext, change: Mapping[str, Any], index: int) -> None:
    for line_work in ctx.work_by_line.values():
        for wo in line_work:
            if wo.status in HOLDABLE_STATUSES:
                ctx.plan.steps.append(Step("hold", wo, None, wo.quantity, wo.quantity))


@planner("resume")
def _plan_resume(ctx: PlanContext, change: Mapping[str, Any], index: int) -> None:
    for line_work in ctx.work_by_line.values():
        for wo in line_work:
            if wo.status == WorkOrderStatus.ON_HOLD:
                ctx.plan.steps.append(Step("resume", wo, None, wo.quantity, wo.quantity))


@planner("set_line_due_date")
def _plan_line_due_date(ctx: PlanContext, change: Mapping[str, Any], index: int) -> None:
    # Only the plan moves (rescheduled after the change); started work counts for the approval matrix.
    work = ctx.work_of(ctx.line_of(change))
    ctx.plan.work_started = ctx.plan.work_started or any(is_started(wo) for wo in work)


@planner("set_time")
def _plan_order_time(ctx: PlanContext, change: Mapping[str, Any], index: int) -> None:
    # As a date: the work stays; the reschedule after the change keeps the new time (or release time).
    return


@planner("set_date")
def _plan_order_date(ctx: PlanContext, change: Mapping[str, Any], index: int) -> None:
    # The work stays as it is; the reschedule after the change compares the projection with the promise.
    return
