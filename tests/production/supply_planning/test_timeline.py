"""An item's time line (pure): when a quantity can be promised without touching earlier promises."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from production.supply_planning import Supply, Timeline

NOW = dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)


def at(days: int) -> dt.datetime:
    return NOW + dt.timedelta(days=days)


def test_stock_on_hand_is_ready_now():
    assert Timeline(item="A", on_hand=Decimal(5)).ready(Decimal(5), now=NOW) == (NOW, "")


def test_what_stock_lacks_is_ready_with_the_purchase_order_that_brings_it():
    line = Timeline(item="A", on_hand=Decimal(2), supplies=[Supply(at(3), Decimal(10), "PO-000123")])
    assert line.ready(Decimal(5), now=NOW) == (at(3), "PO-000123")


def test_a_later_promise_keeps_the_earlier_promises_whole():
    # 10 now, 6 promised for day 5: 4 are free now, more only when PO-2 comes on day 7.
    line = Timeline(
        item="A",
        on_hand=Decimal(10),
        supplies=[Supply(at(7), Decimal(10), "PO-2")],
        demands=[(at(5), Decimal(6))],
    )
    assert line.ready(Decimal(4), now=NOW) == (NOW, "")
    assert line.ready(Decimal(5), now=NOW) == (at(7), "PO-2")


def test_nothing_covers_more_than_stock_and_all_supply():
    line = Timeline(item="A", on_hand=Decimal(1), supplies=[Supply(at(2), Decimal(1), "PO-1")])
    assert line.ready(Decimal(3), now=NOW) is None
