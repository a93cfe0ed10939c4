"""Materials' part of `manage.py setup_demo`: items, BOMs for the demo products (the floor-standing cabinet
five levels deep, spec-dependent powder, sleeves and hose metres), stores with stock, open purchase orders
and one real shortage (door gaskets: less on hand than released work orders hold, the next delivery in
ten days).

Registered after production's demo (it needs the routings). Idempotent: what exists is left alone.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal

from config.kernel import ApplicationError
from orders.demo import DemoContext, DemoHooks, register
from orders.models import Product
from production.master_data import Operation
from production.materials.editing import bom_create, bom_line_save, item_create
from production.materials.models import Item, ItemKind, Location, PurchaseOrder
from production.materials.selectors import reserved
from production.materials.stock import (
    PurchaseLineInput,
    purchase_order_create,
    purchase_order_receive,
    stock_adjust,
)

RAW, BOUGHT, SUB, MADE = (
    ItemKind.RAW_MATERIAL,
    ItemKind.PURCHASED_PART,
    ItemKind.SUB_ASSEMBLY,
    ItemKind.FINISHED_PRODUCT,
)
DEMO = "Demo data"
RAL = ("7035", "9005", "5015", "3000", "1021")

# code, name, name_zh, kind, unit, lead time days, minimum order, multiple, supplier, opening stock
ITEMS = (
    (
        "SHEET-DC01-1.5",
        "Steel sheet DC01 1.5 mm",
        "冷轧钢板 DC01 1.5 mm",
        RAW,
        "m2",
        10,
        "100",
        "50",
        "Baosteel",
        "900",
    ),
    (
        "SHEET-DC01-2.0",
        "Steel sheet DC01 2.0 mm",
        "冷轧钢板 DC01 2.0 mm",
        RAW,
        "m2",
        10,
        "100",
        "50",
        "Baosteel",
        "1200",
    ),
    *(
        (
            f"PWD-RAL{ral}",
            f"Powder coating RAL {ral}",
            f"粉末涂料 RAL {ral}",
            RAW,
            "kg",
            7,
            "25",
            "25",
            "Tiger Coatings",
            "400",
        )
        for ral in RAL
    ),
    ("GASKET-EPDM", "EPDM door gasket", "EPDM 门密封条", BOUGHT, "m", 21, "200", "100", "Sealtech", "60"),
    ("LOCK-QT", "Quarter-turn lock", "快开门锁", BOUGHT, "pcs", 14, "100", "50", "Emka", "800"),
    ("HINGE-SS", "Stainless hinge", "不锈钢铰链", BOUGHT, "pcs", 14, "200", "100", "Emka", "1500"),
    ("WIRE-SG2", "MIG welding wire SG2", "MIG 焊丝 SG2", RAW, "kg", 5, "50", "15", "Lincoln", "300"),
    ("SCREW-M6", "Screw M6 x 16", "螺钉 M6 x 16", BOUGHT, "pcs", 7, "1000", "500", "Würth", "20000"),
    ("HOSE-2SN-RAW", "Hose 2SN, bulk", "2SN 胶管 (散装)", RAW, "m", 14, "100", "50", "Manuli", "2500"),
    ("FIT-DKOL", "Fitting DKOL 24°", "DKOL 24° 接头", BOUGHT, "pcs", 10, "200", "100", "Parker", "3000"),
    ("FERRULE", "Ferrule", "扣压套", BOUGHT, "pcs", 10, "200", "100", "Parker", "3000"),
    ("SLEEVE-PA", "Protective sleeve", "护套", BOUGHT, "m", 14, "100", "50", "Manuli", "400"),
    ("BOARD-GC1", "Folding boxboard GC1", "白卡纸 GC1", RAW, "sheet", 12, "1000", "500", "APP", "30000"),
    ("INK-CMYK", "Offset ink set CMYK", "胶印油墨 CMYK", RAW, "kg", 7, "20", "10", "Siegwerk", "300"),
    # Made in-house below the finished products (the cabinet's five levels).
    ("PROFILE-BLANK", "Profile blank", "型材坯料", SUB, "pcs", 0, "0", "0", "", "0"),
    ("FRAME-PROFILE", "Bent frame profile", "折弯框架型材", SUB, "pcs", 0, "0", "0", "", "0"),
    ("FRAME-SIDE", "Welded frame side", "焊接框架侧片", SUB, "pcs", 0, "0", "0", "", "0"),
    ("CAB-FRAME-1800", "Cabinet frame 1800", "机柜框架 1800", SUB, "pcs", 0, "0", "0", "", "0"),
    ("DOOR-WM", "Wall-mount door", "壁挂箱门", SUB, "pcs", 0, "0", "0", "", "0"),
    ("BODY-WM", "Wall-mount body", "壁挂箱体", SUB, "pcs", 0, "0", "0", "", "0"),
)

# parent → [(component or None, quantity, scrap %, consuming operation's sequence, extra line fields)]
POWDER = {
    "variant_attribute": "ral_colour",
    "condition_attribute": "finish",
    "condition_value": "powder_coat",
}
BOMS: dict[str, list[tuple[str | None, str, str, int | None, dict]]] = {
    "PROFILE-BLANK": [("SHEET-DC01-2.0", "0.35", "4", None, {})],
    "FRAME-PROFILE": [("PROFILE-BLANK", "1", "0", None, {})],
    "FRAME-SIDE": [("FRAME-PROFILE", "4", "0", None, {}), ("WIRE-SG2", "0.2", "0", None, {})],
    "CAB-FRAME-1800": [("FRAME-SIDE", "2", "0", None, {}), ("SCREW-M6", "16", "2", None, {})],
    "BODY-WM": [("SHEET-DC01-1.5", "0.6", "5", None, {})],
    "DOOR-WM": [("SHEET-DC01-1.5", "0.25", "5", None, {}), ("HINGE-SS", "2", "0", None, {})],
    "ENCL-WM-400": [
        ("BODY-WM", "1", "0", 10, {}),
        ("DOOR-WM", "1", "0", 10, {}),
        ("WIRE-SG2", "0.05", "0", 30, {}),
        (None, "0.4", "10", 40, POWDER),
        ("GASKET-EPDM", "1.4", "3", 50, {}),
        ("LOCK-QT", "1", "0", 50, {}),
    ],
    "ENCL-WM-600": [
        ("BODY-WM", "1.6", "0", 10, {}),
        ("DOOR-WM", "1.5", "0", 10, {}),
        ("WIRE-SG2", "0.08", "0", 30, {}),
        (None, "0.7", "10", 40, POWDER),
        ("GASKET-EPDM", "2.0", "3", 50, {}),
        ("LOCK-QT", "2", "0", 50, {}),
    ],
    "ENCL-FS-1800": [
        ("CAB-FRAME-1800", "1", "0", 30, {}),
        ("SHEET-DC01-1.5", "5.5", "5", 10, {}),
        (None, "2.5", "10", 40, POWDER),
        ("GASKET-EPDM", "5.2", "3", 50, {}),
        ("LOCK-QT", "2", "0", 50, {}),
        ("HINGE-SS", "3", "0", 50, {}),
    ],
    "HOSE-2SN-A": [
        (
            "HOSE-2SN-RAW",
            "1",
            "2",
            10,
            {"quantity_attribute": "length_mm", "quantity_factor": Decimal("0.001")},
        ),
        ("FIT-DKOL", "2", "0", None, {}),
        ("FERRULE", "2", "0", None, {}),
        (
            "SLEEVE-PA",
            "1",
            "0",
            None,
            {
                "quantity_attribute": "length_mm",
                "quantity_factor": Decimal("0.001"),
                "condition_attribute": "protective_sleeve",
                "condition_value": "true",
            },
        ),
    ],
    "PACK-FC-S": [("BOARD-GC1", "0.125", "6", None, {}), ("INK-CMYK", "0.0008", "0", None, {})],
    "PACK-FC-L": [("BOARD-GC1", "0.25", "6", None, {}), ("INK-CMYK", "0.0015", "0", None, {})],
}


def items_and_boms(ctx: DemoContext) -> None:
    admin = ctx.actors["admin"]
    for location_code, name, name_zh in (
        ("MAIN", "Main store", "主仓库"),
        ("LINE", "Line-side store", "线边库"),
    ):
        Location.objects.get_or_create(code=location_code, defaults={"name": name, "name_zh": name_zh})
    main = Location.objects.get(code="MAIN")
    items = {item.code: item for item in Item.objects.all()}
    for code, name, name_zh, kind, unit, lead, moq, multiple, supplier, opening in ITEMS:
        if code in items:
            continue
        items[code] = item_create(
            actor=admin,
            code=code,
            name=name,
            name_zh=name_zh,
            kind=kind,
            unit=unit,
            lead_time_days=lead,
            minimum_order_quantity=Decimal(moq),
            order_multiple=Decimal(multiple),
            supplier=supplier,
            reason=DEMO,
        )
        if Decimal(opening) > 0:
            stock_adjust(item=items[code], location=main, quantity=opening, actor=admin, reason=_opening())
    products = {product.sku: product for product in Product.objects.filter(sku__in=list(BOMS))}
    for sku, product in products.items():
        if sku not in items:
            items[sku] = item_create(
                actor=admin,
                code=sku,
                name=product.name,
                kind=MADE,
                unit=product.unit,
                product=product,
                reason=DEMO,
            )
    for parent_code, lines in BOMS.items():
        parent = items.get(parent_code)
        if parent is None or parent.boms.exists():
            continue
        bom = bom_create(actor=admin, item=parent, reason=DEMO)
        operations = (
            {
                operation.sequence: operation
                for operation in Operation.objects.filter(routing__product_id=parent.product_id)
            }
            if parent.product_id
            else {}
        )
        for component, quantity, scrap, sequence, extra in lines:
            extra = dict(extra)
            variants = None
            if extra.get("variant_attribute") == "ral_colour":
                variants = {f"RAL {ral}": items[f"PWD-RAL{ral}"] for ral in RAL}
            bom_line_save(
                actor=admin,
                bom=bom,
                values={
                    "component": items[component] if component else None,
                    "quantity": Decimal(quantity),
                    "scrap_percent": Decimal(scrap),
                    "operation": operations.get(sequence) if sequence else None,
                    **extra,
                },
                variants=variants,
                reason=DEMO,
            )
    ctx.counts["items"] = Item.objects.count()


def _opening() -> str:
    return "Opening stock (demo)"


def supply_and_shortage(ctx: DemoContext) -> None:
    """Open purchase orders (one partly received) and the gasket shortage, at the real now."""
    buyer = ctx.actors.get("buyer") or ctx.actors["admin"]
    manager = ctx.actors["manager"]
    items = {item.code: item for item in Item.objects.all()}
    today = ctx.now.date()
    if not PurchaseOrder.objects.filter(source=DEMO).exists() and "GASKET-EPDM" in items:
        for supplier, lines in (
            ("Sealtech", [("GASKET-EPDM", "400", 10)]),
            ("Tiger Coatings", [("PWD-RAL7035", "200", 5), ("PWD-RAL9005", "100", 12)]),
            ("Baosteel", [("SHEET-DC01-1.5", "600", 8), ("SHEET-DC01-2.0", "400", 15)]),
            ("Emka", [("LOCK-QT", "500", 20), ("HINGE-SS", "1000", 20)]),
            ("Manuli", [("HOSE-2SN-RAW", "1000", 6)]),
        ):
            order = purchase_order_create(
                supplier=supplier,
                lines=[
                    PurchaseLineInput(
                        item=items[code], quantity=Decimal(qty), expected_date=today + dt.timedelta(days=days)
                    )
                    for code, qty, days in lines
                ],
                actor=buyer,
                source=DEMO,
            )
            if supplier == "Baosteel":
                purchase_order_receive(line=order.lines.get(line_number=1), quantity="250", actor=manager)
    gasket = items.get("GASKET-EPDM")
    if gasket is not None:
        # A real shortage: a quarter of what released work orders hold is on the shelf.
        held = reserved([gasket.pk]).get(gasket.pk, Decimal(0))
        target = (held / 4).quantize(Decimal(1)) if held > 0 else Decimal(0)
        # Already at the count on a second run: nothing to record.
        with contextlib.suppress(ApplicationError):
            stock_adjust(
                item=gasket,
                location=Location.objects.get(code="MAIN"),
                quantity=target,
                actor=manager,
                reason="Count: damaged gasket rolls scrapped (demo)",
                counted=True,
            )
    ctx.counts["purchase orders"] = PurchaseOrder.objects.count()


def register_demo() -> None:
    register("materials", DemoHooks(after_catalog=items_and_boms, after_orders=supply_and_shortage))
