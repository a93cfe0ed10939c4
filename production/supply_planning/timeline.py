"""Time-phased availability of one item, independent of Django (the promise's arithmetic).

An item's projected balance over time is its stock on hand, plus open supply when it is expected, less the
demand already promised (reservations, holds) when it is needed. A new need of `quantity` is ready at the
earliest moment from which the balance stays at least `quantity` for good: taking it then leaves every
earlier promise whole (cumulative available-to-promise), so two promises can never count the same units.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Supply:
    at: dt.datetime
    quantity: Decimal
    source: str  # what brings it: "PO-000123", or "" for stock on hand


@dataclass
class Timeline:
    """One item's stock, expected supply and promised demand."""

    item: str
    on_hand: Decimal = Decimal(0)
    supplies: list[Supply] = field(default_factory=list)
    demands: list[tuple[dt.datetime, Decimal]] = field(default_factory=list)

    def ready(self, quantity: Decimal, *, now: dt.datetime) -> tuple[dt.datetime, str] | None:
        """When `quantity` more can be promised (no earlier than `now`) and the supply that makes it so;
        None when stock and all open supply together never cover it."""
        if quantity <= 0:
            return now, ""
        # Balance changes at each supply and demand moment; what is due before now counts at now.
        steps: dict[dt.datetime, Decimal] = {}
        sources: dict[dt.datetime, str] = {}
        for supply in self.supplies:
            moment = max(supply.at, now)
            steps[moment] = steps.get(moment, Decimal(0)) + supply.quantity
            sources.setdefault(moment, supply.source)
        for moment, amount in self.demands:
            moment = max(moment, now)
            steps[moment] = steps.get(moment, Decimal(0)) - amount
        moments = sorted(set(steps) | {now})
        balances = []
        balance = self.on_hand
        for moment in moments:
            balance += steps.get(moment, Decimal(0))
            balances.append(balance)
        # From the end backwards: the lowest balance from each moment on.
        answer: tuple[dt.datetime, str] | None = None
        lowest: Decimal | None = None
        for moment, balance in zip(reversed(moments), reversed(balances), strict=True):
            lowest = balance if lowest is None else min(lowest, balance)
            if lowest >= quantity:
                answer = (moment, sources.get(moment, ""))
            else:
                break
        return answer

    def promise(self, quantity: Decimal, at: dt.datetime) -> None:
        """Count a promise of `quantity` at `at` (the next need sees it)."""
        self.demands.append((at, quantity))
