"""Rows become planned orders: rows sharing an external reference are the lines of one order, every value
is checked and each error named by its spreadsheet row and column."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.kernel import define, message
from orders import sales
from orders.catalog import spec_fields
from orders.catalog.models import Customer, Product
from orders.imports.sheets import ORDER_COLUMNS, SPEC_PREFIX, RowError, Sheet
from orders.sales.models import SalesOrder

# An imported order's history reason, read in each reader's language.
IMPORTED_FROM = define("orders.imported_from", gettext_lazy("Imported from %(file)s, row %(row)s"))


# --- validating ----------------------------------------------------------------------------------------
@dataclass
class PlannedOrder:
    external_ref: str
    rows: list[int]
    customer: Customer | None
    header: dict[str, Any]
    lines: list[sales.LineInput]
    exists: bool = False


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(_("Enter a date as YYYY-MM-DD.")) from None


def _time(value: Any) -> dt.time | None:
    """A time of day to the minute ("14:30", or a spreadsheet's time cell)."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.time().replace(second=0, microsecond=0)
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0)
    try:
        return dt.time.fromisoformat(str(value).strip()).replace(second=0, microsecond=0)
    except ValueError:
        raise ValueError(_("Enter a time as HH:MM.")) from None


def _moment(value: Any) -> dt.datetime | None:
    """A moment to the minute ("2026-12-20 07:30", or a spreadsheet's date-time cell), in plant time."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).strip().replace("/", "-"))
        except ValueError:
            raise ValueError(_("Enter a date and time as YYYY-MM-DD HH:MM.")) from None
    moment = moment.replace(second=0, microsecond=0)
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _number(value: Any) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise ValueError(_("Enter a number.")) from None
    if not number.is_finite():
        raise ValueError(_("Enter a number."))
    return number


def _spec_value(value: Any, kind: str) -> Any:
    if kind in ("number", "integer"):
        number = _number(value)
        if kind == "integer":
            if number != number.to_integral():
                raise ValueError(_("Enter a whole number."))
            return int(number)
        return int(number) if number == number.to_integral() else float(number)
    if kind == "boolean":
        text = _text(value).lower()
        if text in ("1", "true", "yes", "y", "是"):
            return True
        if text in ("0", "false", "no", "n", "否"):
            return False
        raise ValueError(_("Enter yes or no."))
    return _text(value)


# Where a service error key points in the file: (column, index of the line whose row it is, if any).
def _locate(key: str, order: PlannedOrder) -> tuple[int, str]:
    if key.startswith("lines["):
        index = int(key[6 : key.index("]")])
        rest = key[key.index("]") + 2 :]
        row = order.rows[index] if index < len(order.rows) else order.rows[0]
        if rest.startswith("spec_values"):
            attribute = rest[len("spec_values.") :]
            return row, f"{SPEC_PREFIX}{attribute}" if attribute else "spec"
        return row, {"product": "sku", "due_date": "line_due_date"}.get(rest, rest)
    return order.rows[0], {"customer": "customer_code"}.get(key, key)


def plan_orders(sheet: Sheet, *, check_rules: bool = True) -> tuple[list[PlannedOrder], list[RowError]]:
    """Group rows into orders and check every value; errors name their row and column.

    `check_rules` also runs the order rules (orders.sales.order_create_errors) on every new order:
    the
    preview needs them; the import itself leaves them to order_create, which checks them anyway.
    """
    errors = list(sheet.errors)
    customers = {c.code.lower(): c for c in Customer.objects.all()}
    products = {p.sku.lower(): p for p in Product.objects.select_related("family")}
    orders: dict[str, PlannedOrder] = {}
    for number, row in sheet.rows:

        def error(column: str, message: str, number: int = number) -> None:
            errors.append({"row": number, "column": column, "message": str(message)})

        ref = _text(row.get("external_ref"))
        if not ref:
            error("external_ref", _("This field is required."))
            continue
        if len(ref) > 100:
            error("external_ref", _("At most 100 characters."))
            continue
        header: dict[str, Any] = {}
        for column in ORDER_COLUMNS:
            value = row.get(column)
            try:
                if column in ("requested_date", "promised_date"):
                    header[column] = _date(value)
                elif column == "promised_time":
                    header[column] = _time(value)
                elif column == "start_not_before":
                    header[column] = _moment(value)
                elif column == "priority":
                    header[column] = int(_number(value)) if value not in (None, "") else None
                else:
                    header[column] = _text(value)
            except ValueError as exc:
                error(column, str(exc))
                header[column] = None
        customer = customers.get(header["customer_code"].lower()) if header.get("customer_code") else None
        if not header.get("customer_code"):
            error("customer_code", _("This field is required."))
        elif customer is None:
            error(
                "customer_code", _("No customer has the code %(code)s.") % {"code": header["customer_code"]}
            )
        sku = _text(row.get("sku"))
        product = products.get(sku.lower()) if sku else None
        if not sku:
            error("sku", _("This field is required."))
        elif product is None:
            error("sku", _("No product has the SKU %(sku)s.") % {"sku": sku})
        quantity = row.get("quantity")
        if quantity in (None, ""):
            error("quantity", _("This field is required."))
        else:
            try:
                quantity = _number(quantity)
            except ValueError as exc:
                error("quantity", str(exc))
        spec: dict[str, Any] = {}
        if product is not None:
            kinds = {a["name"]: a["type"] for a in spec_fields(product.family.spec_schema or {})}
            for column, value in row.items():
                if not column.startswith(SPEC_PREFIX) or value in (None, ""):
                    continue
                name = column[len(SPEC_PREFIX) :]
                if name not in kinds:
                    error(
                        column,
                        _("Products of family %(family)s have no attribute %(name)s.")
                        % {"family": product.family.code, "name": name},
                    )
                    continue
                try:
                    spec[name] = _spec_value(value, kinds[name])
                except ValueError as exc:
                    error(column, str(exc))
        try:
            due = _date(row.get("line_due_date"))
        except ValueError as exc:
            error("line_due_date", str(exc))
            due = None
        line: sales.LineInput = {"product": product, "quantity": quantity, "spec_values": spec}
        if due:
            line["due_date"] = due
        order = orders.get(ref)
        if order is None:
            orders[ref] = PlannedOrder(ref, [number], customer, header, [line])
            continue
        for column in ORDER_COLUMNS:
            if header.get(column) not in (None, "") and header.get(column) != order.header.get(column):
                error(
                    column,
                    _("Differs from row %(row)s of the same order (%(ref)s).")
                    % {"row": order.rows[0], "ref": ref},
                )
        order.rows.append(number)
        order.lines.append(line)

    existing = set(
        SalesOrder.objects.filter(external_ref__in=list(orders)).values_list("external_ref", flat=True)
    )
    failed_rows = {e["row"] for e in errors}
    to_check = []
    for order in orders.values():
        order.exists = order.external_ref in existing
        if check_rules and not order.exists and not failed_rows.intersection(order.rows):
            to_check.append(order)
    # The order rules of orders.sales, on every new order at once (a few queries, not some per
    # order).
    problems_of = sales.order_create_many_errors(orders=[new_order(order, filename="") for order in to_check])
    for order, problems in zip(to_check, problems_of, strict=True):
        for key, messages in problems.items():
            row_number, column = _locate(key, order)
            for text in messages:
                errors.append({"row": row_number, "column": column, "message": str(text)})
    errors.sort(key=lambda e: (e["row"], e["column"]))
    return list(orders.values()), errors


def new_order(order: PlannedOrder, *, filename: str) -> sales.NewOrder:
    """A planned order as the input of orders.sales.order_create_many."""
    return sales.NewOrder(
        customer=order.customer,
        lines=order.lines,
        customer_po=order.header["customer_po"] or "",
        crm_id=order.header["crm_id"] or "",
        requested_date=order.header["requested_date"],
        promised_date=order.header["promised_date"],
        promised_time=order.header["promised_time"],
        start_not_before=order.header["start_not_before"],
        priority=order.header["priority"],
        priority_reason=order.header["priority_reason"] or "",
        remarks=order.header["remarks"] or "",
        external_ref=order.external_ref,
        reason=message(IMPORTED_FROM, file=filename, row=order.rows[0]),
    )
