"""Every write to customers, the catalog and sales orders.

Each function is keyword-only, runs in one transaction, records the actor and the reason in history,
and publishes the domain event of the change in that same transaction. UI, API, admin, management
commands and Celery tasks all call these; nothing else writes these models.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from config.kernel import bus as events
from config.kernel import events as domain_events
from config.kernel.errors import Conflict, Forbidden, StaleObject, ValidationFailed
from orders.catalog.specs import schema_errors, spec_value_errors
from orders.models import (
    Customer,
    OrderLine,
    OrderNumberAllocation,
    OrderStatus,
    Priority,
    Product,
    ProductFamily,
    SalesOrder,
)
from orders.sales import policies, selectors

security_log = logging.getLogger("orderbridge.security")

ORDER_FIELDS = ("customer_po", "crm_id", "requested_date", "promised_date", "remarks")


# --- helpers ------------------------------------------------------------------------------------------
def _stamp(instance: Any, *, actor: Any, reason: str) -> None:
    """Tell django-simple-history who made this write and why."""
    instance._history_user = actor
    instance._change_reason = reason


def _full_clean(instance: Any, *, exclude: list[str] | None = None, prefix: str = "") -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=True, validate_constraints=False)
    except DjangoValidationError as exc:
        fields = {f"{prefix}{key}": [str(m) for m in msgs] for key, msgs in exc.message_dict.items()}
        raise ValidationFailed(_("Please correct the errors below."), fields=fields) from exc


def _actor_name(actor: Any) -> str:
    return getattr(actor, "username", "") or "system"


def refused(actor: Any, action: str, target: str, why: str) -> Forbidden:
    security_log.warning(
        "refused action=%s target=%s user=%s why=%s", action, target, _actor_name(actor), why
    )
    return Forbidden(_("You are not allowed to do this."), code="forbidden")


def _require_perm(actor: Any, perm: str, *, action: str, target: str) -> None:
    """Master-data writes check their permission here, so every door (API, admin, commands) is guarded."""
    if not (actor is not None and actor.has_perm(perm)):
        raise refused(actor, action, target, f"missing {perm}")


def _order_number(allocated: int, *, year: int) -> str:
    return f"{settings.ORDER_NUMBER_PREFIX}-{year}-{allocated:06d}"


def next_order_number() -> str:
    allocation = OrderNumberAllocation.objects.create()
    return _order_number(allocation.pk, year=timezone.localdate().year)


def next_order_numbers(count: int) -> list[str]:
    """`count` order numbers from the same counter as next_order_number, in one statement per 1,000.

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


# --- customers and catalog ------------------------------------------------------------------------------
CUSTOMER_FIELDS = ("code", "name", "tier", "crm_id", "email", "phone", "address", "language", "is_active")


@transaction.atomic
def customer_create(*, actor: Any, reason: str = "", **data: Any) -> Customer:
    _require_perm(actor, "orders.add_customer", action="customer_create", target=str(data.get("code", "-")))
    customer = Customer(**{key: value for key, value in data.items() if key in CUSTOMER_FIELDS})
    _full_clean(customer)
    _stamp(customer, actor=actor, reason=reason or _("Customer created"))
    customer.save()
    return customer


@transaction.atomic
def customer_update(*, actor: Any, customer: Customer, reason: str = "", **data: Any) -> Customer:
    _require_perm(actor, "orders.change_customer", action="customer_update", target=customer.code)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    for key, value in data.items():
        if key in CUSTOMER_FIELDS:
            setattr(customer, key, value)
    _full_clean(customer)
    _stamp(customer, actor=actor, reason=reason or _("Customer updated"))
    customer.save()
    return customer


def _check_family_schema(schema: Any) -> None:
    problems = schema_errors(schema)
    if problems:
        raise ValidationFailed(_("The spec schema is not valid."), fields={"spec_schema": problems})


@transaction.atomic
def product_family_create(
    *,
    actor: Any,
    code: str,
    name: str,
    spec_schema: dict | None = None,
    description: str = "",
    reason: str = "",
) -> ProductFamily:
    _require_perm(actor, "orders.add_productfamily", action="product_family_create", target=code)
    spec_schema = spec_schema or {"type": "object", "properties": {}}
    _check_family_schema(spec_schema)
    family = ProductFamily(code=code, name=name, description=description, spec_schema=spec_schema)
    _full_clean(family)
    _stamp(family, actor=actor, reason=reason or _("Product family created"))
    family.save()
    return family


@transaction.atomic
def product_family_update(
    *, actor: Any, family: ProductFamily, reason: str = "", **data: Any
) -> ProductFamily:
    family = ProductFamily.objects.select_for_update().get(pk=family.pk)
    if "spec_schema" in data:
        _check_family_schema(data["spec_schema"])
    for key in ("code", "name", "description", "spec_schema"):
        if key in data:
            setattr(family, key, data[key])
    _full_clean(family)
    _stamp(family, actor=actor, reason=reason or _("Product family updated"))
    family.save()
    return family


@transaction.atomic
def product_create(
    *,
    actor: Any,
    sku: str,
    name: str,
    family: ProductFamily,
    unit: str = "pcs",
    is_active: bool = True,
    reason: str = "",
) -> Product:
    _require_perm(actor, "orders.add_product", action="product_create", target=sku)
    product = Product(sku=sku, name=name, family=family, unit=unit, is_active=is_active)
    _full_clean(product)
    _stamp(product, actor=actor, reason=reason or _("Product created"))
    product.save()
    return product


@transaction.atomic
def product_update(*, actor: Any, product: Product, reason: str = "", **data: Any) -> Product:
    _require_perm(actor, "orders.change_product", action="product_update", target=product.sku)
    product = Product.objects.select_for_update().get(pk=product.pk)
    for key in ("sku", "name", "family", "unit", "is_active"):
        if key in data:
            setattr(product, key, data[key])
    _full_clean(product)
    _stamp(product, actor=actor, reason=reason or _("Product updated"))
    product.save()
    return product


# --- sales orders: input checks -------------------------------------------------------------------------
def _parse_quantity(value: Any) -> Decimal | None:
    try:
        quantity = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return None
    return quantity if quantity.is_finite() else None


def _clean_lines(
    raw_lines: list[dict], *, default_due: dt.date | None
) -> tuple[list[dict], dict[str, list[str]]]:
    """Validate line inputs (product, quantity, spec values against the family schema, due date)."""
    errors: dict[str, list[str]] = {}
    cleaned: list[dict] = []
    if not raw_lines:
        return [], {}
    given = [line.get("product") for line in raw_lines]
    # Callers that resolved the products already (the API does, with their families) save a query.
    products = {p.pk: p for p in given if isinstance(p, Product)}
    product_ids = {p for p in given if not isinstance(p, Product) and p not in (None, "")}
    if product_ids:
        products.update(
            (p.pk, p) for p in Product.objects.select_related("family").filter(pk__in=product_ids)
        )
    for index, line in enumerate(raw_lines):
        prefix = f"lines[{index}]."
        product_ref = line.get("product")
        product_id = product_ref.pk if isinstance(product_ref, Product) else product_ref
        product = products.get(product_id) if product_id not in (None, "") else None
        if product is None:
            errors.setdefault(f"{prefix}product", []).append(
                _("This field is required.") if product_id in (None, "") else _("Unknown product.")
            )
        elif not product.is_active:
            errors.setdefault(f"{prefix}product", []).append(_("This product is no longer sold."))
        quantity = _parse_quantity(line.get("quantity"))
        if quantity is None:
            errors.setdefault(f"{prefix}quantity", []).append(_("Enter a number."))
        elif quantity <= 0:
            errors.setdefault(f"{prefix}quantity", []).append(_("The quantity must be greater than zero."))
        elif quantity != quantity.quantize(Decimal("0.001")) or quantity >= Decimal("1e9"):
            errors.setdefault(f"{prefix}quantity", []).append(_("At most 9 digits and 3 decimals."))
        spec_values = line.get("spec_values") or {}
        if product is not None:
            for key, messages in spec_value_errors(product.family.spec_schema, spec_values).items():
                field = f"{prefix}spec_values.{key}" if key else f"{prefix}spec_values"
                errors.setdefault(field, []).extend(messages)
        due_date = line.get("due_date") or default_due
        cleaned.append(
            {
                "id": line.get("id"),
                "product": product,
                "quantity": quantity,
                "spec_values": spec_values,
                "due_date": due_date,
            }
        )
    return cleaned, errors


def _check_dates(data: dict, *, changed: set[str]) -> dict[str, list[str]]:
    """Dates a user sets now must not lie in the past; untouched old dates are left alone."""
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    for name in ("requested_date", "promised_date"):
        value = data.get(name)
        if name in changed and value is not None and value < today:
            errors[name] = [_("This date is in the past.")]
    return errors


def _resolve_priority(
    *, customer: Customer, priority: int | None, reason: str
) -> tuple[int, bool, str, dict[str, list[str]]]:
    default = customer.default_priority
    if priority in (None, "") or int(priority) == default:
        return default, False, "", {}
    priority = int(priority)
    if priority not in Priority.values:
        return default, False, "", {"priority": [_("Choose a valid priority.")]}
    if not (reason or "").strip():
        return (
            priority,
            True,
            "",
            {"priority_reason": [_("Say why this order's priority differs from its customer's tier.")]},
        )
    return priority, True, reason.strip(), {}


def _current_lines(order: SalesOrder) -> list[OrderLine]:
    """The order's lines with their products: the prefetched ones when a service loaded them already."""
    cached = getattr(order, "_prefetched_objects_cache", {}).get("lines")
    if cached is not None:
        return sorted(cached, key=lambda line: line.line_no)
    return list(order.lines.select_related("product__family").order_by("line_no"))


def _forget_lines(order: SalesOrder) -> None:
    """Drop lines a service prefetched for itself: a caller keeping the order must not read a snapshot."""
    getattr(order, "_prefetched_objects_cache", {}).pop("lines", None)


def _hand_on_lines(order: SalesOrder, lines: list[OrderLine]) -> None:
    order._service_lines = lines


def service_lines(order: SalesOrder) -> list[OrderLine] | None:
    """The lines (products and families loaded) that the service call which returned `order` wrote, or read
    under the order's row lock, in line order: the order's lines as that call committed them. None if the
    call handed on none.

    For the caller's immediate answer only (the API serializes them instead of reading them again); the
    order's `lines` relation itself is left unprefetched, so any later read queries the current lines.
    """
    return getattr(order, "_service_lines", None)


def _order_payload(order: SalesOrder, lines: list[OrderLine] | None = None) -> dict:
    """What other systems learn about an order: every attribute the plant needs."""
    return {
        "number": order.number,
        "crm_id": order.crm_id,
        "customer": {
            "code": order.customer.code,
            "crm_id": order.customer.crm_id,
            "tier": order.customer.tier,
        },
        "customer_po": order.customer_po,
        "status": order.status,
        "revision": order.revision,
        "priority": order.priority,
        "requested_date": order.requested_date.isoformat() if order.requested_date else None,
        "promised_date": order.promised_date.isoformat() if order.promised_date else None,
        "remarks": order.remarks,
        "lines": [
            {
                "line_no": line.line_no,
                "sku": line.product.sku,
                "quantity": str(line.quantity),
                "unit": line.unit,
                "due_date": line.due_date.isoformat() if line.due_date else None,
                "spec": line.spec_values,
            }
            for line in (_current_lines(order) if lines is None else lines)
        ],
    }


def _publish(
    order: SalesOrder,
    event_class: type[domain_events.OrderEvent],
    *,
    actor: Any,
    reason: str,
    lines: list[OrderLine] | None = None,
    order_is_new: bool = False,
    **fields: Any,
) -> None:
    events.publish(
        event_class(
            order=order,
            actor=actor,
            reason=reason,
            snapshot=_order_payload(order, lines),
            order_is_new=order_is_new,
            **fields,
        )
    )


@dataclass(frozen=True)
class OrderNumber:
    """An order named by its number as `user` asked for it (an API URL). Services given one lock the order
    only if the user may see it, in the same query, and raise Http404 otherwise: a hidden order is missing
    to its asker, never forbidden (that would tell that it exists)."""

    number: str
    user: Any


# How services take an order: the instance, its id, or its number as a user asked for it (OrderNumber).
OrderRef = SalesOrder | int | OrderNumber


def _lock_order(order: OrderRef, *, with_lines: bool = False) -> SalesOrder:
    """The order, row-locked until commit. Only the order's row: `of=("self",)` keeps the customer's row
    free, or every order of one customer would queue behind each other."""
    queryset = SalesOrder.objects.select_related("customer", "owner")
    if isinstance(order, OrderNumber):
        queryset = selectors.orders_visible_to(order.user).filter(number=order.number)
    else:
        queryset = queryset.filter(pk=order.pk if isinstance(order, SalesOrder) else order)
    try:
        locked = queryset.select_for_update(of=("self",)).get()
    except SalesOrder.DoesNotExist:
        if isinstance(order, OrderNumber):
            raise Http404(_("No order %(number)s.") % {"number": order.number}) from None
        raise
    if with_lines:
        # Read after the lock, so they are the lines as of commit (lines change only under it). One plain
        # query: prefetch_related's machinery costs more than the query itself.
        lines = OrderLine.objects.filter(order_id=locked.pk).select_related("product__family")
        selectors.order_seed_lines(locked, list(lines.order_by("line_no")))
    return locked


def _check_version(order: SalesOrder, expected_version: int | None) -> None:
    if expected_version is not None and int(expected_version) != order.version:
        raise StaleObject(
            _(
                "Order %(number)s was changed by someone else since you opened it (your version %(yours)s, "
                "now %(now)s). Reload it and apply your change again."
            )
            % {"number": order.number, "yours": expected_version, "now": order.version},
            fields={"version": [_("This order has changed since you read it.")]},
        )


# --- sales orders: create and edit ----------------------------------------------------------------------
def _check_new_order(
    *,
    customer: Customer | None,
    lines: list[dict],
    requested_date: dt.date | None,
    promised_date: dt.date | None,
    priority: int | None,
    priority_reason: str,
    crm_id_taken: bool,
) -> tuple[list[dict], tuple, dict[str, list[str]]]:
    """A new order's input checks, shared by order_create and order_create_many (one rule, every door).

    Returns the cleaned lines, the resolved priority (value, overridden, reason, errors), field -> messages.
    """
    errors: dict[str, list[str]] = {}
    if customer is None:
        errors["customer"] = [_("This field is required.")]
    elif not customer.is_active:
        errors["customer"] = [_("This customer is inactive.")]
    data = {"requested_date": requested_date, "promised_date": promised_date}
    errors.update(_check_dates(data, changed={"requested_date", "promised_date"}))
    cleaned_lines, line_errors = _clean_lines(lines, default_due=requested_date)
    errors.update(line_errors)
    resolved = (Priority.NORMAL, False, "", {})
    if customer is not None:
        resolved = _resolve_priority(customer=customer, priority=priority, reason=priority_reason)
        errors.update(resolved[3])
    if crm_id_taken:
        errors["crm_id"] = [_("Another order already has this CRM id.")]
    return cleaned_lines, resolved, errors


@transaction.atomic
def order_create(
    *,
    actor: Any,
    customer: Customer,
    lines: list[dict],
    customer_po: str = "",
    crm_id: str = "",
    requested_date: dt.date | None = None,
    promised_date: dt.date | None = None,
    priority: int | None = None,
    priority_reason: str = "",
    remarks: str = "",
    reason: str = "",
    external_ref: str = "",
    crm_id_checked: bool = False,
) -> SalesOrder:
    """Create a draft order with its lines. Lines may be empty (a draft); confirm needs at least one.

    `external_ref` names the source row of an import; it is unique, so an import never makes a duplicate.
    `crm_id_checked`: the caller has just found no order with this CRM id in this transaction (a CRM's
    "created" message), so it is not looked up again; the unique index still decides a race.
    """
    return _order_create(
        actor=actor,
        customer=customer,
        lines=lines,
        customer_po=customer_po,
        crm_id=crm_id,
        requested_date=requested_date,
        promised_date=promised_date,
        priority=priority,
        priority_reason=priority_reason,
        remarks=remarks,
        reason=reason,
        external_ref=external_ref,
        crm_id_checked=crm_id_checked,
    )


def _order_create(
    *,
    actor: Any,
    customer: Customer,
    lines: list[dict],
    customer_po: str,
    crm_id: str,
    requested_date: dt.date | None,
    promised_date: dt.date | None,
    priority: int | None,
    priority_reason: str,
    remarks: str,
    reason: str,
    external_ref: str,
    crm_id_checked: bool,
) -> SalesOrder:
    """order_create's body, for a caller already inside a transaction (no savepoint of its own)."""
    if not actor.has_perm("orders.add_salesorder"):
        raise refused(
            actor, "order_create", customer.code if customer else "-", "missing orders.add_salesorder"
        )
    cleaned_lines, resolved, errors = _check_new_order(
        customer=customer,
        lines=lines or [],
        requested_date=requested_date,
        promised_date=promised_date,
        priority=priority,
        priority_reason=priority_reason,
        crm_id_taken=bool(crm_id)
        and not crm_id_checked
        and SalesOrder.objects.filter(crm_id=crm_id).exists(),
    )
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)

    order = SalesOrder(
        number=next_order_number(),
        customer=customer,
        owner=actor,
        customer_po=customer_po or "",
        crm_id=crm_id or "",
        requested_date=requested_date,
        promised_date=promised_date,
        priority=resolved[0],
        priority_overridden=resolved[1],
        priority_reason=resolved[2],
        remarks=remarks or "",
        external_ref=external_ref or "",
    )
    # Customer and owner were checked above; full_clean would read them again.
    _full_clean(order, exclude=["number", "status", "owner", "customer"])
    entered = reason or _("Order entered")
    _stamp(order, actor=actor, reason=entered)
    if order.crm_id or order.external_ref:
        # Two requests may race past the checks above with one CRM id or external reference: the unique
        # indexes decide.
        try:
            with transaction.atomic():
                order.save()
        except IntegrityError as exc:
            if external_ref and SalesOrder.objects.filter(external_ref=external_ref).exists():
                raise Conflict(
                    _("Another order already has this external reference."),
                    fields={"external_ref": [external_ref]},
                ) from exc
            raise Conflict(
                _("Another order already has this CRM id."), fields={"crm_id": [str(exc)]}
            ) from exc
    else:
        order.save()
    order_lines = [_new_line(order, line, line_no=index) for index, line in enumerate(cleaned_lines, start=1)]
    if order_lines:
        OrderLine.objects.bulk_create(order_lines)
        OrderLine.history.bulk_history_create(
            order_lines, default_user=actor, default_change_reason=entered, default_date=timezone.now()
        )
    _publish(
        order, domain_events.OrderCreated, actor=actor, reason=reason, lines=order_lines, order_is_new=True
    )
    _hand_on_lines(order, order_lines)
    return order


def _new_line(order: SalesOrder, line: dict, *, line_no: int) -> OrderLine:
    return OrderLine(
        order=order,
        line_no=line_no,
        product=line["product"],
        quantity=line["quantity"],
        unit=line["product"].unit,
        spec_values=line["spec_values"],
        due_date=line["due_date"],
    )


def _save_new_line(order: SalesOrder, line: dict, *, line_no: int, actor: Any, reason: str) -> OrderLine:
    order_line = _new_line(order, line, line_no=line_no)
    _stamp(order_line, actor=actor, reason=reason)
    order_line.save()
    return order_line


def _require_editable(order: SalesOrder, actor: Any) -> None:
    if not policies.can_edit_order(actor, order):
        raise refused(actor, "order_update", order.number, "cannot edit this order")
    if not order.is_editable:
        raise Conflict(
            _(
                "Order %(number)s is %(status)s: it is locked for direct edits. "
                "Submit a change request to change it."
            )
            % {"number": order.number, "status": order.get_status_display()},
            code="order_locked",
            # Where the change can be made instead: the CR form of this order and the CR API.
            links={
                "change_request_form": reverse("change_requests:create", args=[order.number]),
                "change_request_api": reverse("change-request-list"),
            },
        )


@transaction.atomic
def order_update(
    *,
    actor: Any,
    order: OrderRef,
    expected_version: int | None,
    data: dict,
    lines: list[dict] | None = None,
    reason: str = "",
) -> SalesOrder:
    """Edit an order in draft or confirmed.

    `data` holds the header fields to change (absent keys are kept). `lines`, when given, is the
    complete new list: entries with an `id` update that line, entries without one add a line, and
    existing lines not listed are removed. A stale `expected_version` is refused (StaleObject).
    """
    order = _lock_order(order)
    _require_editable(order, actor)
    if expected_version is None:
        raise ValidationFailed(
            _("The order's version is required to edit it."),
            fields={"version": [_("This field is required.")]},
        )
    _check_version(order, expected_version)

    errors: dict[str, list[str]] = {}
    changed = {name for name in ORDER_FIELDS if name in data and data[name] != getattr(order, name)}
    errors.update(_check_dates(data, changed=changed))
    crm_id_taken = (
        "crm_id" in changed
        and data["crm_id"]
        and SalesOrder.objects.filter(crm_id=data["crm_id"]).exclude(pk=order.pk).exists()
    )
    if crm_id_taken:
        errors["crm_id"] = [_("Another order already has this CRM id.")]
    if "priority" in data or "priority_reason" in data:
        priority, overridden, why, priority_errors = _resolve_priority(
            customer=order.customer,
            priority=data.get("priority", order.priority),
            reason=data.get("priority_reason", order.priority_reason),
        )
        errors.update(priority_errors)
    cleaned_lines: list[dict] | None = None
    if lines is not None:
        cleaned_lines, line_errors = _clean_lines(
            lines, default_due=data.get("requested_date", order.requested_date)
        )
        errors.update(line_errors)
        existing_ids = set(order.lines.values_list("pk", flat=True))
        for index, line in enumerate(cleaned_lines):
            if line["id"] not in (None, "") and int(line["id"]) not in existing_ids:
                errors.setdefault(f"lines[{index}].id", []).append(_("This line is not part of the order."))
        if order.status == OrderStatus.CONFIRMED and not cleaned_lines:
            errors["lines"] = [_("A confirmed order needs at least one line.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)

    for name in changed:
        setattr(order, name, data[name])
    if "priority" in data or "priority_reason" in data:
        order.priority, order.priority_overridden, order.priority_reason = priority, overridden, why
    reason = reason or _("Order edited")
    if cleaned_lines is not None:
        _replace_lines(order, cleaned_lines, actor=actor, reason=reason)
        _forget_lines(order)
    order.version += 1
    _full_clean(order, exclude=["number", "status", "owner", "customer"])
    _stamp(order, actor=actor, reason=reason)
    order.save()
    _publish(order, domain_events.OrderUpdated, actor=actor, reason=reason, changed=sorted(changed))
    return order


def _replace_lines(order: SalesOrder, cleaned: list[dict], *, actor: Any, reason: str) -> None:
    current = {line.pk: line for line in order.lines.all()}
    keep = {int(line["id"]) for line in cleaned if line["id"] not in (None, "")}
    for pk, line in current.items():
        if pk not in keep:
            _stamp(line, actor=actor, reason=reason)
            line.delete()
    next_no = max((line.line_no for line in current.values()), default=0) + 1
    for line in cleaned:
        if line["id"] in (None, ""):
            _save_new_line(order, line, line_no=next_no, actor=actor, reason=reason)
            next_no += 1
            continue
        existing = current[int(line["id"])]
        updates = {
            "product": line["product"],
            "quantity": line["quantity"],
            "unit": line["product"].unit,
            "spec_values": line["spec_values"],
            "due_date": line["due_date"],
        }
        if any(getattr(existing, key) != value for key, value in updates.items()):
            for key, value in updates.items():
                setattr(existing, key, value)
            _stamp(existing, actor=actor, reason=reason)
            existing.save()


QUANTITY_PLACES = Decimal("0.001")
ORDER_CREATE_DEFAULTS: dict[str, Any] = {
    "customer_po": "",
    "crm_id": "",
    "requested_date": None,
    "promised_date": None,
    "priority": None,
    "priority_reason": "",
    "remarks": "",
    "external_ref": "",
    "crm_id_checked": False,
}


# No savepoint of its own inside a caller's transaction (it runs once per CRM message): on an error the
# caller's transaction or savepoint must roll back, as inbound processing does.
@transaction.atomic(savepoint=False)
def order_create_and_advance(
    *, actor: Any, transitions: list[str], reason: str = "", **fields: Any
) -> SalesOrder:
    """order_create, then each transition in `transitions` (e.g. confirm, release) in the same transaction.

    For an order entered elsewhere in a later status (a CRM's "created, released"). The same checks,
    permissions, history rows and events (order.created, order.confirmed, …, each with its own snapshot) as
    the separate calls, for fewer queries: the new order is not locked and read again before each
    transition, and the events are published together at the end (one outbox write for all of them).
    Raises what order_create and the transitions raise; nothing is kept then.
    """
    # TODO(merge): a function-local import while this module still holds the helpers the door imports
    # (orders.sales.transitions imports them from here); the creation module imports it at the top.
    from orders.sales.transitions import ORDER_TRANSITIONS, order_transition_in_transaction

    unknown = [name for name in transitions if name not in ORDER_TRANSITIONS]
    if unknown:
        raise ValidationFailed(_("Unknown action."), fields={"action": [_("Unknown action.")]})
    # The steps run their bodies, without a savepoint each (two queries apiece), in this one transaction.
    with events.deferred():
        order = _order_create(actor=actor, reason=reason, **{**ORDER_CREATE_DEFAULTS, **fields})
        # The lines just written (products and families loaded), kept in the prefetch cache (as
        # _lock_order(with_lines=True) does) for the transitions' checks and snapshots and for the handlers
        # run when the block ends, instead of reading them back. Quantities as the column holds them (3
        # places), so that the later events' snapshots read as they would from the database.
        written = sorted(service_lines(order) or [], key=lambda line: line.line_no)
        for line in written:
            line.quantity = line.quantity.quantize(QUANTITY_PLACES)
        lines = OrderLine.objects.filter(order=order).order_by("line_no")
        lines._result_cache = written  # what prefetch_related puts there: no query
        lines._prefetch_done = True
        # Each step gets its own history row and event snapshot, but the row is updated once, at the end
        # (nothing reads it in between: the events are held until the block ends), and the steps' history
        # rows are written together: two queries per step fewer.
        steps: list[SalesOrder] = []
        for name in transitions:
            order._prefetched_objects_cache = {"lines": lines}
            order = order_transition_in_transaction(
                actor=actor, order=order, name=name, reason=reason, locked=True, unsaved_steps=steps
            )
        if steps:
            order.skip_history_when_saving = True
            try:
                order.save()
            finally:
                del order.skip_history_when_saving
            SalesOrder.history.bulk_history_create(steps, update=True)
        order._prefetched_objects_cache = {"lines": lines}
    _forget_lines(order)
    return order


# --- priority ---------------------------------------------------------------------------------------------
@transaction.atomic
def order_set_priority(
    *,
    actor: Any,
    order: OrderRef,
    priority: int,
    reason: str,
    expected_version: int | None = None,
) -> SalesOrder:
    """Set an order's priority with a reason, in any open status (also released and in production).

    Who: see policies.can_set_priority. The reason is required and recorded in history (and kept as the
    order's priority reason while the priority differs from the customer's tier). Publishes
    "order.priority_changed" in the same transaction (production replans on it). Setting the priority the
    order already has changes nothing and publishes nothing.
    """
    from orders.models import OPEN_STATUSES

    order = _lock_order(order)
    if not policies.can_view_order(actor, order):
        raise refused(actor, "order_set_priority", order.number, "order not visible")
    _check_version(order, expected_version)
    if not policies.can_set_priority(actor, order):
        raise refused(actor, "order_set_priority", order.number, "cannot set the priority of this order")
    if order.status not in OPEN_STATUSES:
        raise Conflict(
            _("Order %(number)s is %(status)s: its priority no longer matters.")
            % {"number": order.number, "status": order.get_status_display()},
            code="order_closed",
        )
    errors: dict[str, list[str]] = {}
    try:
        value = int(priority)
    except (TypeError, ValueError):
        value = None
    if value not in Priority.values:
        errors["priority"] = [_("Choose a valid priority.")]
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("Say why the priority changes.")]
    elif len(reason) > 300:
        errors["reason"] = [_("At most 300 characters.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    if value == order.priority:
        return order
    previous = order.priority
    order.priority = value
    order.priority_overridden = value != order.customer.default_priority
    order.priority_reason = reason if order.priority_overridden else ""
    order.version += 1
    history_reason = _("Priority %(old)s → %(new)s: %(reason)s") % {
        "old": Priority(previous).label,
        "new": Priority(value).label,
        "reason": reason,
    }
    _stamp(order, actor=actor, reason=history_reason)
    order.save()
    _publish(
        order,
        domain_events.OrderPriorityChanged,
        actor=actor,
        reason=history_reason,
        previous_priority=previous,
    )
    return order


def order_event_payload(order: SalesOrder) -> dict:
    """The order as other systems see it: the base of the data of events that higher apps publish about it."""
    return _order_payload(order)


def order_create_errors(
    *,
    customer: Customer | None,
    lines: list[dict],
    requested_date: dt.date | None = None,
    promised_date: dt.date | None = None,
    priority: int | None = None,
    priority_reason: str = "",
    crm_id: str = "",
) -> dict[str, list[str]]:
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


# --- sales orders: many at once (spreadsheet imports) -----------------------------------------------------
@dataclass
class NewOrder:
    """One order for order_create_many: the arguments order_create takes."""

    customer: Customer | None
    lines: list[dict] = field(default_factory=list)
    customer_po: str = ""
    crm_id: str = ""
    requested_date: dt.date | None = None
    promised_date: dt.date | None = None
    priority: int | None = None
    priority_reason: str = ""
    remarks: str = ""
    reason: str = ""
    external_ref: str = ""


@dataclass
class _Prepared:
    order: SalesOrder  # unsaved, without its number
    lines: list[dict]  # cleaned
    errors: dict[str, list[str]]


def _with_index(exc: Any, index: int) -> Any:
    """Tag a batch service's error with the position of the order it is about (an import names its row)."""
    exc.index = index
    return exc


def _prepare_many(*, actor: Any, orders: list[NewOrder]) -> list[_Prepared]:
    """order_create's checks on every order of a batch, in a fixed number of queries.

    Products given by id are read in one query; the CRM ids in one more (a CRM id repeated inside the batch
    is refused on its second use, as the unique index would). Spec values are checked against each
    family's compiled validator (orders.catalog.specs caches it), then each order's fields like order_create.
    """
    given = [line.get("product") for new in orders for line in new.lines or []]
    wanted = {p for p in given if not isinstance(p, Product) and p not in (None, "")}
    found = (
        {p.pk: p for p in Product.objects.select_related("family").filter(pk__in=wanted)} if wanted else {}
    )
    crm_ids = {new.crm_id for new in orders if new.crm_id}
    taken = (
        set(SalesOrder.objects.filter(crm_id__in=crm_ids).values_list("crm_id", flat=True))
        if crm_ids
        else set()
    )
    prepared: list[_Prepared] = []
    for new in orders:
        lines = [
            {**line, "product": found.get(line.get("product"), line.get("product"))}
            if not isinstance(line.get("product"), Product)
            else line
            for line in new.lines or []
        ]
        customer = new.customer
        cleaned_lines, resolved, errors = _check_new_order(
            customer=customer,
            lines=lines,
            requested_date=new.requested_date,
            promised_date=new.promised_date,
            priority=new.priority,
            priority_reason=new.priority_reason,
            crm_id_taken=bool(new.crm_id) and new.crm_id in taken,
        )
        if new.crm_id:
            taken.add(new.crm_id)
        order = SalesOrder(
            customer=customer,
            owner=actor,
            customer_po=new.customer_po or "",
            crm_id=new.crm_id or "",
            requested_date=new.requested_date,
            promised_date=new.promised_date,
            priority=resolved[0],
            priority_overridden=resolved[1],
            priority_reason=resolved[2],
            remarks=new.remarks or "",
            external_ref=new.external_ref or "",
        )
        try:
            _full_clean(order, exclude=["number", "status", "owner", "customer"])
        except ValidationFailed as exc:
            for key, messages in exc.fields.items():
                errors.setdefault(key, []).extend(m for m in messages if m not in errors.get(key, []))
        prepared.append(_Prepared(order=order, lines=cleaned_lines, errors=errors))
    return prepared


def order_create_many_errors(*, orders: list[NewOrder]) -> list[dict[str, list[str]]]:
    """order_create's input checks on each order of a batch (field -> messages), writing nothing.

    For previews that check thousands of orders before any is created (spreadsheet imports);
    order_create_many checks everything again when it runs.
    """
    return [item.errors for item in _prepare_many(actor=None, orders=orders)]


@transaction.atomic
def order_create_many(
    *,
    actor: Any,
    orders: list[NewOrder],
    chunk_size: int = 500,
    progress: Callable[[int, int], None] | None = None,
) -> list[SalesOrder]:
    """Create many draft orders at once, all or none: what order_create does for each, in bulk.

    Each order gets what order_create would give it: the same checks (the first failing order refuses the
    whole batch with ValidationFailed, its position in `.index`), a number from the same counter, priority
    from its customer's tier, revision and version 1, its lines, history rows for the order and each line
    (the actor; the order's reason, or "Order entered"), and its "order.created" event (published with
    events.publish_many, so the integration writes the same outbox rows). Rows are written with
    bulk_create, `chunk_size` orders at a time; `progress(done, total)` is called after each chunk (from
    inside this transaction: it must report through something other than this database connection).

    An external reference or CRM id taken meanwhile by another transaction refuses the batch (Conflict).
    """
    if not actor.has_perm("orders.add_salesorder"):
        raise refused(actor, "order_create_many", f"{len(orders)} orders", "missing orders.add_salesorder")
    prepared = _prepare_many(actor=actor, orders=orders)
    for index, item in enumerate(prepared):
        if item.errors:
            raise _with_index(
                ValidationFailed(_("Please correct the errors below."), fields=item.errors), index
            )
    numbers = next_order_numbers(len(prepared))
    default_reason = _("Order entered")
    created: list[SalesOrder] = []
    total = len(prepared)
    for start in range(0, total, chunk_size):
        chunk = list(
            zip(orders[start : start + chunk_size], prepared[start : start + chunk_size], strict=True)
        )
        for (new, item), number in zip(chunk, numbers[start : start + chunk_size], strict=True):
            item.order.number = number
            _stamp(item.order, actor=actor, reason=new.reason or default_reason)
        chunk_orders = [item.order for _new, item in chunk]
        _insert_orders(chunk_orders, offset=start)
        now = timezone.now()
        SalesOrder.history.bulk_history_create(chunk_orders, default_user=actor, default_date=now)
        lines_of: list[list[OrderLine]] = []
        for new, item in chunk:
            order_lines = [
                _new_line(item.order, line, line_no=line_no)
                for line_no, line in enumerate(item.lines, start=1)
            ]
            for order_line in order_lines:
                _stamp(order_line, actor=actor, reason=new.reason or default_reason)
            lines_of.append(order_lines)
        all_lines = [line for order_lines in lines_of for line in order_lines]
        OrderLine.objects.bulk_create(all_lines)
        OrderLine.history.bulk_history_create(all_lines, default_user=actor, default_date=now)
        events.publish_many(
            [
                domain_events.OrderCreated(
                    order=item.order,
                    actor=actor,
                    reason=new.reason,
                    snapshot=_order_payload(item.order, order_lines),
                )
                for (new, item), order_lines in zip(chunk, lines_of, strict=True)
            ]
        )
        created.extend(chunk_orders)
        if progress is not None:
            progress(len(created), total)
    return created


def _insert_orders(orders: list[SalesOrder], *, offset: int) -> None:
    """bulk_create the orders; a unique external reference or CRM id taken meanwhile is a Conflict naming
    the first order concerned (the savepoint keeps the transaction usable to find it)."""
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
