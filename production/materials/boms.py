"""Exploding bills of materials over all levels, with spec-dependent components and effective dates.

`BomBook` holds every active BOM version with its lines (three queries) so that many explosions (a plan,
an MRP run, a quote) read the database once; `explode_bom` is the one-shot door for a single product.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from config.kernel import ValidationFailed
from production.materials.models import Bom, BomLine, BomLineVariant, Item

if TYPE_CHECKING:
    from orders.models import Product
    from production.master_data import Operation

# Deeper than this the BOM loops back on itself (an item among its own components).
MAX_LEVELS = 20
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Requirement:
    """One component on one path of the explosion.

    `quantity` is the gross quantity for the exploded quantity, scrap included at every level; `operation`
    is the routing operation that consumes it (its line's, else the nearest ancestor line's; None: the
    first operation); `is_leaf` is true when the item has no BOM in force (bought, or made elsewhere).
    """

    item: Item
    level: int
    quantity: Decimal
    operation: Operation | None
    parent: Item
    is_leaf: bool


def bom_in_force(boms: Iterable[Bom], on: dt.date) -> Bom | None:
    """The active version in force on `on` (dates inclusive, empty = open), the highest version first."""
    candidates = [
        bom
        for bom in boms
        if bom.is_active
        and (bom.effective_from is None or bom.effective_from <= on)
        and (bom.effective_to is None or on <= bom.effective_to)
    ]
    return max(candidates, key=lambda bom: bom.version, default=None)


def _spec_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def _spec_number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    # NaN and infinities are not lengths (and NaN cannot even be compared with a quantity).
    return number if number.is_finite() else None


class BomBook:
    """Every active BOM with its lines and variants, and the items they name, read once."""

    def __init__(self, *, item_ids: Iterable[int] | None = None) -> None:
        boms = Bom.objects.filter(is_active=True).prefetch_related(
            Prefetch(
                "lines",
                queryset=BomLine.objects.select_related("component", "operation").prefetch_related(
                    Prefetch("variants", queryset=BomLineVariant.objects.select_related("component"))
                ),
            )
        )
        if item_ids is not None:
            boms = boms.filter(item_id__in=list(item_ids))
        self.boms: dict[int, list[Bom]] = defaultdict(list)
        for bom in boms.select_related("item"):
            self.boms[bom.item_id].append(bom)
        self._by_code: dict[str, Item] | None = None

    def item_by_code(self, code: str) -> Item | None:
        if self._by_code is None:
            self._by_code = {item.code: item for item in Item.objects.filter(is_active=True)}
        return self._by_code.get(code)

    def component(self, line: BomLine, spec: Mapping[str, Any]) -> Item | None:
        """The line's component for the spec (None: the spec names none, the line does not apply)."""
        if not line.variant_attribute:
            return line.component
        value = spec.get(line.variant_attribute)
        if value is None or value == "":
            return line.component
        text = _spec_text(value)
        for variant in line.variants.all():
            if variant.spec_value == text:
                return variant.component
        if line.component_template:
            found = self.item_by_code(line.component_template.replace("{value}", text))
            if found is not None:
                return found
        return line.component

    def line_quantity(self, line: BomLine, spec: Mapping[str, Any]) -> Decimal:
        """Per unit of the parent, scrap included."""
        quantity = line.quantity
        if line.quantity_attribute:
            driver = _spec_number(spec.get(line.quantity_attribute))
            if driver is None:
                raise ValidationFailed(
                    _("The spec attribute %(attribute)s drives a component quantity and must be a number.")
                    % {"attribute": line.quantity_attribute},
                    fields={line.quantity_attribute: [_("Must be a number.")]},
                )
            if driver < 0:
                raise ValidationFailed(
                    _(
                        "The spec attribute %(attribute)s drives a component quantity and must not be "
                        "negative."
                    )
                    % {"attribute": line.quantity_attribute},
                    fields={line.quantity_attribute: [_("Must be zero or more.")]},
                )
            quantity = quantity * driver * line.quantity_factor
        return quantity * (1 + line.scrap_percent / HUNDRED)

    @staticmethod
    def applies(line: BomLine, spec: Mapping[str, Any]) -> bool:
        if not line.condition_attribute:
            return True
        return _spec_text(spec.get(line.condition_attribute, "")) == line.condition_value.strip()

    def explode(
        self, item: Item, *, spec: Mapping[str, Any], quantity: Decimal, on: dt.date
    ) -> list[Requirement]:
        """Every component of `quantity` of `item` over all levels, depth first in line order."""
        rows: list[Requirement] = []
        self._walk(
            item, spec=spec, quantity=quantity, on=on, level=1, operation=None, path=(item.pk,), rows=rows
        )
        return rows

    def _walk(
        self,
        parent: Item,
        *,
        spec: Mapping[str, Any],
        quantity: Decimal,
        on: dt.date,
        level: int,
        operation: Operation | None,
        path: tuple[int, ...],
        rows: list[Requirement],
    ) -> None:
        bom = bom_in_force(self.boms.get(parent.pk, ()), on)
        if bom is None:
            return
        for line in bom.lines.all():
            if not self.applies(line, spec):
                continue
            component = self.component(line, spec)
            if component is None:
                continue
            if component.pk in path or level > MAX_LEVELS:
                raise ValidationFailed(
                    _("The BOM of %(item)s contains itself.") % {"item": component.code},
                    fields={"bom": [component.code]},
                )
            needed = quantity * self.line_quantity(line, spec)
            consumer = line.operation or operation
            is_leaf = bom_in_force(self.boms.get(component.pk, ()), on) is None
            rows.append(
                Requirement(
                    item=component,
                    level=level,
                    quantity=needed,
                    operation=consumer,
                    parent=parent,
                    is_leaf=is_leaf,
                )
            )
            if not is_leaf:
                self._walk(
                    component,
                    spec=spec,
                    quantity=needed,
                    on=on,
                    level=level + 1,
                    operation=consumer,
                    path=(*path, component.pk),
                    rows=rows,
                )


def item_for_product(product: Product) -> Item | None:
    return Item.objects.filter(product=product).first()


def explode_bom(
    product: Product | Item,
    *,
    spec_values: Mapping[str, Any] | None = None,
    quantity: Decimal,
    on: dt.date,
    book: BomBook | None = None,
) -> list[Requirement]:
    """The components of `quantity` of a catalog product (or an item) on date `on`, over all levels.

    One row per component per path (level 1 = direct components), each with its gross quantity (line
    quantity x spec driver x (1 + scrap %) at every level), its consuming routing operation and whether it
    is a leaf. A product without an item or a BOM in force explodes to nothing. Raises ValidationFailed for
    a BOM containing itself or a quantity-driving spec attribute that is not a number. Pass `book` to
    explode many products on one read.
    """
    item = product if isinstance(product, Item) else item_for_product(product)
    if item is None:
        return []
    book = book or BomBook()
    return book.explode(item, spec=spec_values or {}, quantity=Decimal(quantity), on=on)


def leaf_requirements(rows: Iterable[Requirement]) -> dict[tuple[int, int | None], Decimal]:
    """Leaf quantities summed per (item id, consuming operation sequence or None)."""
    totals: dict[tuple[int, int | None], Decimal] = defaultdict(Decimal)
    for row in rows:
        if row.is_leaf:
            sequence = row.operation.sequence if row.operation is not None else None
            totals[(row.item.pk, sequence)] += row.quantity
    return dict(totals)


@dataclass
class TreeNode:
    """A line of a BOM tree as the editor shows it: the line, its level and the lines of its component's
    BOM in force (spec-chosen components are shown by their rule, without children)."""

    line: BomLine
    level: int
    children: list[TreeNode]


def bom_tree(bom: Bom, *, on: dt.date, book: BomBook | None = None) -> list[TreeNode]:
    """The tree of `bom`: its own lines (level 1, editable) with every level below, depth first."""
    book = book or BomBook()
    lines = list(bom.lines.select_related("component", "operation").prefetch_related("variants__component"))

    def below(item: Item | None, level: int, path: tuple[int, ...]) -> list[TreeNode]:
        if item is None or item.pk in path or level > MAX_LEVELS:
            return []
        child_bom = bom_in_force(book.boms.get(item.pk, ()), on)
        if child_bom is None:
            return []
        return [
            TreeNode(line, level, below(line.component, level + 1, (*path, item.pk)))
            for line in child_bom.lines.all()
        ]

    return [TreeNode(line, 1, below(line.component, 2, (bom.item_id,))) for line in lines]


def flatten(nodes: list[TreeNode]) -> list[TreeNode]:
    """Depth first, for a table whose rows are indented by level."""
    rows: list[TreeNode] = []
    for node in nodes:
        rows.append(node)
        rows.extend(flatten(node.children))
    return rows
