"""BOMs, stock counts and purchase orders from spreadsheets (.xlsx, .csv), read by the orders import's
reader (orders.imports.read_table: same limits, formulas refused per cell). Every row is checked first;
any error names its row and column and nothing is saved; otherwise everything is saved in one
transaction through the same services as the pages.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.kernel import ApplicationError, require
from orders.imports import RowError, Sheet, read_table
from production.master_data import Operation
from production.materials.editing import MANAGE_MATERIALS, bom_create, bom_line_save, item_create
from production.materials.models import Bom, Item, ItemKind, Location
from production.materials.stock import (
    MANAGE_PURCHASING,
    MANAGE_STOCK,
    PurchaseLineInput,
    purchase_order_create,
    stock_adjust,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

KINDS = {
    "boms": (
        gettext_lazy("Bills of materials"),
        MANAGE_MATERIALS,
        (
            "parent_code",
            "version",
            "effective_from",
            "effective_to",
            "component_code",
            "quantity",
            "scrap_percent",
            "operation_sequence",
            "condition_attribute",
            "condition_value",
            "variant_attribute",
            "component_template",
            "quantity_attribute",
            "quantity_factor",
            "component_name",
            "component_kind",
            "component_unit",
        ),
        ("parent_code", "quantity"),
    ),
    "stock": (
        gettext_lazy("Stock count"),
        MANAGE_STOCK,
        ("item_code", "location_code", "quantity", "reason"),
        ("item_code", "location_code", "quantity"),
    ),
    "purchase_orders": (
        gettext_lazy("Purchase orders"),
        MANAGE_PURCHASING,
        ("po_ref", "supplier", "item_code", "quantity", "expected_date", "location_code"),
        ("po_ref", "supplier", "item_code", "quantity", "expected_date"),
    ),
}


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    created: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    errors: list[RowError] = field(default_factory=list)

    @property
    def saved(self) -> bool:
        return not self.errors and self.rows > 0


class RowProblem(ValueError):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column, self.message = column, message


def _text(row: dict[str, Any], column: str) -> str:
    value = row.get(column)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _number(row: dict[str, Any], column: str, *, default: Decimal | None = None) -> Decimal:
    text = _text(row, column)
    if not text:
        if default is not None:
            return default
        raise RowProblem(column, _("This field is required."))
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise RowProblem(column, _("Enter a number.")) from None
    if not number.is_finite():
        raise RowProblem(column, _("Enter a number."))
    return number


def _date(row: dict[str, Any], column: str, *, required: bool = False) -> dt.date | None:
    value = row.get(column)
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(row, column)
    if not text:
        if required:
            raise RowProblem(column, _("This field is required."))
        return None
    try:
        return dt.date.fromisoformat(text.replace("/", "-"))
    except ValueError:
        raise RowProblem(column, _("Enter a date as YYYY-MM-DD.")) from None


def template_headers(kind: str) -> list[str]:
    return list(KINDS[kind][2])


def materials_import(
    *, actor: User, kind: str, filename: str, content: bytes, encoding: str = "utf-8"
) -> ImportResult:
    """Import one sheet of `kind` (boms, stock, purchase_orders). Returns the result: its row errors (then
    nothing is saved) or what was created. A file that cannot be read at all raises FileRejected."""
    _label, permission, columns, required = KINDS[kind]
    require(actor, permission, action=f"materials_import_{kind}", target=filename)
    sheet = read_table(content, filename=filename, columns=columns, required=required, encoding=encoding)
    result = ImportResult(kind=kind, rows=len(sheet.rows), errors=list(sheet.errors))
    if result.errors:
        return result
    try:
        with transaction.atomic():
            {"boms": _boms, "stock": _stock, "purchase_orders": _purchase_orders}[kind](sheet, actor, result)
            if result.errors:
                # Roll back what the rows before the first error wrote: nothing half-saved.
                transaction.set_rollback(True)
    except ApplicationError as exc:
        result.errors.append({"row": 0, "column": "", "message": exc.message})
    if result.errors:
        result.created.clear()
    return result


def _row_error(result: ImportResult, number: int, column: str, message: str) -> None:
    result.errors.append({"row": number, "column": column, "message": message})


def _items_by_code(sheet: Sheet, *columns: str) -> dict[str, Item]:
    codes = {_text(row, column) for _number_, row in sheet.rows for column in columns}
    return {item.code: item for item in Item.objects.filter(code__in=codes - {""}).select_related("product")}


def _boms(sheet: Sheet, actor: User, result: ImportResult) -> None:
    """Rows with the same parent and version are one BOM; an existing version's lines are replaced."""
    items = _items_by_code(sheet, "parent_code", "component_code")
    kinds = {value for value, _label in ItemKind.choices}
    boms: dict[tuple[str, int], Bom] = {}
    for number, row in sheet.rows:
        try:
            parent = items.get(_text(row, "parent_code"))
            if parent is None:
                raise RowProblem("parent_code", _("No item with this code."))
            version = int(_number(row, "version", default=Decimal(1)))
            code = _text(row, "component_code")
            component = items.get(code) if code else None
            if code and component is None:
                kind = _text(row, "component_kind") or ItemKind.RAW_MATERIAL
                if not _text(row, "component_name"):
                    raise RowProblem(
                        "component_code", _("No item with this code (give component_name to add it).")
                    )
                if kind not in kinds:
                    raise RowProblem(
                        "component_kind",
                        _("Choose one of: %(choices)s.") % {"choices": ", ".join(sorted(kinds))},
                    )
                component = item_create(
                    actor=actor,
                    code=code,
                    name=_text(row, "component_name"),
                    kind=kind,
                    unit=_text(row, "component_unit") or "pcs",
                    reason=_("Imported with a BOM"),
                )
                items[code] = component
                result.created["items"] += 1
            key = (parent.code, version)
            if key not in boms:
                existing = parent.boms.filter(version=version).first()
                if existing is not None:
                    existing.lines.all().delete()
                    boms[key] = existing
                else:
                    boms[key] = bom_create(
                        actor=actor,
                        item=parent,
                        version=version,
                        effective_from=_date(row, "effective_from"),
                        effective_to=_date(row, "effective_to"),
                        reason=_("Imported"),
                    )
                    result.created["boms"] += 1
            operation = None
            sequence = _text(row, "operation_sequence")
            if sequence:
                wanted = int(_number(row, "operation_sequence"))
                if parent.product_id is not None:
                    operation = Operation.objects.filter(
                        routing__product_id=parent.product_id, sequence=wanted
                    ).first()
                if operation is None:
                    raise RowProblem(
                        "operation_sequence", _("The parent's routing has no operation with this sequence.")
                    )
            bom_line_save(
                actor=actor,
                bom=boms[key],
                values={
                    "component": component,
                    "quantity": _number(row, "quantity"),
                    "scrap_percent": _number(row, "scrap_percent", default=Decimal(0)),
                    "operation": operation,
                    "condition_attribute": _text(row, "condition_attribute"),
                    "condition_value": _text(row, "condition_value"),
                    "variant_attribute": _text(row, "variant_attribute"),
                    "component_template": _text(row, "component_template"),
                    "quantity_attribute": _text(row, "quantity_attribute"),
                    "quantity_factor": _number(row, "quantity_factor", default=Decimal(1)),
                },
                reason=_("Imported"),
            )
            result.created["lines"] += 1
        except RowProblem as problem:
            _row_error(result, number, problem.column, problem.message)
        except ApplicationError as exc:
            column = next(iter(exc.fields), "")
            message = "; ".join(exc.fields[column]) if column else exc.message
            _row_error(result, number, column, message)


def _locations(sheet: Sheet) -> dict[str, Location]:
    codes = {_text(row, "location_code") for _number_, row in sheet.rows}
    return {location.code: location for location in Location.objects.filter(code__in=codes - {""})}


def _stock(sheet: Sheet, actor: User, result: ImportResult) -> None:
    """Each row is a count: the item's stock at the location becomes the quantity (an adjustment)."""
    items, locations = _items_by_code(sheet, "item_code"), _locations(sheet)
    for number, row in sheet.rows:
        try:
            item = items.get(_text(row, "item_code"))
            if item is None:
                raise RowProblem("item_code", _("No item with this code."))
            location = locations.get(_text(row, "location_code"))
            if location is None:
                raise RowProblem("location_code", _("No location with this code."))
            quantity = _number(row, "quantity")
            try:
                stock_adjust(
                    item=item,
                    location=location,
                    quantity=quantity,
                    actor=actor,
                    reason=_text(row, "reason") or _("Stock count imported"),
                    counted=True,
                )
                result.created["movements"] += 1
            except ApplicationError as exc:
                if "quantity" not in exc.fields or quantity < 0:
                    raise
                # The count matches the stock: nothing to record.
        except RowProblem as problem:
            _row_error(result, number, problem.column, problem.message)
        except ApplicationError as exc:
            column = next(iter(exc.fields), "")
            _row_error(result, number, column, "; ".join(exc.fields[column]) if column else exc.message)


def _purchase_orders(sheet: Sheet, actor: User, result: ImportResult) -> None:
    """Rows with the same po_ref are the lines of one purchase order (numbered PO-… when saved)."""
    items, locations = _items_by_code(sheet, "item_code"), _locations(sheet)
    grouped: dict[str, tuple[str, list[PurchaseLineInput]]] = {}
    for number, row in sheet.rows:
        try:
            ref, supplier = _text(row, "po_ref"), _text(row, "supplier")
            if not ref:
                raise RowProblem("po_ref", _("This field is required."))
            if not supplier:
                raise RowProblem("supplier", _("This field is required."))
            if ref in grouped and grouped[ref][0] != supplier:
                raise RowProblem("supplier", _("One purchase order has one supplier."))
            item = items.get(_text(row, "item_code"))
            if item is None:
                raise RowProblem("item_code", _("No item with this code."))
            quantity = _number(row, "quantity")
            if quantity <= 0:
                raise RowProblem("quantity", _("The quantity must be greater than zero."))
            location = None
            if _text(row, "location_code"):
                location = locations.get(_text(row, "location_code"))
                if location is None:
                    raise RowProblem("location_code", _("No location with this code."))
            expected = _date(row, "expected_date", required=True)
            assert expected is not None
            grouped.setdefault(ref, (supplier, []))[1].append(
                PurchaseLineInput(item=item, quantity=quantity, expected_date=expected, location=location)
            )
        except RowProblem as problem:
            _row_error(result, number, problem.column, problem.message)
    if result.errors:
        return
    for ref, (supplier, lines) in grouped.items():
        purchase_order_create(
            supplier=supplier, lines=lines, actor=actor, source=_("Import %(ref)s") % {"ref": ref}
        )
        result.created["purchase_orders"] += 1
