"""Factories for materials: items, BOMs (lines given compactly), locations."""

from __future__ import annotations

from decimal import Decimal

import factory

from production.materials import Bom, BomLine, BomLineVariant, Item, ItemKind, Location


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"ITM-{n:04d}")
    name = factory.LazyAttribute(lambda item: f"Item {item.code}")
    kind = ItemKind.RAW_MATERIAL
    unit = "pcs"


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ("code",)

    code = "MAIN"
    name = "Main store"
    name_zh = "主仓库"


def make_bom(item: Item, lines: list[dict], *, version: int = 1, **fields) -> Bom:
    """lines: dicts of BomLine fields (`component`, `quantity`, ...), `variants` as {spec value: item}."""
    bom = Bom.objects.create(item=item, version=version, **fields)
    for position, spec in enumerate(lines, start=1):
        spec = dict(spec)
        variants = spec.pop("variants", {})
        spec["quantity"] = Decimal(str(spec["quantity"]))
        line = BomLine.objects.create(bom=bom, position=position * 10, **spec)
        for value, component in variants.items():
            BomLineVariant.objects.create(line=line, spec_value=value, component=component)
    return bom
