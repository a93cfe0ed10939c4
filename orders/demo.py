"""Demo users and realistic demo data for `manage.py setup_demo`.

Everything is written through the services of `orders.catalog` and `orders.sales` with the actor a real
plant would have (sales enter and confirm, the planner releases and reports progress, the production
manager ships), so the demo has the same history, outbox rows and domain events as real use. The data
depends only on the seed and the moment it is loaded.

History: orders are entered over the last ~120 days and each step runs at its own moment under
time-machine (`at`), so auto_now fields, history dates, outbox rows and timezone.now() agree. Higher apps
add their part through `register` (called in their AppConfig.ready; orders never imports them):
production makes its master data, reports progress that moves orders to in production and completed,
and leaves a current plan. Without them the planner records those two steps by hand.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone

from config.kernel import stamp
from config.kernel.errors import ApplicationError
from orders import catalog, change_requests, sales
from orders.models import (
    Customer,
    CustomerContact,
    CustomerTier,
    OrderStatus,
    Priority,
    Product,
    ProductFamily,
    SalesOrder,
)

# --- users -----------------------------------------------------------------------------------------------
# (username, role group, first name, last name)
DEMO_USERS = (
    ("sales", "sales", "Sally", "Chen"),
    ("sales2", "sales", "Sam", "Weber"),
    ("planner", "planner", "Pat", "Liu"),
    ("manager", "production_manager", "Morgan", "Schmidt"),
    ("service", "customer_service", "Cass", "Wang"),
    ("buyer", "purchasing", "Bea", "Zhang"),
    ("admin", "admin", "Ada", "Admin"),
)


@dataclass(frozen=True)
class CreatedUser:
    username: str
    role: str
    password: str


def ensure_demo_users(*, shared_password: str = "") -> list[CreatedUser]:
    """Create the demo users that do not exist yet; existing users are left exactly as they are.

    Each new user gets a random password (or `shared_password`), returned once and never stored
    anywhere but as a hash.
    """
    User = get_user_model()
    created = []
    for username, role, first_name, last_name in DEMO_USERS:
        if User.objects.filter(username=username).exists():
            continue
        password = shared_password or secrets.token_urlsafe(12)
        user = User(
            username=username,
            first_name=first_name,
            last_name=last_name,
            email=f"{username}@orderbridge.example",
            is_staff=role == "admin",
            is_superuser=role == "admin",
        )
        validate_password(password, user)
        user.set_password(password)
        user.save()
        user.groups.add(Group.objects.get(name=role))
        created.append(CreatedUser(username=username, role=role, password=password))
    return created


# --- catalog ------------------------------------------------------------------------------------------------
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

ENCLOSURE_SCHEMA = {
    "$schema": SCHEMA_DIALECT,
    "title": "Sheet-metal enclosure",
    "type": "object",
    "properties": {
        "material": {
            "type": "string",
            "title": "Material",
            "x-title": {"zh-hans": "材质"},
            "enum": ["steel_dc01", "galvanised_dx51d", "stainless_304", "stainless_316l", "aluminium_5754"],
        },
        "thickness_mm": {
            "type": "number",
            "title": "Sheet thickness",
            "x-title": {"zh-hans": "板厚"},
            "x-unit": "mm",
            "minimum": 0.8,
            "maximum": 4.0,
        },
        "finish": {
            "type": "string",
            "title": "Finish",
            "x-title": {"zh-hans": "表面处理"},
            "enum": ["powder_coat", "brushed", "electro_polished", "raw"],
        },
        "ral_colour": {
            "type": "string",
            "title": "RAL colour",
            "x-title": {"zh-hans": "RAL 颜色"},
            "description": "Required for powder coat, e.g. RAL 7035.",
            "pattern": "^RAL [1-9][0-9]{3}$",
        },
        "ip_rating": {
            "type": "string",
            "title": "IP rating",
            "x-title": {"zh-hans": "防护等级"},
            "enum": ["IP54", "IP55", "IP65", "IP66"],
        },
        "door_hinge": {
            "type": "string",
            "title": "Door hinge side",
            "x-title": {"zh-hans": "门铰链方向"},
            "enum": ["left", "right"],
        },
        "mounting_plate": {
            "type": "boolean",
            "title": "Mounting plate",
            "x-title": {"zh-hans": "安装板"},
        },
    },
    "required": ["material", "thickness_mm", "finish", "ip_rating"],
    # A powder-coated enclosure is not orderable without its colour.
    "if": {"properties": {"finish": {"const": "powder_coat"}}, "required": ["finish"]},
    "then": {"required": ["ral_colour"]},
    "additionalProperties": False,
}

HOSE_SCHEMA = {
    "$schema": SCHEMA_DIALECT,
    "title": "Hydraulic hose assembly",
    "type": "object",
    "properties": {
        "inner_diameter_mm": {
            "type": "number",
            "title": "Inner diameter",
            "x-title": {"zh-hans": "内径"},
            "x-unit": "mm",
            "enum": [6.3, 8, 10, 12.5, 16, 19, 25, 31.5],
        },
        "length_mm": {
            "type": "integer",
            "title": "Assembly length",
            "x-title": {"zh-hans": "总成长度"},
            "x-unit": "mm",
            "minimum": 150,
            "maximum": 12000,
        },
        "pressure_rating_bar": {
            "type": "integer",
            "title": "Working pressure",
            "x-title": {"zh-hans": "工作压力"},
            "x-unit": "bar",
            "minimum": 40,
            "maximum": 450,
        },
        "hose_standard": {
            "type": "string",
            "title": "Hose standard",
            "x-title": {"zh-hans": "软管标准"},
            "enum": ["EN 853 1SN", "EN 853 2SN", "EN 856 4SP", "EN 856 4SH", "SAE 100R13"],
        },
        "fitting_type": {
            "type": "string",
            "title": "Fitting type",
            "x-title": {"zh-hans": "接头类型"},
            "enum": ["DKOL 24° light", "DKOS 24° heavy", "JIC 37°", "ORFS", "BSP 60° cone", "SAE flange"],
        },
        "crimp_orientation_deg": {
            "type": "integer",
            "title": "Crimp orientation",
            "x-title": {"zh-hans": "扣压角度"},
            "x-unit": "°",
            "minimum": 0,
            "maximum": 359,
        },
        "protective_sleeve": {
            "type": "boolean",
            "title": "Protective sleeve",
            "x-title": {"zh-hans": "保护套"},
        },
    },
    "required": ["inner_diameter_mm", "length_mm", "pressure_rating_bar", "fitting_type"],
    "additionalProperties": False,
}

PACKAGING_SCHEMA = {
    "$schema": SCHEMA_DIALECT,
    "title": "Printed packaging",
    "type": "object",
    "properties": {
        "board_grade": {
            "type": "string",
            "title": "Board grade",
            "x-title": {"zh-hans": "纸板等级"},
            "enum": ["GC1", "GC2", "GD2", "SBS", "E-flute", "B-flute"],
        },
        "grammage_gsm": {
            "type": "integer",
            "title": "Grammage",
            "x-title": {"zh-hans": "克重"},
            "x-unit": "g/m²",
            "minimum": 200,
            "maximum": 450,
        },
        "print_colours": {
            "type": "integer",
            "title": "Print colours",
            "x-title": {"zh-hans": "印刷色数"},
            "minimum": 1,
            "maximum": 7,
        },
        "spot_colour": {
            "type": "string",
            "title": "Spot colour (Pantone)",
            "x-title": {"zh-hans": "专色"},
            "pattern": "^PMS [0-9]{3,4} [CU]$",
        },
        "coating": {
            "type": "string",
            "title": "Coating",
            "x-title": {"zh-hans": "表面涂层"},
            "enum": ["none", "aqueous", "uv_gloss", "uv_matt", "soft_touch"],
        },
        "die_cut": {"type": "boolean", "title": "Die-cut", "x-title": {"zh-hans": "模切"}},
        "packaging": {
            "type": "string",
            "title": "Packaging",
            "x-title": {"zh-hans": "包装方式"},
            "enum": ["bundles_of_100", "bundles_of_250", "palletised", "shrink_wrapped"],
        },
    },
    "required": ["board_grade", "print_colours", "coating", "packaging"],
    "additionalProperties": False,
}

# (code, name, description, schema, [(sku, name, unit), ...])
FAMILIES = (
    (
        "ENCL",
        "Sheet-metal enclosures",
        "Laser-cut, bent and welded control cabinets and housings.",
        ENCLOSURE_SCHEMA,
        [
            ("ENCL-WM-400", "Wall-mount enclosure 400 x 300 x 200", "pcs"),
            ("ENCL-WM-600", "Wall-mount enclosure 600 x 400 x 250", "pcs"),
            ("ENCL-FS-1800", "Floor-standing cabinet 1800 x 800 x 500", "pcs"),
            ("ENCL-TB-160", "Terminal box 160 x 160 x 90", "pcs"),
            ("ENCL-CON-1200", "Operator console 1200 mm", "pcs"),
            ("ENCL-DR-KIT", "Door and gland-plate kit", "set"),
        ],
    ),
    (
        "HOSE",
        "Hydraulic hose assemblies",
        "Crimped hose assemblies to customer drawing, pressure-tested.",
        HOSE_SCHEMA,
        [
            ("HOSE-1SN-A", "1SN hose assembly, straight fittings", "pcs"),
            ("HOSE-2SN-A", "2SN hose assembly, straight fittings", "pcs"),
            ("HOSE-2SN-E90", "2SN hose assembly, 90° elbow", "pcs"),
            ("HOSE-4SP-A", "4SP spiral hose assembly", "pcs"),
            ("HOSE-4SH-F", "4SH hose assembly, SAE flange", "pcs"),
            ("HOSE-R13-KIT", "R13 hose kit for excavator boom", "set"),
            ("HOSE-TEST-CERT", "Assembly with pressure-test certificate", "pcs"),
        ],
    ),
    (
        "PACK",
        "Printed packaging",
        "Offset-printed folding cartons and corrugated shipping boxes.",
        PACKAGING_SCHEMA,
        [
            ("PACK-FC-S", "Folding carton, small", "pcs"),
            ("PACK-FC-L", "Folding carton, large", "pcs"),
            ("PACK-SLV", "Printed sleeve", "pcs"),
            ("PACK-RSC-40", "Shipping box RSC 400 x 300 x 300", "pcs"),
            ("PACK-DISP", "Counter display tray", "pcs"),
            ("PACK-INS", "Die-cut insert", "pcs"),
        ],
    ),
)

# Quantity range per family: enclosures by the piece, hoses by the dozen or hundred, cartons by the thousand.
QUANTITIES = {"ENCL": (1, 40), "HOSE": (10, 400), "PACK": (2000, 60000)}


def _enclosure_spec(rng: random.Random) -> dict:
    finish = rng.choice(["powder_coat", "powder_coat", "powder_coat", "brushed", "electro_polished", "raw"])
    material = (
        rng.choice(["stainless_304", "stainless_316l"])
        if finish in ("brushed", "electro_polished")
        else rng.choice(["steel_dc01", "galvanised_dx51d", "aluminium_5754"])
    )
    spec = {
        "material": material,
        "thickness_mm": rng.choice([1.0, 1.5, 2.0, 2.5, 3.0]),
        "finish": finish,
        "ip_rating": rng.choice(["IP54", "IP55", "IP65", "IP66"]),
    }
    if finish == "powder_coat":
        spec["ral_colour"] = rng.choice(
            ["RAL 7035", "RAL 7035", "RAL 9005", "RAL 5015", "RAL 3000", "RAL 1021"]
        )
    if rng.random() < 0.6:
        spec["door_hinge"] = rng.choice(["left", "right"])
    if rng.random() < 0.5:
        spec["mounting_plate"] = rng.random() < 0.7
    return spec


def _hose_spec(rng: random.Random) -> dict:
    standard = rng.choice(
        ["EN 853 1SN", "EN 853 2SN", "EN 853 2SN", "EN 856 4SP", "EN 856 4SH", "SAE 100R13"]
    )
    pressure = {
        "EN 853 1SN": (80, 225),
        "EN 853 2SN": (160, 400),
        "EN 856 4SP": (250, 445),
        "EN 856 4SH": (280, 420),
        "SAE 100R13": (350, 350),
    }[standard]
    spec = {
        "inner_diameter_mm": rng.choice([6.3, 8, 10, 12.5, 16, 19, 25, 31.5]),
        "length_mm": rng.randrange(300, 6000, 50),
        "pressure_rating_bar": rng.randrange(pressure[0], pressure[1] + 1, 5),
        "hose_standard": standard,
        "fitting_type": rng.choice(["DKOL 24° light", "DKOS 24° heavy", "JIC 37°", "ORFS", "BSP 60° cone"]),
    }
    if rng.random() < 0.5:
        spec["crimp_orientation_deg"] = rng.choice([0, 45, 90, 180, 270])
    if rng.random() < 0.3:
        spec["protective_sleeve"] = True
    return spec


def _packaging_spec(rng: random.Random) -> dict[str, Any]:
    board = rng.choice(["GC1", "GC2", "GD2", "SBS", "E-flute", "B-flute"])
    spec: dict[str, Any] = {
        "board_grade": board,
        "print_colours": rng.choice([1, 2, 4, 4, 5, 6]),
        "coating": rng.choice(["none", "aqueous", "aqueous", "uv_gloss", "uv_matt", "soft_touch"]),
        "packaging": "palletised"
        if board.endswith("flute")
        else rng.choice(["bundles_of_100", "bundles_of_250", "palletised", "shrink_wrapped"]),
    }
    if not board.endswith("flute"):
        spec["grammage_gsm"] = rng.choice([250, 280, 300, 350, 400])
    if spec["print_colours"] >= 5:
        spec["spot_colour"] = f"PMS {rng.choice(['185', '286', '354', '7547', '021'])} {rng.choice('CU')}"
    if rng.random() < 0.5:
        spec["die_cut"] = True
    return spec


SPEC_MAKERS = {"ENCL": _enclosure_spec, "HOSE": _hose_spec, "PACK": _packaging_spec}


# --- customers ---------------------------------------------------------------------------------------------
# (name, language, city)
CUSTOMER_NAMES = (
    ("Hengli Hydraulic Machinery Co., Ltd.", "zh-hans", "Changzhou"),
    ("Suzhou Ruixin Automation Equipment Co., Ltd.", "zh-hans", "Suzhou"),
    ("Ningbo Haitong Packaging Materials Co., Ltd.", "zh-hans", "Ningbo"),
    ("Shenzhen Jiahe Electric Co., Ltd.", "zh-hans", "Shenzhen"),
    ("Qingdao Beiyang Construction Machinery Co., Ltd.", "zh-hans", "Qingdao"),
    ("Wuxi Tianrun Power Systems Co., Ltd.", "zh-hans", "Wuxi"),
    ("Foshan Meida Home Appliances Co., Ltd.", "zh-hans", "Foshan"),
    ("Hangzhou Lianke Food Packaging Co., Ltd.", "zh-hans", "Hangzhou"),
    ("Chengdu Xinan Rail Equipment Co., Ltd.", "zh-hans", "Chengdu"),
    ("Tianjin Bohai Marine Engineering Co., Ltd.", "zh-hans", "Tianjin"),
    ("Xiamen Lvyuan Cosmetics Co., Ltd.", "zh-hans", "Xiamen"),
    ("Dongguan Kaixuan Electronics Co., Ltd.", "zh-hans", "Dongguan"),
    ("Nordwerk Anlagenbau GmbH", "en", "Bremen"),
    ("Kessler Fluidtechnik GmbH", "en", "Stuttgart"),
    ("Alpenland Schaltschrankbau AG", "en", "Innsbruck"),
    ("Rhein-Main Verpackung GmbH", "en", "Mainz"),
    ("Baltic Crane Systems AB", "en", "Gothenburg"),
    ("Vestas-Line Wind Services A/S", "en", "Aarhus"),
    ("Brightwater Foods Ltd", "en", "Leeds"),
    ("Midlands Agricultural Machinery Ltd", "en", "Derby"),
    ("Atlantic Offshore Hydraulics Ltd", "en", "Aberdeen"),
    ("Lumen Cosmetics S.A.", "en", "Lyon"),
    ("Bologna Macchine Automatiche S.p.A.", "en", "Bologna"),
    ("Iberia Solar Structures S.L.", "en", "Zaragoza"),
    ("Great Lakes Forestry Equipment Inc.", "en", "Duluth"),
    ("Pacific Coast Brewing Co.", "en", "Portland"),
    ("Carolina Power Distribution LLC", "en", "Charlotte"),
    ("Monterrey Equipos Industriales S.A. de C.V.", "en", "Monterrey"),
    ("Saigon Precision Industries JSC", "en", "Ho Chi Minh City"),
    ("Penang Medical Devices Sdn Bhd", "en", "Penang"),
    ("Osaka Kikai Seisakusho K.K.", "en", "Osaka"),
    ("Busan Shipyard Supply Co., Ltd.", "en", "Busan"),
    ("Chennai Tractors & Implements Pvt Ltd", "en", "Chennai"),
    ("Cape Mining Hydraulics (Pty) Ltd", "en", "Johannesburg"),
)
CONTACT_FIRST = ("Li", "Wang", "Zhang", "Anna", "Jonas", "Emma", "Lukas", "Sofia", "Marco", "Priya", "Kenji")
CONTACT_LAST = ("Chen", "Zhao", "Müller", "Becker", "Rossi", "Nilsson", "Smith", "Tanaka", "Kim", "Patel")
CONTACT_ROLES = ("Purchasing", "Project engineer", "Logistics", "Quality", "Plant manager")

PRIORITY_REASONS = (
    "Customer line-down: replacement parts needed urgently",
    "Trade-fair deadline agreed by the sales director",
    "Framework agreement with guaranteed lead time",
    "Customer agreed to a later slot in exchange for a discount",
    "Sample order: no production pressure",
)
REMARKS = (
    "Deliver to gate 3, call 30 minutes ahead.",
    "Partial deliveries accepted.",
    "Customer inspection before shipment.",
    "Labels in Chinese and English.",
    "Use customer's pallet standard (EPAL 1).",
    "Repeat order of last quarter, same drawings.",
    "Drawing revision C attached in CRM.",
)
HOLD_REASONS = (
    "Customer asked to pause: design change expected",
    "Credit limit exceeded, waiting for payment",
    "Material shortage: stainless sheet delayed",
)
CANCEL_REASONS = (
    "Customer cancelled the project",
    "Duplicate of an order entered in the CRM",
    "Price not accepted by the customer",
)

# Target status and its weight in the demo; the path of transitions to reach each status follows.
STATUS_WEIGHTS = {
    "draft": 10,
    "confirmed": 14,
    "released": 14,
    "in_production": 20,
    "completed": 8,
    "shipped": 8,
    "closed": 12,
    "on_hold": 6,
    "cancelled": 8,
}


@dataclass
class DemoSummary:
    customers: int
    families: int
    products: int
    orders: Counter
    extra: dict[str, int] = field(default_factory=dict)


def _actors() -> dict[str, Any]:
    User = get_user_model()
    return {user.username: user for user in User.objects.filter(username__in=[u[0] for u in DEMO_USERS])}


def _ensure_catalog(admin: Any) -> dict[str, list[Product]]:
    products: dict[str, list[Product]] = {}
    for code, name, description, schema, items in FAMILIES:
        family = ProductFamily.objects.filter(code=code).first() or catalog.product_family_create(
            actor=admin, code=code, name=name, description=description, spec_schema=schema
        )
        products[code] = []
        for sku, product_name, unit in items:
            product = Product.objects.filter(sku=sku).first() or catalog.product_create(
                actor=admin, sku=sku, name=product_name, family=family, unit=unit
            )
            products[code].append(product)
    return products


def _ensure_customers(rng: random.Random, admin: Any, count: int) -> list[Customer]:
    picked = rng.sample(CUSTOMER_NAMES, k=min(count, len(CUSTOMER_NAMES)))
    crm_numbers = rng.sample(range(10000, 99999), k=len(picked))
    # About one customer in eight is VIP and one in four is key, as in a typical B2B customer base.
    vip, key = max(1, len(picked) // 8), max(1, len(picked) // 4)
    tiers = [CustomerTier.VIP] * vip + [CustomerTier.KEY] * key + [CustomerTier.STANDARD] * len(picked)
    tiers = tiers[: len(picked)]
    rng.shuffle(tiers)
    customers = []
    for index, (name, language, city) in enumerate(picked, start=1):
        code = f"C{index:04d}"
        existing = Customer.objects.filter(code=code).first()
        domain = "".join(ch for ch in name.split()[0].lower() if ch.isalpha())
        with_contacts = rng.random() < 0.6
        contacts = [
            (
                f"{rng.choice(CONTACT_FIRST)} {rng.choice(CONTACT_LAST)}",
                rng.choice(CONTACT_ROLES),
                f"+{rng.randrange(10, 99)} {rng.randrange(100, 999)} {rng.randrange(1000000, 9999999)}",
            )
            for _ in range(rng.randint(1, 2) if with_contacts else 0)
        ]
        if existing is not None:
            customers.append(existing)
            continue
        customer = catalog.customer_create(
            actor=admin,
            code=code,
            name=name,
            tier=tiers[index - 1],
            crm_id=f"CRM-{crm_numbers[index - 1]}",
            email=f"orders@{domain}.example",
            phone=contacts[0][2] if contacts else "",
            address=city,
            language=language,
        )
        for position, (contact_name, role, phone) in enumerate(contacts):
            # Contacts have no service yet (they carry no business rule); stamp history like one would.
            contact = CustomerContact(
                customer=customer,
                name=contact_name,
                role=role,
                email=f"{contact_name.split()[0].lower()}@{domain}.example",
                phone=phone,
                is_primary=position == 0,
            )
            stamp(contact, actor=admin, reason="Demo data")
            contact.save()
        customers.append(customer)
    return customers


def _order_lines(
    rng: random.Random, products: dict[str, list[Product]], requested: dt.date
) -> list[sales.LineInput]:
    # A customer orders mostly from one family; a few orders mix two.
    families = [rng.choice(list(products))]
    if rng.random() < 0.15:
        families.append(rng.choice(list(products)))
    lines: list[sales.LineInput] = []
    for _ in range(rng.choices([1, 2, 3, 4], weights=[45, 30, 15, 10])[0]):
        code = rng.choice(families)
        low, high = QUANTITIES[code]
        quantity = rng.randint(low, high)
        if code == "PACK":
            quantity = round(quantity, -3)
        line: sales.LineInput = {
            "product": rng.choice(products[code]),
            "quantity": Decimal(quantity),
            "spec_values": SPEC_MAKERS[code](rng),
        }
        if rng.random() < 0.2:
            line["due_date"] = requested + dt.timedelta(days=rng.randint(0, 10))
        lines.append(line)
    return lines


def _create_order(
    rng: random.Random, *, index: int, customer: Customer, owner: Any, products: dict, timeline: Timeline
) -> SalesOrder:
    priority, priority_reason = None, ""
    if rng.random() < 0.1:
        priority = rng.choice([p for p in Priority.values if p != customer.default_priority])
        priority_reason = rng.choice(PRIORITY_REASONS)
    return sales.order_create(
        actor=owner,
        customer=customer,
        lines=_order_lines(rng, products, timeline.requested),
        customer_po=f"PO-{rng.randrange(4500000000, 4599999999)}" if rng.random() < 0.8 else "",
        crm_id=f"CRM-SO-{60000 + index}" if customer.crm_id and rng.random() < 0.7 else "",
        requested_date=timeline.requested,
        promised_date=timeline.promised,
        priority=priority,
        priority_reason=priority_reason,
        remarks=rng.choice(REMARKS) if rng.random() < 0.3 else "",
        reason="Demo data",
    )


# --- the timeline ------------------------------------------------------------------------------------------
# One shipped order in seven (~15%) leaves after its promised date.
LATE_EVERY = 7
# How far back the plant's history goes: the catalog, customers and master data are created then.
HISTORY_DAYS = 130


@contextmanager
def at(moment: dt.datetime) -> Iterator[None]:
    """Run the block at `moment`: auto_now fields, history dates and timezone.now() all agree on it."""
    # A UTC destination: time-machine would also mock the process's time zone for a ZoneInfo one.
    with time_machine.travel(moment.astimezone(dt.UTC), tick=False):
        yield


@dataclass
class Timeline:
    """When one order's steps happen. Every moment lies before `now`; each step after the one before."""

    status: str
    created: dt.datetime
    requested: dt.date
    promised: dt.date | None
    steps: list[tuple[str, dt.datetime]] = field(default_factory=list)
    # Production from start to end; progress is reported until `until` (now, or when the order was held).
    production: tuple[dt.datetime, dt.datetime, dt.datetime] | None = None


def _days(rng: random.Random, low: float, high: float) -> dt.timedelta:
    return dt.timedelta(days=rng.uniform(low, high))


def _working_hour(rng: random.Random, day: dt.date) -> dt.datetime:
    """A moment in office hours (07:30-17:30 plant time) on `day`."""
    minutes = rng.randrange(7 * 60 + 30, 17 * 60 + 30)
    zone = timezone.get_default_timezone()
    return dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), tzinfo=zone)


def _open_dates(
    rng: random.Random, today: dt.date, *, draft: bool, in_plant: bool
) -> tuple[dt.date, dt.date | None]:
    """An order still open today: its dates lie ahead, for some orders in the plant only just."""
    if in_plant and rng.random() < 0.25:
        soon = today + dt.timedelta(days=rng.randint(1, 4))
        return soon, soon
    requested = today + dt.timedelta(days=rng.randint(5, 60))
    promised: dt.date | None = None
    if not draft or rng.random() < 0.5:
        promised = requested + dt.timedelta(days=rng.choice([0, 0, 0, 3, 7, 14]))
    return requested, promised


def _before(rng: random.Random, moment: dt.datetime, low: float, high: float) -> dt.datetime:
    return moment - _days(rng, low, high)


def _timeline(rng: random.Random, status: str, now: dt.datetime, *, late: bool = False) -> Timeline:
    """Plan one order backwards from now (or from its shipment) so that today it is in `status`; a `late`
    shipped order leaves after its promised date."""
    today = timezone.localdate(now)
    if status in ("shipped", "closed"):
        ship = now - (_days(rng, 0.3, 7) if status == "shipped" else _days(rng, 9, 85))
        ship_day = timezone.localdate(ship)
        promise = ship_day + dt.timedelta(days=-rng.randint(1, 8) if late else rng.randint(0, 4))
        requested = promise - dt.timedelta(days=rng.choice([0, 0, 0, 3, 7]))
        created = _working_hour(rng, promise - dt.timedelta(days=rng.randint(18, 40)))
        confirm = created + _days(rng, 0.02, 2)
        release = confirm + _days(rng, 1, 5)
        complete = ship - _days(rng, 0.3, 2)
        start = release + _days(rng, 0.3, 2)
        if start > complete - dt.timedelta(days=1):
            start = release + (complete - release) / 4
        steps = [("confirm", confirm), ("release", release), ("produce", start), ("ship", ship)]
        if status == "closed":
            steps.append(("close", ship + _days(rng, 1, 6)))
        return Timeline(status, created, requested, promise, steps, (start, complete, complete))

    base = status
    if status == "on_hold":
        base = rng.choice(["confirmed", "released", "in_production"])
    elif status == "cancelled":
        base = rng.choice(["draft", "confirmed", "confirmed", "released"])
    in_plant = base in ("released", "in_production", "completed")
    requested, promised = _open_dates(rng, today, draft=base == "draft", in_plant=in_plant)
    production = None
    if base == "draft":
        created = _before(rng, now, 0.05, 6)
        steps = []
    elif base == "confirmed":
        confirm = _before(rng, now, 0.05, 4)
        created = _before(rng, confirm, 0.02, 2)
        steps = [("confirm", confirm)]
    else:
        if base == "released":
            release = _before(rng, now, 0.05, 3)
        elif base == "completed":
            complete = _before(rng, now, 0.1, 3)
            release = _before(rng, complete, 4, 12)
        else:  # in production: started, the end still ahead
            release = _before(rng, now, 2, 12)
        confirm = _before(rng, release, 1, 5)
        created = _before(rng, confirm, 0.02, 2)
        steps = [("confirm", confirm), ("release", release)]
        if base == "completed":
            start = release + (complete - release) * rng.uniform(0.05, 0.3)
            production = (start, complete, complete)
            steps.append(("produce", start))
        elif base == "in_production":
            start = release + (now - release) * rng.uniform(0.1, 0.4)
            production = (start, now + _days(rng, 1, 10), now)
            steps.append(("produce", start))
    if status in ("on_hold", "cancelled"):
        last = steps[-1][1] if steps else created
        if production is not None:
            last = max(last, production[0] + (now - production[0]) * 0.2)
        stop = last + (now - last) * rng.uniform(0.3, 0.9)
        steps.append(("hold" if status == "on_hold" else "cancel", stop))
        if production is not None:
            production = (production[0], production[1], stop)
    return Timeline(status, created, requested, promised, steps, production)


# --- hooks of higher apps -----------------------------------------------------------------------------------
@dataclass
class DemoContext:
    """What a hook gets: the demo users by username, the catalog by family code, its own seeded random
    generator, the real now, and when the demo's history starts."""

    actors: dict[str, Any]
    products: dict[str, list[Product]]
    rng: random.Random
    now: dt.datetime
    start: dt.datetime
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoHooks:
    """Steps a higher app adds to the demo (orders never imports it; it registers in AppConfig.ready).

    after_catalog(ctx): master data, run at ctx.start.
    produce(ctx, order, start, end, until): make a released order between start and end, reporting only
        what happened before `until`; the app's own services move the order on (in production, completed).
    after_orders(ctx): what follows the orders (exceptions, a plan), run at the real now.
    Hooks may add figures to ctx.counts: the command prints them.
    """

    after_catalog: Callable[[DemoContext], None] | None = None
    produce: Callable[..., None] | None = None
    after_orders: Callable[[DemoContext], None] | None = None


_hooks: dict[str, DemoHooks] = {}


def register(name: str, hooks: DemoHooks) -> None:
    """Add (or replace) the demo steps of app `name`; they run in the order of registration."""
    _hooks[name] = hooks


def _run_hooks(kind: str, ctx: DemoContext, **kwargs: Any) -> None:
    for hooks in _hooks.values():
        hook = getattr(hooks, kind)
        if hook is not None:
            hook(ctx, **kwargs)


# Who does each step in the plant: sales confirm and close, planning releases, shipping is the production
# manager's.
DOERS = {"confirm": "owner", "release": "planner", "ship": "manager", "close": "owner"}


def _produce(ctx: DemoContext, order: SalesOrder, timeline: Timeline) -> SalesOrder:
    assert timeline.production is not None  # a timeline with a "produce" step plans its production
    start, end, until = timeline.production
    _run_hooks("produce", ctx, order=order, start=start, end=end, until=until)
    order = SalesOrder.objects.get(pk=order.pk)
    # Without a production app (or when it could not report), no work order moves the order: the production
    # manager records the steps by hand, an override with its reason (orders.sales.overrides).
    manager = ctx.actors["manager"]
    reason = "Demo data: made outside the hub"
    if order.status == OrderStatus.RELEASED and start < until:
        with at(start):
            order = sales.order_start_production(actor=manager, order=order, reason=reason, override=True)
    if order.status == OrderStatus.IN_PRODUCTION and end <= until:
        with at(end):
            order = sales.order_complete(actor=manager, order=order, reason=reason, override=True)
    return order


def _step(
    ctx: DemoContext, order: SalesOrder, name: str, moment: dt.datetime, rng: random.Random
) -> SalesOrder:
    owner, planner, manager = order.owner, ctx.actors["planner"], ctx.actors["manager"]
    with at(moment):
        if name == "hold":
            # Sales may hold an order the plant has not been given yet; after release only the plant may.
            actor = rng.choice([owner, planner]) if order.is_editable else planner
            return sales.order_hold(actor=actor, order=order, reason=rng.choice(HOLD_REASONS))
        if name == "cancel":
            # Once the plant has the order, only the production manager may cancel it.
            actor = owner if order.is_editable else manager
            return sales.order_cancel(actor=actor, order=order, reason=rng.choice(CANCEL_REASONS))
        doer = {"owner": owner, "planner": planner, "manager": manager}[DOERS[name]]
        return sales.order_transition(actor=doer, order=order, name=name)


@transaction.atomic
def load_demo_data(*, seed: int, orders: int, customers: int = 30) -> DemoSummary:
    """Load the catalog, customers and `orders` orders entered over the last months, each moved through its
    statuses at its own moments. Call only on a database without orders."""
    rng = random.Random(seed)  # noqa: S311 (repeatable demo data, nothing secret)
    now = timezone.now()
    start = _working_hour(rng, timezone.localdate(now) - dt.timedelta(days=HISTORY_DAYS))
    actors = _actors()
    admin = actors["admin"]
    with at(start):
        products = _ensure_catalog(admin)
        customer_list = _ensure_customers(rng, admin, customers)
    # Higher apps get their own generator: adding a step there does not change the orders here.
    hook_rng = random.Random(f"{seed}-hooks")  # noqa: S311
    ctx = DemoContext(actors=actors, products=products, rng=hook_rng, now=now, start=start)
    with at(start + dt.timedelta(hours=1)):
        _run_hooks("after_catalog", ctx)
    # A few customers stopped ordering: they keep their history but are inactive (set once orders exist).
    inactive = set(rng.sample(range(len(customer_list)), k=max(1, len(customer_list) // 10)))
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    sellers = [actors["sales"], actors["sales2"]]
    active = [customer for customer in customer_list if customer.is_active]
    plans = []
    shipped = 0
    for _ in range(orders):
        status = rng.choices(statuses, weights=weights)[0]
        # Every LATE_EVERY-th shipped order is late: the share holds for small demos too.
        late = status in ("shipped", "closed") and shipped % LATE_EVERY == LATE_EVERY // 2
        shipped += status in ("shipped", "closed")
        plans.append((_timeline(rng, status, now, late=late), rng.choice(active), rng.choice(sellers)))
    # Orders are entered in the order of their dates, so their numbers follow the calendar.
    plans.sort(key=lambda plan: plan[0].created)
    counts: Counter = Counter()
    for index, (timeline, customer, owner) in enumerate(plans):
        with at(timeline.created):
            order = _create_order(
                rng, index=index, customer=customer, owner=owner, products=products, timeline=timeline
            )
        for name, moment in timeline.steps:
            if name == "produce":
                order = _produce(ctx, order, timeline)
            else:
                order = _step(ctx, order, name, moment, rng)
        counts[order.status] += 1
    for position in sorted(inactive):
        customer = customer_list[position]
        if customer.is_active:
            catalog.customer_update(
                actor=admin, customer=customer, is_active=False, reason="Customer no longer orders"
            )
    _run_hooks("after_orders", ctx)
    ctx.counts.update(_demo_change_requests(rng, actors))
    return DemoSummary(
        customers=len(customer_list),
        families=len(products),
        products=sum(len(items) for items in products.values()),
        orders=counts,
        extra=dict(ctx.counts),
    )


# --- change requests ----------------------------------------------------------------------------------------
CHANGE_REASONS = {
    "later": "Customer's project moved: they need the delivery a week later",
    "more": "Customer increased the call-off after their own order came in",
    "fewer": "Customer reduced the quantity: one site was cancelled",
}


def _demo_change_requests(rng: random.Random, actors: dict[str, Any]) -> dict[str, int]:
    """A few change requests on orders the plant holds, at today's date and against today's plan: two waiting
    in the approvers' inbox, one approved and applied, one rejected. Made through the change-request
    services (impact analysis, approval matrix, apply) like any other."""
    candidates = list(
        SalesOrder.objects.filter(status__in=[OrderStatus.RELEASED, OrderStatus.IN_PRODUCTION])
        .select_related("owner")
        .order_by("number")
    )
    rng.shuffle(candidates)
    planner, manager = actors["planner"], actors["manager"]
    made: Counter = Counter()
    plans = ["later", "more", "later", "fewer"]
    for plan, order in zip(plans, candidates, strict=False):
        line = order.lines.order_by("line_no").first()
        changes: list[dict[str, Any]]
        if plan == "later":
            requested = order.requested_date or timezone.localdate()
            changes = [
                {
                    "op": "set_date",
                    "field": "requested_date",
                    "value": (requested + dt.timedelta(days=7)).isoformat(),
                }
            ]
        else:
            assert line is not None  # an order in the plant has lines
            step = max(Decimal("1"), (line.quantity * Decimal("0.2")).quantize(Decimal("1")))
            quantity = line.quantity + step if plan == "more" else max(Decimal("1"), line.quantity - step)
            changes = [{"op": "set_quantity", "line_no": line.line_no, "quantity": str(quantity)}]
        try:
            cr = change_requests.change_request_create(
                actor=order.owner,
                order=order,
                base_revision=order.revision,
                reason=CHANGE_REASONS[plan],
                changes=changes,
                submit=True,
            )
            if made["submitted"] < 2 and plan in ("later", "more") and not made.get(f"kept_{plan}"):
                made[f"kept_{plan}"] = 1
                made["submitted"] += 1
                continue
            if plan == "fewer":
                change_requests.change_request_reject(
                    actor=planner,
                    change_request=cr,
                    comment="Material is already cut for this quantity; please keep the order as it is.",
                )
                made["rejected"] += 1
                continue
            cr = change_requests.change_request_approve(
                actor=planner, change_request=cr, comment="Capacity checked"
            )
            if cr.status == "submitted":  # the matrix asks for the production manager too
                cr = change_requests.change_request_approve(
                    actor=manager, change_request=cr, comment="Agreed with the customer"
                )
            change_requests.change_request_apply(actor=planner, change_request=cr)
            made["applied"] += 1
        except ApplicationError:
            # The demo's orders are random: a change the rules refuse for one order is simply left out.
            made["refused"] += 1
    return {
        "change requests waiting": made["submitted"],
        "change requests applied": made["applied"],
        "change requests rejected": made["rejected"],
    }
