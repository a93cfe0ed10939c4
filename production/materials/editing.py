"""Writes of items and BOMs (the tree editor, the import, the demo and the admin all call these)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from config.kernel import ValidationFailed, require, stamp
from production.materials.models import Bom, BomLine, BomLineVariant, Item, ItemKind

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from orders.models import Product

MANAGE_MATERIALS = "production.manage_materials"
LINE_FIELDS = (
    "position",
    "component",
    "quantity",
    "scrap_percent",
    "operation",
    "condition_attribute",
    "condition_value",
    "variant_attribute",
    "component_template",
    "quantity_attribute",
    "quantity_factor",
    "note",
)


def _check_full(instance: Item | Bom | BomLine, *, exclude: list[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise ValidationFailed(
            _("Please correct the errors below."),
            fields={key: [str(m) for m in messages] for key, messages in exc.message_dict.items()},
        ) from exc


def item_create(
    *,
    actor: User | None,
    code: str,
    name: str,
    kind: str,
    unit: str = "pcs",
    name_zh: str = "",
    lead_time_days: int = 0,
    minimum_order_quantity: Decimal = Decimal(0),
    order_multiple: Decimal = Decimal(0),
    product: Product | None = None,
    supplier: str = "",
    reason: str = "",
) -> Item:
    require(actor, MANAGE_MATERIALS, action="item_create", target=code)
    item = Item(
        code=code.strip(),
        name=name.strip(),
        name_zh=name_zh.strip(),
        kind=kind,
        unit=unit.strip() or "pcs",
        lead_time_days=lead_time_days,
        minimum_order_quantity=minimum_order_quantity,
        order_multiple=order_multiple,
        product=product,
        supplier=supplier,
    )
    _check_full(item)
    stamp(item, actor=actor, reason=reason or _("Item created"))
    item.save()
    return item


def bom_create(
    *,
    actor: User | None,
    item: Item,
    version: int | None = None,
    effective_from: dt.date | None = None,
    effective_to: dt.date | None = None,
    copy_from: Bom | None = None,
    note: str = "",
    reason: str = "",
) -> Bom:
    """A new BOM version of a made item (the next number unless given), optionally a copy of `copy_from`'s
    lines (a new version starts from the one in force)."""
    require(actor, MANAGE_MATERIALS, action="bom_create", target=item.code)
    if item.kind not in (ItemKind.SUB_ASSEMBLY, ItemKind.FINISHED_PRODUCT):
        raise ValidationFailed(
            _("Only sub-assemblies and finished products have a BOM."), fields={"item": [item.code]}
        )
    with transaction.atomic():
        if version is None:
            last = item.boms.order_by("-version").values_list("version", flat=True).first()
            version = (last or 0) + 1
        bom = Bom(
            item=item, version=version, effective_from=effective_from, effective_to=effective_to, note=note
        )
        _check_full(bom)
        stamp(bom, actor=actor, reason=reason or _("BOM created"))
        bom.save()
        if copy_from is not None:
            for line in copy_from.lines.prefetch_related("variants"):
                copy = BomLine(bom=bom, **{name: getattr(line, name) for name in LINE_FIELDS})
                stamp(copy, actor=actor, reason=reason or _("BOM created"))
                copy.save()
                for variant in line.variants.all():
                    BomLineVariant.objects.create(
                        line=copy, spec_value=variant.spec_value, component=variant.component
                    )
    return bom


def bom_update(
    *,
    actor: User | None,
    bom: Bom,
    effective_from: dt.date | None,
    effective_to: dt.date | None,
    is_active: bool,
    reason: str = "",
) -> Bom:
    require(actor, MANAGE_MATERIALS, action="bom_update", target=str(bom))
    with transaction.atomic():
        bom = Bom.objects.select_for_update().get(pk=bom.pk)
        bom.effective_from, bom.effective_to, bom.is_active = effective_from, effective_to, is_active
        _check_full(bom)
        stamp(bom, actor=actor, reason=reason or _("BOM changed"))
        bom.save()
    return bom


def bom_line_save(
    *,
    actor: User | None,
    bom: Bom,
    values: Mapping[str, Any],
    line: BomLine | None = None,
    variants: Mapping[str, Item] | None = None,
    reason: str = "",
) -> BomLine:
    """Add a line to a BOM (line None) or change one; `variants` (spec value → item) replace the line's."""
    require(actor, MANAGE_MATERIALS, action="bom_line_save", target=str(bom))
    with transaction.atomic():
        if line is None:
            last = bom.lines.order_by("-position").values_list("position", flat=True).first()
            line = BomLine(bom=bom, position=(last or 0) + 10)
        elif line.bom_id != bom.pk:
            raise ValidationFailed(_("The line is not on this BOM."))
        for name, value in values.items():
            if name in LINE_FIELDS:
                setattr(line, name, value)
        if line.component is not None and line.component.pk == bom.item_id:
            raise ValidationFailed(
                _("An item cannot be a component of itself."), fields={"component": [bom.item.code]}
            )
        if line.operation is not None and line.operation.routing.product_id != bom.item.product_id:
            raise ValidationFailed(
                _("The operation must belong to the routing of %(item)s.") % {"item": bom.item.code},
                fields={"operation": [str(line.operation)]},
            )
        if line.component is None and not line.variant_attribute:
            raise ValidationFailed(
                _("Choose a component, or a spec attribute that chooses it."),
                fields={"component": [_("This field is required.")]},
            )
        _check_full(line, exclude=["bom"])
        stamp(line, actor=actor, reason=reason or _("BOM line saved"))
        line.save()
        if variants is not None:
            line.variants.all().delete()
            for value, component in variants.items():
                BomLineVariant.objects.create(line=line, spec_value=value, component=component)
    return line


def bom_line_remove(*, actor: User | None, line: BomLine, reason: str = "") -> None:
    require(actor, MANAGE_MATERIALS, action="bom_line_remove", target=str(line.bom))
    with transaction.atomic():
        stamp(line, actor=actor, reason=reason or _("BOM line removed"))
        line.delete()
