"""Production's part of `manage.py setup_demo`: master data, the shop floor's history and a current plan.

Registered with orders.demo in ProductionConfig.ready (orders never imports production). Everything goes
through production's services at its simulated moment (orders.demo.at): work centers with shifts and
holidays, a routing per demo product, then per released order the MES's story — work orders released,
progress reported operation by operation (a little scrap and rework), lots and inspections — whose
roll-up moves the order to in production and completed. At the end: a few production exceptions and one
schedule run, so the planner page and the delivery-date quote have a current plan.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from django.db.models import Q

from orders.demo import DemoContext, DemoHooks, at, register
from orders.models import SalesOrder
from production import work_orders
from production.floor import floor_demo
from production.master_data import (
    Routing,
    WorkCenter,
    calendar_exception_create,
    routing_create,
    work_center_create,
)
from production.scheduling import schedule_run
from production.work_orders import (
    ExceptionKind,
    InspectionResult,
    OperationStatus,
    Severity,
    WorkOrder,
    WorkOrderOperation,
    WorkOrderStatus,
)

T = dt.time
MON_FRI = range(5)
EARLY, LATE = (T(6), T(14)), (T(14), T(22))
SATURDAY = (5, T(6), T(12))


def _two_shifts(saturday: bool = False) -> list[tuple[int, dt.time, dt.time]]:
    shifts = [(day, *shift) for day in MON_FRI for shift in (EARLY, LATE)]
    return shifts + ([SATURDAY] if saturday else [])


def _day_shift() -> list[tuple[int, dt.time, dt.time]]:
    return [(day, T(7), T(16)) for day in MON_FRI]


# (code, name, units, efficiency, shifts)
WORK_CENTERS = (
    ("LASER", "Fibre laser cutting", 2, "0.95", _two_shifts(saturday=True)),
    ("BEND", "Press-brake bending", 3, "0.90", _two_shifts()),
    ("WELD", "MIG/TIG welding", 3, "0.85", _two_shifts()),
    ("COAT", "Powder-coating line", 1, "0.90", _two_shifts(saturday=True)),
    ("ASSY", "Cabinet assembly", 3, "0.95", _day_shift()),
    ("HCUT", "Hose cutting and skiving", 1, "1.00", _two_shifts()),
    ("CRIMP", "Hose crimping", 2, "0.95", _two_shifts()),
    ("PTEST", "Hydrostatic pressure test", 1, "0.90", _two_shifts()),
    ("PRINT", "Offset printing press", 1, "0.85", _two_shifts(saturday=True)),
    ("DIE", "Die cutting", 2, "0.90", _two_shifts()),
    ("GLUE", "Folder-gluer", 1, "0.90", _two_shifts()),
    ("PACK", "Packing and dispatch", 2, "1.00", _day_shift()),
)

# Chinese names of the demo's operations (shown on Chinese pages; migration 0011 fills older databases).
OPERATION_NAMES_ZH = {
    "Assemble cabinet": "机柜装配",
    "Assemble console": "操作台装配",
    "Bend body and door": "柜体及柜门折弯",
    "Bend box": "箱体折弯",
    "Bend door": "柜门折弯",
    "Bend panels": "面板折弯",
    "Bundle and palletise": "打捆并码托",
    "Crimp fittings": "接头扣压",
    "Crimp fittings, set elbow angle": "接头扣压并定弯头角度",
    "Crimp flange fittings": "法兰接头扣压",
    "Cut and skive": "切管及剥胶",
    "Cut blanks": "下料切割",
    "Cut desk and pedestal": "台面及底座切割",
    "Cut door and gland plate": "柜门及密封板切割",
    "Cut frame and panels": "框架及面板切割",
    "Cut kit hoses": "套件软管切割",
    "Cut sleeves": "保护套切割",
    "Cut to length": "定长切割",
    "Die cut": "模切",
    "Die cut inserts": "内衬模切",
    "Fit door, seal and lock": "安装柜门、密封条及门锁",
    "Flexo print": "柔版印刷",
    "Fold and glue": "折叠糊盒",
    "Glue joint": "糊边",
    "Glue trays": "托盘糊盒",
    "Kit and label": "配套并贴标",
    "Pack": "包装",
    "Palletise": "码托",
    "Powder coat": "粉末喷涂",
    "Pressure test": "压力测试",
    "Pressure test with certificate": "压力测试并出具证书",
    "Print sheets": "印刷纸张",
    "Slot and cut": "开槽切割",
    "Weld corners": "焊接边角",
    "Weld frame": "焊接框架",
    "Weld pedestal": "焊接底座",
}

# SKU → (lot size or None, [(work center, operation, setup minutes, run minutes per unit), ...])
ROUTINGS: dict[str, tuple[int | None, list[tuple[str, str, int, str]]]] = {
    "ENCL-WM-400": (
        None,
        [
            ("LASER", "Cut blanks", 20, "4"),
            ("BEND", "Bend body and door", 15, "6"),
            ("WELD", "Weld corners", 10, "12"),
            ("COAT", "Powder coat", 30, "5"),
            ("ASSY", "Fit door, seal and lock", 10, "15"),
        ],
    ),
    "ENCL-WM-600": (
        None,
        [
            ("LASER", "Cut blanks", 20, "6"),
            ("BEND", "Bend body and door", 15, "8"),
            ("WELD", "Weld corners", 10, "18"),
            ("COAT", "Powder coat", 30, "7"),
            ("ASSY", "Fit door, seal and lock", 10, "20"),
        ],
    ),
    "ENCL-FS-1800": (
        20,
        [
            ("LASER", "Cut frame and panels", 25, "12"),
            ("BEND", "Bend panels", 20, "15"),
            ("WELD", "Weld frame", 15, "45"),
            ("COAT", "Powder coat", 30, "15"),
            ("ASSY", "Assemble cabinet", 20, "60"),
        ],
    ),
    "ENCL-TB-160": (
        None,
        [
            ("LASER", "Cut blanks", 15, "1.5"),
            ("BEND", "Bend box", 10, "2"),
            ("COAT", "Powder coat", 30, "1"),
            ("PACK", "Pack", 10, "0.5"),
        ],
    ),
    "ENCL-CON-1200": (
        None,
        [
            ("LASER", "Cut desk and pedestal", 25, "10"),
            ("BEND", "Bend panels", 20, "12"),
            ("WELD", "Weld pedestal", 15, "35"),
            ("COAT", "Powder coat", 30, "12"),
            ("ASSY", "Assemble console", 20, "50"),
        ],
    ),
    "ENCL-DR-KIT": (
        None,
        [
            ("LASER", "Cut door and gland plate", 15, "3"),
            ("BEND", "Bend door", 10, "4"),
            ("COAT", "Powder coat", 30, "3"),
        ],
    ),
    "HOSE-1SN-A": (
        None,
        [
            ("HCUT", "Cut to length", 10, "0.5"),
            ("CRIMP", "Crimp fittings", 15, "1.2"),
            ("PACK", "Pack", 5, "0.2"),
        ],
    ),
    "HOSE-2SN-A": (
        250,
        [
            ("HCUT", "Cut to length", 10, "0.6"),
            ("CRIMP", "Crimp fittings", 20, "1.5"),
            ("PTEST", "Pressure test", 15, "1"),
            ("PACK", "Pack", 5, "0.2"),
        ],
    ),
    "HOSE-2SN-E90": (
        None,
        [
            ("HCUT", "Cut to length", 10, "0.6"),
            ("CRIMP", "Crimp fittings, set elbow angle", 25, "2"),
            ("PTEST", "Pressure test", 15, "1"),
            ("PACK", "Pack", 5, "0.2"),
        ],
    ),
    "HOSE-4SP-A": (
        None,
        [
            ("HCUT", "Cut and skive", 15, "1"),
            ("CRIMP", "Crimp fittings", 25, "2"),
            ("PTEST", "Pressure test", 15, "1.5"),
            ("PACK", "Pack", 5, "0.2"),
        ],
    ),
    "HOSE-4SH-F": (
        None,
        [
            ("HCUT", "Cut and skive", 15, "1.2"),
            ("CRIMP", "Crimp flange fittings", 30, "2.5"),
            ("PTEST", "Pressure test", 15, "1.5"),
            ("PACK", "Pack", 5, "0.3"),
        ],
    ),
    "HOSE-R13-KIT": (
        None,
        [
            ("HCUT", "Cut kit hoses", 15, "2"),
            ("CRIMP", "Crimp fittings", 30, "4"),
            ("PTEST", "Pressure test", 15, "3"),
            ("PACK", "Kit and label", 10, "1"),
        ],
    ),
    "HOSE-TEST-CERT": (
        None,
        [
            ("HCUT", "Cut to length", 10, "0.6"),
            ("CRIMP", "Crimp fittings", 20, "1.5"),
            ("PTEST", "Pressure test with certificate", 20, "3"),
        ],
    ),
    "PACK-FC-S": (
        30000,
        [
            ("PRINT", "Print sheets", 60, "0.004"),
            ("DIE", "Die cut", 40, "0.003"),
            ("GLUE", "Fold and glue", 30, "0.002"),
            ("PACK", "Bundle and palletise", 15, "0.001"),
        ],
    ),
    "PACK-FC-L": (
        None,
        [
            ("PRINT", "Print sheets", 60, "0.006"),
            ("DIE", "Die cut", 40, "0.004"),
            ("GLUE", "Fold and glue", 30, "0.003"),
            ("PACK", "Bundle and palletise", 15, "0.001"),
        ],
    ),
    "PACK-SLV": (
        None,
        [
            ("PRINT", "Print sheets", 45, "0.003"),
            ("DIE", "Cut sleeves", 30, "0.002"),
            ("PACK", "Pack", 10, "0.001"),
        ],
    ),
    "PACK-RSC-40": (
        None,
        [
            ("PRINT", "Flexo print", 40, "0.004"),
            ("DIE", "Slot and cut", 30, "0.003"),
            ("GLUE", "Glue joint", 20, "0.002"),
            ("PACK", "Palletise", 15, "0.001"),
        ],
    ),
    "PACK-DISP": (
        None,
        [
            ("PRINT", "Print sheets", 60, "0.006"),
            ("DIE", "Die cut", 45, "0.005"),
            ("GLUE", "Glue trays", 30, "0.004"),
            ("PACK", "Pack", 15, "0.002"),
        ],
    ),
    "PACK-INS": (None, [("DIE", "Die cut inserts", 40, "0.002"), ("PACK", "Pack", 10, "0.001")]),
}

DEFECT_CODES = {
    "ENCL": (("WLD-POR", "Weld porosity"), ("PC-THK", "Coating too thin"), ("DIM-TOL", "Out of tolerance")),
    "HOSE": (("CRP-DIA", "Crimp diameter off"), ("LEAK", "Leak at test pressure"), ("LEN-TOL", "Length")),
    "PACK": (("REG-OFF", "Print registration"), ("COL-DEV", "Colour deviation"), ("GLUE-OPN", "Open glue")),
}
OPERATORS = ("Li Wei", "Jonas Berg", "Ana Costa", "Zhang Min", "Tomasz Nowak", "Emma Roth", "Wang Fang")


# --- master data ---------------------------------------------------------------------------------------
def master_data(ctx: DemoContext) -> None:
    """Work centers, holidays and a routing per product; what exists already is left alone."""
    planner = ctx.actors["planner"]
    centers = {center.code: center for center in WorkCenter.objects.all()}
    for code, name, units, efficiency, shifts in WORK_CENTERS:
        if code not in centers:
            centers[code] = work_center_create(
                actor=planner, code=code, name=name, units=units, efficiency=efficiency, shifts=shifts
            )
    today = ctx.now.date()
    year = today.year if today.month < 12 or today.day < 24 else today.year + 1
    for day, description in (
        (dt.date(year, 12, 24), "Christmas Eve"),
        (dt.date(year, 12, 25), "Christmas Day"),
        (dt.date(year, 12, 26), "Boxing Day"),
        (dt.date(year + 1, 1, 1), "New Year's Day"),
    ):
        calendar_exception_create(actor=planner, date=day, description=description)
    calendar_exception_create(
        actor=planner,
        date=today + dt.timedelta(days=9),
        work_center=centers["COAT"],
        description="Oven maintenance",
    )
    saturday = today + dt.timedelta(days=(5 - today.weekday()) % 7 or 7)
    calendar_exception_create(
        actor=planner,
        date=saturday,
        work_center=centers["PRINT"],
        start=T(12),
        end=T(18),
        is_working=True,
        description="Extra Saturday shift",
    )
    with_routing = set(Routing.objects.values_list("product__sku", flat=True))
    for products in ctx.products.values():
        for product in products:
            if product.sku in with_routing or product.sku not in ROUTINGS:
                continue
            lot_size, operations = ROUTINGS[product.sku]
            routing_create(
                actor=planner,
                product=product,
                lot_size=lot_size,
                operations=[
                    {
                        "sequence": (index + 1) * 10,
                        "name": name,
                        "name_zh": OPERATION_NAMES_ZH.get(name, ""),
                        "work_center": centers[center],
                        "setup_minutes": setup,
                        "run_minutes_per_unit": run,
                    }
                    for index, (center, name, setup, run) in enumerate(operations)
                ],
            )
    ctx.counts["work centers"] = WorkCenter.objects.count()
    ctx.counts["routings"] = Routing.objects.count()


# --- the shop floor ------------------------------------------------------------------------------------
def _whole(quantity: Decimal) -> Decimal:
    return Decimal(math.floor(quantity))


def _losses(rng, quantity: Decimal) -> tuple[Decimal, Decimal]:
    """Scrap and rework of one operation: none mostly, a few percent sometimes."""
    scrap = rework = Decimal(0)
    if rng.random() < 0.15:
        scrap = _whole(quantity * Decimal(str(rng.uniform(0.005, 0.04))))
    if rng.random() < 0.1:
        rework = _whole(quantity * Decimal(str(rng.uniform(0.005, 0.03))))
    return scrap, rework


def produce(ctx: DemoContext, *, order: SalesOrder, start: dt.datetime, end: dt.datetime, until: dt.datetime):
    """The MES's story of one released order: each work order released at `start`, its operations one
    after another until `end`, reported as they finish; what lies after `until` is not reported yet."""
    rng, planner = ctx.rng, ctx.actors["planner"]
    made = list(
        WorkOrder.objects.filter(order=order, order_revision=order.revision, routing_missing=False)
        .select_related("product__family")
        .order_by("number")
    )
    with at(start):
        for work_order in made:
            work_orders.work_order_transition(actor=planner, work_order=work_order, name="release")
    span = end - start
    for work_order in made:
        # Work orders of one order run partly side by side; the last one ends at `end`.
        first = start + span * rng.uniform(0.02, 0.3)
        last = end if work_order is made[-1] else end - span * rng.uniform(0, 0.15)
        _report(ctx, work_order, first, last, until)


def _report(ctx: DemoContext, work_order: WorkOrder, first: dt.datetime, last: dt.datetime, until) -> None:
    rng, planner = ctx.rng, ctx.actors["planner"]
    operations = list(work_order.operations.order_by("sequence"))
    slot = (last - first) / len(operations)
    quantity = work_order.quantity
    for index, operation in enumerate(operations):
        begin = first + slot * index
        # The last operation ends at `last` exactly: timedelta arithmetic rounds to microseconds.
        finish = last if index == len(operations) - 1 else first + slot * (index + 1)
        if begin >= until:
            return
        operator = rng.choice(OPERATORS)
        message = f"DEMO-{work_order.number}-{operation.sequence}"
        if finish > until:
            # Under way now: part of the quantity is reported, if a unit of the work center is free (the
            # plan keeps started operations where they are, so more of them than units would overbook it).
            done = _whole(quantity * Decimal(str((until - begin) / slot)))
            if done > 0 and _free_unit(operation):
                moment = begin + (until - begin) * 0.9
                with at(moment):
                    work_orders.progress_report_create(
                        actor=planner,
                        operation=operation,
                        message_id=f"{message}-1",
                        good_quantity=done,
                        operator=operator,
                        reported_at=moment,
                        started_at=begin,
                    )
                ctx.counts["progress reports"] = ctx.counts.get("progress reports", 0) + 1
            return
        scrap, rework = _losses(rng, quantity)
        good = quantity - scrap - rework
        with at(finish):
            work_orders.progress_report_create(
                actor=planner,
                operation=operation,
                message_id=f"{message}-1",
                good_quantity=good,
                scrap_quantity=scrap,
                rework_quantity=rework,
                operator=operator,
                reported_at=finish,
                operation_finished=True,
                started_at=begin,
            )
        ctx.counts["progress reports"] = ctx.counts.get("progress reports", 0) + 1
        quantity = good
    _lot(ctx, work_order, last, until)


def _free_unit(operation: WorkOrderOperation) -> bool:
    under_way = WorkOrderOperation.objects.filter(
        work_center_id=operation.work_center_id, status=OperationStatus.STARTED
    ).count()
    return under_way < operation.work_center.units


def _lot(ctx: DemoContext, work_order: WorkOrder, finished: dt.datetime, until: dt.datetime) -> None:
    rng, planner = ctx.rng, ctx.actors["planner"]
    # The status field is protected: read the work order again instead of refreshing it.
    work_order = WorkOrder.objects.select_related("product__family").get(pk=work_order.pk)
    if work_order.status != WorkOrderStatus.COMPLETED or work_order.good_quantity <= 0:
        return
    with at(finished):
        lot = work_orders.lot_create(
            actor=planner,
            work_order=work_order,
            number=f"LOT-{work_order.number}",
            quantity=work_order.good_quantity,
            produced_at=finished,
        )
    draw = rng.random()
    result, defect, notes = InspectionResult.PASS, "", ""
    if draw > 0.9:
        result = InspectionResult.FAIL if draw > 0.97 else InspectionResult.REWORK
        defect, notes = rng.choice(DEFECT_CODES[work_order.product.family.code])
    with at(min(until, finished + dt.timedelta(minutes=rng.randint(10, 90)))):
        work_orders.inspection_record(actor=planner, lot=lot, result=result, defect_code=defect, notes=notes)
    ctx.counts["lots"] = ctx.counts.get("lots", 0) + 1


# --- exceptions and the plan ---------------------------------------------------------------------------
# (kind, severity, work center or None for a work order under way, description, delay minutes,
#  raised days ago, resolved after hours or None while open)
EXCEPTIONS = (
    (ExceptionKind.MACHINE_BREAKDOWN, Severity.HIGH, "LASER", "Cutting head collision", 240, 40, 6),
    (ExceptionKind.MATERIAL_SHORTAGE, Severity.MEDIUM, None, "Stainless sheet 1.5 mm late", 0, 21, 30),
    (ExceptionKind.QUALITY_HOLD, Severity.MEDIUM, None, "Coating thickness below spec", 0, 9, 20),
    (ExceptionKind.MACHINE_BREAKDOWN, Severity.CRITICAL, "COAT", "Curing oven burner fault", 480, 0.1, None),
    (ExceptionKind.MATERIAL_SHORTAGE, Severity.HIGH, None, "DKOS fittings not delivered", 2880, 1, None),
    (ExceptionKind.QUALITY_HOLD, Severity.LOW, None, "Colour deviation on first sheets", 240, 0.5, None),
)


def exceptions_and_plan(ctx: DemoContext) -> None:
    floor_demo(ctx)  # the plant, reason codes and operators (production.floor)
    rng, planner, manager = ctx.rng, ctx.actors["planner"], ctx.actors["manager"]
    centers = {center.code: center for center in WorkCenter.objects.all()}
    for kind, severity, center, description, delay, days_ago, resolved_after in EXCEPTIONS:
        raised = ctx.now - dt.timedelta(days=days_ago)
        work_order = None
        if center is None:
            # A work order that was on the shop floor at that moment (and still is, for an open one).
            on_floor = WorkOrder.objects.filter(released_at__lte=raised).filter(
                Q(completed_at__isnull=True) | Q(completed_at__gt=raised)
            )
            if resolved_after is None:
                on_floor = on_floor.filter(status=WorkOrderStatus.IN_PROGRESS)
            else:
                on_floor = on_floor.exclude(status=WorkOrderStatus.CANCELLED)
            candidates = list(on_floor.order_by("number").values_list("pk", flat=True))
            if not candidates:
                continue
            work_order = WorkOrder.objects.get(pk=rng.choice(candidates))
        with at(raised):
            exception = work_orders.exception_raise(
                actor=planner,
                kind=kind,
                severity=severity,
                work_center=centers.get(center) if center else None,
                work_order=work_order,
                description=description,
                expected_delay_minutes=delay,
                raised_at=raised,
            )
        if resolved_after is not None:
            with at(raised + dt.timedelta(hours=resolved_after)):
                work_orders.exception_resolve(
                    actor=manager, exception=exception, resolution="Fixed; work resumed"
                )
    schedule = schedule_run(actor=planner, trigger="Demo data loaded", method="fast")
    ctx.counts["work orders"] = WorkOrder.objects.count()
    ctx.counts["orders at risk"] = schedule.late_orders
    ctx.counts["schedule version"] = schedule.version


def register_demo() -> None:
    register(
        "production", DemoHooks(after_catalog=master_data, produce=produce, after_orders=exceptions_and_plan)
    )
