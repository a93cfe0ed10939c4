"""Over a request's list of changes: check them all, describe, diff, the manager reasons they ask for,
and apply them (each change through its operation in orders.change_requests.operations)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from orders.change_requests.operations import (
    OPERATIONS,
    OPS,
    ApplyContext,
    Change,
    CleanContext,
    DiffRow,
    Errors,
)
from orders.sales.models import SalesOrder

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def clean_changes(*, order: SalesOrder, changes: Any) -> tuple[list[Change], Errors]:
    """Check each proposed change against the order as it is now; return them normalised, or the errors.

    Errors are keyed like the API's input: "changes[0].quantity", "changes[2].spec_values.material".
    """
    errors: Errors = {}
    if not isinstance(changes, list) or not changes:
        return [], {"changes": [_("Propose at least one change.")]}
    ctx = CleanContext(
        order=order,
        lines={line.line_no: line for line in order.lines.select_related("product__family")},
        count=len(changes),
    )
    cleaned: list[Change] = []
    transitions = 0
    for index, raw in enumerate(changes):
        prefix = f"changes[{index}]."
        if not isinstance(raw, dict):
            errors[f"changes[{index}]"] = [_("Each change must be an object with an op.")]
            continue
        operation = OPERATIONS.get(raw.get("op"))  # type: ignore[arg-type]
        if operation is None:
            errors[f"{prefix}op"] = [_("Unknown change; use one of: %(ops)s.") % {"ops": ", ".join(OPS)}]
            continue
        if operation.transition is not None:
            transitions += 1
            if transitions > 1:
                errors[f"{prefix}op"] = [_("A change request changes the order's status once at most.")]
        item = operation.clean(raw, ctx=ctx, prefix=prefix, errors=errors)
        if item is not None:
            cleaned.append(item)
    if ctx.lines and ctx.removed >= set(ctx.lines) and not any(c["op"] == "add_line" for c in cleaned):
        errors["changes"] = [_("An order keeps at least one line: cancel the order instead.")]
    return cleaned, errors


def describe_change(change: Mapping[str, Any], order: SalesOrder | None = None) -> str:
    """One change in words, e.g. "Line 1: quantity → 12"."""
    operation = OPERATIONS.get(change.get("op"))  # type: ignore[arg-type]
    return operation.describe(change) if operation is not None else str(change.get("op"))


def change_diff(*, order: SalesOrder, changes: Sequence[Mapping[str, Any]]) -> list[DiffRow]:
    """Old → new per field and line, against the order as it is now (for the CR page and the API)."""
    lines = {line.line_no: line for line in order.lines.all()}
    return [
        OPERATIONS[change["op"]].diff(change, order=order, line=lines.get(change.get("line_no")))  # type: ignore[arg-type]
        for change in changes
    ]


def operation_reasons(*, order: SalesOrder, changes: Sequence[Mapping[str, Any]]) -> list[str]:
    """The manager reason codes the changes themselves ask for (each once, in order)."""
    reasons: list[str] = []
    for change in changes:
        for code in OPERATIONS[change["op"]].impact(change, order=order):
            if code not in reasons:
                reasons.append(code)
    return reasons


def apply_changes(order: SalesOrder, changes: Sequence[Change], *, actor: User, reason: str) -> ApplyContext:
    """Make each change on the locked order (lines written, order fields set in memory, not saved)."""
    lines = {line.line_no: line for line in order.lines.select_related("product")}
    ctx = ApplyContext(
        order=order, lines=lines, actor=actor, reason=reason, next_line_no=max(lines, default=0) + 1
    )
    for change in changes:
        OPERATIONS[change["op"]].apply(change, ctx=ctx)
    return ctx
