"""The input rules of an order, shared by every door that enters or edits one (form, API, CRM, import).

Each check returns field -> messages (the names a form or API field has: `lines[0].quantity`); the
services raise them together as one ValidationFailed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, TypeAlias, TypedDict

from django.utils import timezone
from django.utils.translation import gettext as _

from config.kernel.quantities import QUANTITY_PLACES
from orders.catalog import spec_value_errors
from orders.catalog.models import Customer, Priority, Product

FieldErrors: TypeAlias = dict[str, list[str]]


# What full_clean leaves out of an order: set by the services (number, status) or checked before it.
NOT_CLEANED = ["number", "status", "owner", "customer"]


class LineInput(TypedDict, total=False):
    """A line as a door hands it to the services: the product as an instance (family loaded) or its id."""

    id: int | str | None  # an existing line to update (order_update); absent for a new line
    product: Product | int | str | None
    quantity: Decimal | int | str | None
    spec_values: dict[str, Any]
    due_date: dt.date | None


class NewLine(TypedDict):
    """What a new line is made of (orders.sales.lines.new_line)."""

    product: Product
    quantity: Decimal
    spec_values: dict[str, Any]
    due_date: dt.date | None


class CleanedLine(TypedDict):
    """A line that passed clean_lines (with errors, `product`/`quantity` may be None: nothing is written)."""

    id: int | str | None
    product: Product | None
    quantity: Decimal | None
    spec_values: dict[str, Any]
    due_date: dt.date | None


def parse_quantity(value: Any) -> Decimal | None:
    """A quantity as typed (text, number or Decimal); None if it is not a finite number."""
    try:
        quantity = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return None
    return quantity if quantity.is_finite() else None


def quantity_error(quantity: Decimal | None) -> str | None:
    """What is wrong with a line's quantity (as parse_quantity read it: None if it is no number), or None:
    greater than zero, at most 9 digits and 3 decimals (what the column holds)."""
    if quantity is None:
        return _("Enter a number.")
    if quantity <= 0:
        return _("The quantity must be greater than zero.")
    if quantity != quantity.quantize(QUANTITY_PLACES) or quantity >= Decimal("1e9"):
        return _("At most 9 digits and 3 decimals.")
    return None


def clean_lines(
    raw_lines: Sequence[LineInput],
    *,
    products: Mapping[Any, Product],
    default_due: dt.date | None,
) -> tuple[list[CleanedLine], FieldErrors]:
    """Validate line inputs (product, quantity, spec values against the family schema, due date).

    `products`: the products given by id, by id (lines_products reads them); a product given as an
    instance is taken as it is.
    """
    errors: FieldErrors = {}
    cleaned: list[CleanedLine] = []
    for index, line in enumerate(raw_lines):
        prefix = f"lines[{index}]."
        product_ref = line.get("product")
        product_id = product_ref.pk if isinstance(product_ref, Product) else product_ref
        product: Product | None = None
        if isinstance(product_ref, Product):
            product = product_ref
        elif product_id not in (None, ""):
            product = products.get(product_id)
        if product is None:
            errors.setdefault(f"{prefix}product", []).append(
                _("This field is required.") if product_id in (None, "") else _("Unknown product.")
            )
        elif not product.is_active:
            errors.setdefault(f"{prefix}product", []).append(_("This product is no longer sold."))
        quantity = parse_quantity(line.get("quantity"))
        if (message := quantity_error(quantity)) is not None:
            errors.setdefault(f"{prefix}quantity", []).append(message)
        spec_values = line.get("spec_values") or {}
        if product is not None:
            for key, messages in spec_value_errors(product.family.spec_schema, spec_values).items():
                name = f"{prefix}spec_values.{key}" if key else f"{prefix}spec_values"
                errors.setdefault(name, []).extend(messages)
        cleaned.append(
            {
                "id": line.get("id"),
                "product": product,
                "quantity": quantity,
                "spec_values": spec_values,
                "due_date": line.get("due_date") or default_due,
            }
        )
    return cleaned, errors


def lines_products(line_lists: Sequence[Sequence[LineInput]]) -> dict[Any, Product]:
    """The products the lines give by id (families loaded), by id: one query for all the lines of a batch,
    none when every line gives its product as an instance (the API resolves them with their families)."""
    wanted = {
        line.get("product")
        for lines in line_lists
        for line in lines
        if not isinstance(line.get("product"), Product) and line.get("product") not in (None, "")
    }
    if not wanted:
        return {}
    return {p.pk: p for p in Product.objects.select_related("family").filter(pk__in=wanted)}


def check_dates(data: Mapping[str, Any], *, changed: set[str]) -> FieldErrors:
    """Dates a user sets now must not lie in the past; untouched old dates are left alone."""
    errors: FieldErrors = {}
    today = timezone.localdate()
    for name in ("requested_date", "promised_date"):
        value = data.get(name)
        if name in changed and value is not None and value < today:
            errors[name] = [_("This date is in the past.")]
    return errors


@dataclass(frozen=True)
class ResolvedPriority:
    """An order's priority: its customer tier's, or another one with the reason why (`overridden`)."""

    value: int
    overridden: bool = False
    reason: str = ""
    errors: FieldErrors = field(default_factory=dict)


def resolve_priority(*, customer: Customer, priority: int | str | None, reason: str) -> ResolvedPriority:
    default = customer.default_priority
    if priority is None or priority == "" or int(priority) == default:
        return ResolvedPriority(default)
    value = int(priority)
    if value not in Priority.values:
        return ResolvedPriority(default, errors={"priority": [_("Choose a valid priority.")]})
    if not (reason or "").strip():
        return ResolvedPriority(
            value,
            overridden=True,
            errors={
                "priority_reason": [_("Say why this order's priority differs from its customer's tier.")]
            },
        )
    return ResolvedPriority(value, overridden=True, reason=reason.strip())
