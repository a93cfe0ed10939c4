"""The material side of the delivery-date quote: when each quote line's material is there, what binds it,
and the quote's hold (a reservation with an expiry) so that two sales people cannot promise the same units.

Every line's BOM is exploded over all levels; each component is checked against its item's time line
(stock on hand, open purchase orders by expected date, active reservations and holds when needed) for the
line's quantity, lines in order sharing the material. With a hold, the items' time lines are read and the
holds written under one PostgreSQL advisory lock per item, taken in item order (no deadlock between two
quotes): a second quote waits for the first to commit and then counts its holds, so concurrent quotes never
promise the same units twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from production.supply_planning import sources
from production.supply_planning.timeline import Timeline

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# The advisory locks' first key: the namespace of "an item's availability" (the second key is the item id).
ITEM_LOCK_NAMESPACE = 18_001


@dataclass(frozen=True)
class LineMaterial:
    """When a quote line's material is all there; `item` the last component to arrive (binding), `source`
    what brings it (a purchase order number); `uncovered`: no supply covers it, `ready` is a lead-time
    estimate (order now, receive after the item's lead time)."""

    ready: dt.datetime
    item: str = ""
    source: str = ""
    uncovered: bool = False


@dataclass(frozen=True)
class QuoteMaterialLine:
    """One quote line as the material check sees it: the catalog product, the quantity and the line's spec
    values (they choose spec-dependent components: the powder in the order's RAL colour, metres of profile
    for the length)."""

    product: int
    quantity: Decimal
    spec_values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HoldRequest:
    actor: User | None
    reference: str  # "quote:<customer code>:<token>": what the order's confirmation converts


def lock_items(item_ids: list[int]) -> None:
    """Advisory transaction locks on the items' availability, in id order (two quotes never deadlock).

    PostgreSQL only: the embedded SQLite of `make run` has no advisory locks and lets one writer at a time
    into the database, which is the demo's whole concurrency."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for item_id in sorted(set(item_ids)):
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ITEM_LOCK_NAMESPACE, item_id])


def _check(
    lines: list[QuoteMaterialLine],
    needs: list[list[sources.Need]],
    timelines: dict[int, Timeline],
    *,
    now: dt.datetime,
) -> tuple[list[LineMaterial], list[tuple[int, Decimal, dt.datetime]]]:
    answers: list[LineMaterial] = []
    promised: list[tuple[int, Decimal, dt.datetime]] = []
    for line, line_needs in zip(lines, needs, strict=True):
        latest = LineMaterial(ready=now)
        taken: list[tuple[int, Decimal]] = []
        for need in line_needs:
            amount = need.per_unit * line.quantity
            timeline = timelines.get(need.item) or Timeline(item=need.code)
            found = timeline.ready(amount, now=now)
            if found is None:
                ready = now + dt.timedelta(days=need.lead_time_days)
                candidate = LineMaterial(ready=ready, item=need.code, uncovered=True)
            else:
                candidate = LineMaterial(ready=found[0], item=need.code, source=found[1])
            # The latest component binds; one no supply covers wins a tie (it is not really there).
            if (candidate.ready, candidate.uncovered) > (latest.ready, latest.uncovered):
                latest = candidate
            taken.append((need.item, amount))
        # The line takes all its components when the last one is there: later lines see them promised.
        for item, amount in taken:
            timelines.setdefault(item, Timeline(item=str(item))).promise(amount, latest.ready)
            promised.append((item, amount, latest.ready))
        answers.append(latest)
    return answers, promised


def material_ready(
    *,
    lines: list[QuoteMaterialLine],
    now: dt.datetime,
    hold: HoldRequest | None = None,
    strict: bool = True,
    except_work_orders: Iterable[int] = (),
) -> list[LineMaterial]:
    """Per quote line: when its material is there, the BOM exploded with the line's spec values. With
    `hold`, also hold what the lines take until SUPPLY_QUOTE_HOLD_MINUTES from now (committed with the
    answer). Raises ValidationFailed (field `lines[i].spec_values.<attribute>`) when a spec value that
    drives a component quantity is missing or not a number (`strict=False`: such a line checks nothing).
    `except_work_orders`: work orders whose reservations the lines replace (a spec change) are not counted."""
    needs = sources.line_needs([(line.product, line.spec_values) for line in lines], strict=strict)
    codes = {need.item: need.code for line_needs in needs for need in line_needs}
    items = sorted(codes)
    if hold is None:
        answers, _ = _check(
            lines,
            needs,
            sources.timelines(items, now=now, codes=codes, except_work_orders=except_work_orders),
            now=now,
        )
        return answers
    with transaction.atomic():
        lock_items(items)
        # Read after the locks: what another quote held before us is committed and counted.
        answers, promised = _check(
            lines,
            needs,
            sources.timelines(items, now=now, codes=codes, except_work_orders=except_work_orders),
            now=now,
        )
        expires = now + dt.timedelta(minutes=settings.SUPPLY_QUOTE_HOLD_MINUTES)
        sources.holds_create(
            rows=[(item, amount, at) for item, amount, at in promised if amount > 0],
            expires_at=expires,
            reference=hold.reference,
            holder=hold.actor,
        )
    return answers


def binding_constraint(
    *,
    completion: int,
    capacity_completion: int,
    waits: Mapping[Any, int],
    last_work_center: Any,
    work_center_codes: Mapping[Any, str],
    materials: list[LineMaterial],
) -> dict[str, Any]:
    """What sets the quote's date: a material (when the material-aware completion is later than capacity
    alone would give) or capacity at the work center where the quote's operations waited longest."""
    if completion > capacity_completion and materials:
        latest = max(materials, key=lambda material: material.ready)
        until = timezone.localtime(latest.ready).date()
        if latest.uncovered:
            text = _("material %(item)s until %(date)s (no open supply: ordered now, after its lead time)")
        else:
            text = _("material %(item)s until %(date)s from %(source)s")
        return {
            "kind": "material",
            "item": latest.item,
            "until": until,
            "source": latest.source,
            "work_center": "",
            "text": text % {"item": latest.item, "date": until.isoformat(), "source": latest.source},
        }
    busiest = max(waits.items(), key=lambda entry: entry[1])[0] if any(waits.values()) else last_work_center
    code = work_center_codes.get(busiest, "") if busiest is not None else ""
    return {
        "kind": "capacity",
        "item": "",
        "until": None,
        "source": "",
        "work_center": code,
        "text": _("capacity at %(work_center)s") % {"work_center": code},
    }
