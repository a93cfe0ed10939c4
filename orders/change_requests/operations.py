"""What a change request may change: one class per operation, registered by its op name.

Each operation knows, for its own change payload:
- `clean`: check a proposed change against the order as it is now; the normalised payload (or errors);
- `describe`: the change in words ("Line 1: quantity → 12");
- `diff`: old → new against the order as it is now (the CR page and the API);
- `impact`: what the change itself asks of the approval matrix (manager reason codes); what it does to
  work under way is production's answer (production.changes.plans, through the impact provider);
- `apply`: make the change on the locked order, inside the apply transaction.

Adding an operation: a payload TypedDict and a class here, registered in OPERATIONS; its production
follow-up (what happens to the work orders) is one planner in production.changes.plans.

Payloads are stored as JSON on ChangeRequest.changes and travel in "order.change_applied": plain dicts,
typed below.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, NotRequired, TypedDict, TypeVar

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from config.kernel import stamp
from orders.catalog import spec_value_errors
from orders.catalog.models import Product
from orders.sales import parse_quantity, quantity_error, save_new_line
from orders.sales import policies as order_policies
from orders.sales.models import CANCELLABLE_STATUSES, HOLDABLE_STATUSES, OrderLine, OrderStatus, SalesOrder

if TYPE_CHECKING:
    from django.contrib.auth.models import User


# --- the change payloads -----------------------------------------------------------------------------------
class SetQuantity(TypedDict):
    op: Literal["set_quantity"]
    line_no: int
    quantity: str  # a decimal, at most 3 places ("12", "12.5")


class SetDate(TypedDict):
    op: Literal["set_date"]
    field: Literal["requested_date", "promised_date"]
    value: str  # ISO date


class SetTime(TypedDict):
    op: Literal["set_time"]
    field: Literal["promised_time", "start_not_before"]
    # promised_time "HH:MM"; start_not_before an ISO date-time (plant time when it has no offset); None clears
    value: str | None


class SetLineDueDate(TypedDict):
    op: Literal["set_line_due_date"]
    line_no: int
    value: str  # ISO date


class SetSpec(TypedDict):
    op: Literal["set_spec"]
    line_no: int
    spec_values: dict[str, Any]  # the line's whole spec after the change


class AddLine(TypedDict):
    op: Literal["add_line"]
    product: str  # SKU
    quantity: str
    spec_values: dict[str, Any]
    due_date: str | None


class RemoveLine(TypedDict):
    op: Literal["remove_line"]
    line_no: int


class StatusChange(TypedDict):
    op: Literal["hold", "resume", "cancel"]


Change = SetQuantity | SetDate | SetTime | SetLineDueDate | SetSpec | AddLine | RemoveLine | StatusChange


class DiffRow(TypedDict):
    """One proposed change, stored with the request's impact: read through orders.sales.diff_row_display,
    which renders it in the reader's language (subject from line_no, field through the catalogue, spec
    attributes by their labels)."""

    op: str
    subject: str
    field: str  # the catalogue's English text (its msgid)
    old: str
    new: str
    line_no: NotRequired[int | None]
    old_spec: NotRequired[dict[str, Any]]
    new_spec: NotRequired[dict[str, Any]]


C = TypeVar("C")
Errors = dict[str, list[str]]
ORDER_DATE_FIELDS = ("requested_date", "promised_date")
ORDER_TIME_FIELDS = ("promised_time", "start_not_before")
NOTHING = "—"


@dataclass
class CleanContext:
    """What the operations of one request are checked against: the order now, and each other."""

    order: SalesOrder
    lines: dict[int, OrderLine]
    count: int  # how many changes the request proposes
    removed: set[int] = field(default_factory=set)


@dataclass
class ApplyContext:
    """The locked order an approved request is applied to, and what the operations leave for the apply."""

    order: SalesOrder
    lines: dict[int, OrderLine]
    actor: User
    reason: str
    next_line_no: int
    removed: list[OrderLine] = field(default_factory=list)
    # The order's own transition (hold, resume, cancel) the request makes: done through the one door.
    transition: str | None = None


# --- the operations ----------------------------------------------------------------------------------------
class Operation(Generic[C]):
    op: ClassVar[str]
    label: ClassVar[Promise]
    # The order transition this operation is (hold, resume, cancel): made through orders.sales.transitions.
    transition: ClassVar[str | None] = None

    def clean(self, raw: Mapping[str, Any], *, ctx: CleanContext, prefix: str, errors: Errors) -> C | None:
        """The normalised change (errors recorded under `prefix`), or None to leave it out altogether."""
        return {"op": self.op}  # type: ignore[return-value]

    def describe(self, change: C) -> str:
        return str(self.label)

    def compare(self, change: C, *, order: SalesOrder, line: OrderLine | None) -> tuple[str, str, str] | None:
        """(field, old, new) for the diff; None: only the operation's label."""
        return None

    def diff(self, change: C, *, order: SalesOrder, line: OrderLine | None) -> DiffRow:
        # Stored language-neutral: English labels are the catalogue's msgids, translated when read.
        with override("en"):
            subject = f"line {line.line_no}" if line is not None else "order"
            compared = self.compare(change, order=order, line=line)
            label, old, new = compared if compared is not None else (str(self.label), NOTHING, NOTHING)
        row: DiffRow = {
            "op": self.op,
            "subject": subject,
            "field": str(label),
            "old": str(old),
            "new": str(new),
            "line_no": line.line_no if line is not None else None,
        }
        if line is not None and self.op == "set_spec":
            row["old_spec"] = dict(line.spec_values)
            row["new_spec"] = dict(change["spec_values"])  # type: ignore[index]
        return row

    def impact(self, change: C, *, order: SalesOrder) -> list[str]:
        """Codes of the reasons this change itself needs a production manager (impact.MANAGER_REASONS)."""
        return []

    def apply(self, change: C, *, ctx: ApplyContext) -> None:
        raise NotImplementedError


class LineOperation(Operation[C]):
    """An operation on one existing line, named by its line_no."""

    def clean(self, raw: Mapping[str, Any], *, ctx: CleanContext, prefix: str, errors: Errors) -> C | None:
        try:
            line_no: int | None = int(raw.get("line_no"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            line_no = None
        line = ctx.lines.get(line_no) if line_no is not None else None
        if line is None:
            errors[f"{prefix}line_no"] = [
                _("This field is required.")
                if line_no is None
                else _("The order has no line %(no)s.") % {"no": line_no}
            ]
            return None
        if line.line_no in ctx.removed:
            errors[f"{prefix}line_no"] = [_("This line is removed by another change of this request.")]
            return None
        return self.clean_line(raw, line=line, ctx=ctx, prefix=prefix, errors=errors)

    def clean_line(
        self, raw: Mapping[str, Any], *, line: OrderLine, ctx: CleanContext, prefix: str, errors: Errors
    ) -> C | None:
        raise NotImplementedError

    def _save(self, line: OrderLine, ctx: ApplyContext) -> None:
        stamp(line, actor=ctx.actor, reason=ctx.reason)
        line.save()


class SetQuantityOperation(LineOperation[SetQuantity]):
    op = "set_quantity"
    label = gettext_lazy("Change the quantity of a line")

    def clean_line(self, raw, *, line, ctx, prefix, errors):
        quantity = clean_quantity(raw.get("quantity"), f"{prefix}quantity", errors)
        if quantity is not None and Decimal(quantity) == line.quantity:
            errors[f"{prefix}quantity"] = [_("This is the line's quantity already.")]
        return {"op": self.op, "line_no": line.line_no, "quantity": quantity}

    def describe(self, change):
        return _("Line %(no)s: quantity → %(qty)s") % {"no": change["line_no"], "qty": change["quantity"]}

    def compare(self, change, *, order, line):
        if line is None:
            return None
        return _("quantity"), format_quantity(line.quantity), change["quantity"]

    def apply(self, change, *, ctx):
        line = ctx.lines[change["line_no"]]
        line.quantity = Decimal(change["quantity"])
        self._save(line, ctx)


class SetDateOperation(Operation[SetDate]):
    op = "set_date"
    label = gettext_lazy("Change the requested or promised date")

    def clean(self, raw, *, ctx, prefix, errors):
        date_field = raw.get("field")
        if date_field not in ORDER_DATE_FIELDS:
            errors[f"{prefix}field"] = [_("Use requested_date or promised_date.")]
            return None
        value = clean_future_date(raw.get("value"), f"{prefix}value", errors)
        return {"op": self.op, "field": date_field, "value": value}

    def describe(self, change):
        return f"{self._field_label(change, capital=True)} → {change['value']}"

    def compare(self, change, *, order, line):
        value = getattr(order, change["field"])
        return self._field_label(change), (value.isoformat() if value else NOTHING), change["value"]

    def _field_label(self, change: SetDate, *, capital: bool = False) -> str:
        if change["field"] == "requested_date":
            return _("Requested date") if capital else _("requested date")
        return _("Promised date") if capital else _("promised date")

    def apply(self, change, *, ctx):
        setattr(ctx.order, change["field"], parse_date(change["value"]))


class SetTimeOperation(Operation[SetTime]):
    """The promise's time of day, or the release time (production not before), to the minute; empty
    clears it (the promise is then due by the end of its day; production may start at once)."""

    op = "set_time"
    label = gettext_lazy("Change the promised time or when production may start")

    def clean(self, raw, *, ctx, prefix, errors):
        time_field = raw.get("field")
        if time_field not in ORDER_TIME_FIELDS:
            errors[f"{prefix}field"] = [_("Use promised_time or start_not_before.")]
            return None
        value = raw.get("value")
        if value in (None, ""):
            return {"op": self.op, "field": time_field, "value": None}
        text = str(value).strip()
        if time_field == "promised_time":
            try:
                parsed = dt.time.fromisoformat(text).replace(second=0, microsecond=0)
            except ValueError:
                errors[f"{prefix}value"] = [_("Enter a time as HH:MM.")]
                return None
            return {"op": self.op, "field": time_field, "value": parsed.strftime("%H:%M")}
        try:
            moment = dt.datetime.fromisoformat(text).replace(second=0, microsecond=0)
        except ValueError:
            errors[f"{prefix}value"] = [_("Enter a date and time as YYYY-MM-DD HH:MM.")]
            return None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return {"op": self.op, "field": time_field, "value": moment.isoformat()}

    def describe(self, change):
        return f"{self._field_label(change, capital=True)} → {self._shown(change['value'], change)}"

    def compare(self, change, *, order, line):
        now = getattr(order, change["field"])
        old = NOTHING
        if isinstance(now, dt.datetime):
            old = timezone.localtime(now).strftime("%Y-%m-%d %H:%M")
        elif isinstance(now, dt.time):
            old = now.strftime("%H:%M")
        return self._field_label(change), old, self._shown(change["value"], change)

    def _shown(self, value: str | None, change: SetTime) -> str:
        if value is None:
            return NOTHING
        if change["field"] == "start_not_before":
            return timezone.localtime(dt.datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M")
        return value

    def _field_label(self, change: SetTime, *, capital: bool = False) -> str:
        if change["field"] == "promised_time":
            return _("Promised time") if capital else _("promised time")
        return _("Production not before") if capital else _("production not before")

    def apply(self, change, *, ctx):
        value = change["value"]
        if change["field"] == "promised_time":
            ctx.order.promised_time = dt.time.fromisoformat(value) if value else None
        else:
            ctx.order.start_not_before = dt.datetime.fromisoformat(value) if value else None


class SetLineDueDateOperation(LineOperation[SetLineDueDate]):
    op = "set_line_due_date"
    label = gettext_lazy("Change the due date of a line")

    def clean_line(self, raw, *, line, ctx, prefix, errors):
        value = clean_future_date(raw.get("value"), f"{prefix}value", errors)
        return {"op": self.op, "line_no": line.line_no, "value": value}

    def describe(self, change):
        return _("Line %(no)s: due date → %(date)s") % {"no": change["line_no"], "date": change["value"]}

    def compare(self, change, *, order, line):
        if line is None:
            return None
        return _("line due date"), (line.due_date.isoformat() if line.due_date else NOTHING), change["value"]

    def apply(self, change, *, ctx):
        line = ctx.lines[change["line_no"]]
        line.due_date = parse_date(change["value"])
        self._save(line, ctx)


class SetSpecOperation(LineOperation[SetSpec]):
    op = "set_spec"
    label = gettext_lazy("Change the spec attributes of a line")

    def clean_line(self, raw, *, line, ctx, prefix, errors):
        values = raw.get("spec_values")
        if not isinstance(values, dict) or not values:
            errors[f"{prefix}spec_values"] = [_("Give the spec attributes to change.")]
            return None
        # Attributes given replace the line's; null removes one. The result must fit the schema.
        merged = {key: value for key, value in {**line.spec_values, **values}.items() if value is not None}
        spec_errors(line.product, merged, prefix, errors)
        if merged == line.spec_values:
            errors[f"{prefix}spec_values"] = [_("These are the line's spec attributes already.")]
        return {"op": self.op, "line_no": line.line_no, "spec_values": merged}

    def describe(self, change):
        values = ", ".join(f"{key}={value}" for key, value in change["spec_values"].items())
        return _("Line %(no)s: spec → %(values)s") % {"no": change["line_no"], "values": values}

    def compare(self, change, *, order, line):
        if line is None:
            return None
        old = ", ".join(f"{k}={v}" for k, v in line.spec_values.items()) or NOTHING
        new = ", ".join(f"{k}={v}" for k, v in change["spec_values"].items()) or NOTHING
        return _("spec attributes"), old, new

    def apply(self, change, *, ctx):
        line = ctx.lines[change["line_no"]]
        line.spec_values = change["spec_values"]
        self._save(line, ctx)


class AddLineOperation(Operation[AddLine]):
    op = "add_line"
    label = gettext_lazy("Add a line")

    def clean(self, raw, *, ctx, prefix, errors):
        sku = raw.get("product")
        product = (
            Product.objects.select_related("family").filter(sku=sku).first()
            if isinstance(sku, str) and sku
            else None
        )
        if product is None:
            errors[f"{prefix}product"] = [_("This field is required.") if not sku else _("Unknown product.")]
        elif not product.is_active:
            errors[f"{prefix}product"] = [_("This product is no longer sold.")]
        quantity = clean_quantity(raw.get("quantity"), f"{prefix}quantity", errors)
        spec_values = raw.get("spec_values") or {}
        if product is not None:
            spec_errors(product, spec_values, prefix, errors)
        due_date = clean_future_date(raw.get("due_date"), f"{prefix}due_date", errors, required=False)
        return {
            "op": self.op,
            "product": sku,
            "quantity": quantity,
            "spec_values": spec_values,
            "due_date": due_date,
        }

    def describe(self, change):
        return _("New line: %(qty)s x %(sku)s") % {"qty": change["quantity"], "sku": change["product"]}

    def compare(self, change, *, order, line):
        return _("new line"), NOTHING, f"{change['quantity']} x {change['product']}"

    def apply(self, change, *, ctx):
        save_new_line(
            ctx.order,
            {
                "product": Product.objects.get(sku=change["product"]),
                "quantity": Decimal(change["quantity"]),
                "spec_values": change["spec_values"],
                "due_date": parse_date(change["due_date"]) or ctx.order.requested_date,
            },
            line_no=ctx.next_line_no,
            actor=ctx.actor,
            reason=ctx.reason,
        )
        ctx.next_line_no += 1


class RemoveLineOperation(LineOperation[RemoveLine]):
    op = "remove_line"
    label = gettext_lazy("Remove a line")

    def clean_line(self, raw, *, line, ctx, prefix, errors):
        ctx.removed.add(line.line_no)
        return {"op": self.op, "line_no": line.line_no}

    def describe(self, change):
        return _("Remove line %(no)s") % {"no": change["line_no"]}

    def compare(self, change, *, order, line):
        if line is None:
            return None
        return _("line"), f"{format_quantity(line.quantity)} x {line.product.sku}", _("removed")

    def apply(self, change, *, ctx):
        # Deleted after "order.change_applied": production still finds the line's work orders by it.
        ctx.removed.append(ctx.lines[change["line_no"]])


class StatusOperation(Operation[StatusChange]):
    """The order's own transition, made by the request through orders.sales.transitions."""

    def target(self, order: SalesOrder) -> OrderStatus:
        raise NotImplementedError

    def compare(self, change, *, order, line):
        return _("status"), order.get_status_display(), self.target(order).label

    def apply(self, change, *, ctx):
        ctx.transition = self.transition


class HoldOperation(StatusOperation):
    op = transition = "hold"
    label = gettext_lazy("Hold the order")

    def clean(self, raw, *, ctx, prefix, errors):
        if ctx.order.status not in HOLDABLE_STATUSES:
            errors[f"{prefix}op"] = [_("The order is %(status)s: it cannot be held.") % _status(ctx.order)]
        return {"op": "hold"}

    def target(self, order):
        return OrderStatus.ON_HOLD


class ResumeOperation(StatusOperation):
    op = transition = "resume"
    label = gettext_lazy("Resume the order")

    def clean(self, raw, *, ctx, prefix, errors):
        if ctx.order.status != OrderStatus.ON_HOLD:
            errors[f"{prefix}op"] = [_("The order is not on hold.")]
        return {"op": "resume"}

    def target(self, order):
        return OrderStatus(order.status_before_hold or OrderStatus.RELEASED)


class CancelOperation(StatusOperation):
    op = transition = "cancel"
    label = gettext_lazy("Cancel the order")

    def clean(self, raw, *, ctx, prefix, errors):
        if ctx.order.status not in CANCELLABLE_STATUSES:
            errors[f"{prefix}op"] = [
                _("The order is %(status)s: it cannot be cancelled.") % _status(ctx.order)
            ]
        if ctx.count > 1:
            errors[f"{prefix}op"] = [_("Cancelling the order cannot be combined with other changes.")]
        return {"op": "cancel"}

    def target(self, order):
        return OrderStatus.CANCELLED

    def impact(self, change, *, order):
        # The cancel rule: after release only a production manager may cancel, also through a request.
        return ["cancels_released_order"] if order_policies.cancel_needs_manager(order) else []


OPERATIONS: dict[str, Operation[Any]] = {
    operation.op: operation
    for operation in (
        SetQuantityOperation(),
        SetDateOperation(),
        SetTimeOperation(),
        SetLineDueDateOperation(),
        SetSpecOperation(),
        AddLineOperation(),
        RemoveLineOperation(),
        HoldOperation(),
        ResumeOperation(),
        CancelOperation(),
    )
}
OPS = tuple(OPERATIONS)
OP_LABELS: dict[str, Promise] = {op: operation.label for op, operation in OPERATIONS.items()}


# --- input helpers -----------------------------------------------------------------------------------------
def parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None


def clean_quantity(value: Any, field_name: str, errors: Errors) -> str | None:
    """The quantity as a change stores it ("12", "12.5"), or None with the line quantity rule's message."""
    quantity = parse_quantity(value)
    message = quantity_error(quantity)
    if message is not None:
        errors.setdefault(field_name, []).append(message)
        return None
    assert quantity is not None  # quantity_error refuses a missing number
    return format_quantity(quantity)


def clean_future_date(value: Any, field_name: str, errors: Errors, *, required: bool = True) -> str | None:
    if value in (None, "") and not required:
        return None
    parsed = parse_date(value)
    if parsed is None:
        errors.setdefault(field_name, []).append(_("Enter a date as YYYY-MM-DD."))
        return None
    if parsed < timezone.localdate():
        errors.setdefault(field_name, []).append(_("This date is in the past."))
        return None
    return parsed.isoformat()


def spec_errors(product: Product, values: Any, prefix: str, errors: Errors) -> None:
    for key, messages in spec_value_errors(product.family.spec_schema or {}, values).items():
        errors.setdefault(f"{prefix}spec_values.{key}" if key else f"{prefix}spec_values", []).extend(
            messages
        )


def format_quantity(value: Decimal) -> str:
    return str(value.normalize()) if value % 1 else str(int(value))


def _status(order: SalesOrder) -> dict[str, str]:
    return {"status": order.get_status_display()}
