"""Capable-to-promise: insert a hypothetical order into the current plan without rescheduling it.

Each line's operations go, in routing order, into the earliest gap of a unit of their work center that
is long enough in working time (calendar-aware). Honouring priorities: an order may overtake planned
work of strictly lower weight (a VIP order overtakes standard ones, never another VIP's), so those
bookings are treated as movable; the orders owning the bookings it lands on are the ones it would delay.
The estimate is the insertion's: the next reschedule settles the real sequence.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

from production.scheduling.calendar import Calendar
from production.scheduling.problem import Plan, Problem


@dataclass
class _Unit:
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    weights: list[int] = field(default_factory=list)
    groups: list[Any] = field(default_factory=list)


@dataclass
class PlanIndex:
    calendars: dict[Any, Calendar]
    units: dict[Any, list[_Unit]]

    @classmethod
    def from_bookings(
        cls,
        calendars: dict[Any, Calendar],
        unit_counts: dict[Any, int],
        bookings: list[tuple[Any, int, int, int, int, Any]],
    ) -> PlanIndex:
        """bookings: (work center, unit, start, end, weight, group)."""
        units = {wc: [_Unit() for _ in range(max(1, count))] for wc, count in unit_counts.items()}
        for wc, unit, start, end, weight, group in sorted(bookings, key=lambda b: (b[0], b[1], b[2])):
            if wc not in units:
                continue
            target = units[wc][min(unit, len(units[wc]) - 1)]
            target.starts.append(start)
            target.ends.append(end)
            target.weights.append(weight)
            target.groups.append(group)
        return cls(calendars=calendars, units=units)

    @classmethod
    def from_plan(cls, problem: Problem, plan: Plan) -> PlanIndex:
        bookings = []
        for job in problem.jobs:
            for op in job.ops:
                placement = plan.placements[op.key]
                bookings.append(
                    (op.work_center, placement.unit, placement.start, placement.end, job.weight, job.key)
                )
        return cls.from_bookings(
            {key: spec.calendar for key, spec in problem.work_centers.items()},
            {key: spec.units for key, spec in problem.work_centers.items()},
            bookings,
        )


@dataclass
class QuoteLine:
    ops: list[tuple[Any, int]]  # (work center, working minutes) in routing order
    key: Any = None
    release: int = 0  # no start before this minute (its material is ready then)


@dataclass
class Quote:
    completion: int  # honouring priorities (may overtake lower-weight work)
    completion_without_overtaking: int
    line_completion: dict[Any, int]
    delayed: dict[Any, int]  # group → minutes of its planned work the new order lands on
    # work center → minutes the quote's operations waited there for a free unit (the capacity constraint)
    waits: dict[Any, int] = field(default_factory=dict)

    def cost(
        self, *, ends: dict[Any, int], dues: dict[Any, int], weights: dict[Any, int]
    ) -> tuple[int, list[Any]]:
        """What overtaking costs the delayed groups (each group's planned end, due and weight): the extra
        weighted tardiness if each is pushed back by the minutes the new order lands on, and the groups
        it would push from on time to late. An estimate: the reschedule settles the real figure."""
        extra = 0
        pushed: list[Any] = []
        for group, minutes in self.delayed.items():
            if group not in ends or group not in dues:
                continue
            end, due, weight = ends[group], dues[group], weights.get(group, 1)
            extra += weight * (max(0, end + minutes - due) - max(0, end - due))
            if end <= due < end + minutes:
                pushed.append(group)
        return extra, pushed


def _fit(
    cal: Calendar, unit: _Unit, est: int, duration: int, overtake_below: int, frozen_until: int = 0
) -> tuple[int, int, list[int]]:
    start = cal.next_working(est)
    end = cal.add_working(start, duration)
    i = bisect_right(unit.ends, start)
    overtaken: list[int] = []
    while i < len(unit.starts):
        if unit.starts[i] >= end:
            break
        if unit.weights[i] < overtake_below and unit.starts[i] >= frozen_until:
            overtaken.append(i)
        else:
            start = cal.next_working(max(start, unit.ends[i]))
            end = cal.add_working(start, duration)
            overtaken = [k for k in overtaken if unit.ends[k] > start]
        i += 1
    return start, end, overtaken


def _insert(
    index: PlanIndex,
    lines: list[QuoteLine],
    earliest: int,
    overtake_below: int,
    weight: int,
    frozen_until: int = 0,
) -> tuple[int, dict[Any, int], dict[Any, int], dict[Any, int]]:
    # The quote's own operations are booked in a copy of the touched units, so its lines share capacity.
    touched: dict[tuple[Any, int], _Unit] = {}
    completion = earliest
    per_line: dict[Any, int] = {}
    delayed: dict[Any, int] = {}
    waits: dict[Any, int] = {}
    for number, line in enumerate(lines):
        ready = max(earliest, line.release)
        for wc, duration in line.ops:
            cal = index.calendars[wc]
            best = None
            for u, base in enumerate(index.units[wc]):
                unit = touched.get((wc, u), base)
                start, end, overtaken = _fit(cal, unit, ready, duration, overtake_below, frozen_until)
                if best is None or end < best[1]:
                    best = (start, end, overtaken, u, unit)
            assert best is not None
            start, end, overtaken, u, unit = best
            waits[wc] = waits.get(wc, 0) + max(0, start - cal.next_working(ready))
            for k in overtaken:
                overlap = min(end, unit.ends[k]) - max(start, unit.starts[k])
                delayed[unit.groups[k]] = delayed.get(unit.groups[k], 0) + max(0, overlap)
            position = bisect_right(unit.starts, start)
            copy = _Unit(unit.starts[:], unit.ends[:], unit.weights[:], unit.groups[:])
            copy.starts.insert(position, start)
            copy.ends.insert(position, end)
            copy.weights.insert(position, weight)
            copy.groups.insert(position, None)
            # Keep ends sorted for bisect: overtaken bookings conceptually move after the new one.
            copy.ends = _monotone(copy.ends)
            touched[(wc, u)] = copy
            ready = end
        line_key = line.key if line.key is not None else number
        per_line[line_key] = max(per_line.get(line_key, ready), ready)
        completion = max(completion, ready)
    delayed.pop(None, None)
    return completion, per_line, delayed, waits


def _monotone(values: list[int]) -> list[int]:
    out, top = [], None
    for value in values:
        top = value if top is None else max(top, value)
        out.append(top)
    return out


def capable_to_promise(
    index: PlanIndex,
    *,
    lines: list[QuoteLine],
    weight: int,
    earliest: int = 0,
    frozen_until: int = 0,
) -> Quote:
    """Insert `lines` (an order of `weight`) into the plan `index`, from minute `earliest` on (each line
    from its own `release` when later: its material); bookings starting before `frozen_until` (the frozen
    window) are never overtaken.

    Raises KeyError for a work center the index does not know, HorizonExceeded past its calendars.
    """
    for line in lines:
        for wc, _ in line.ops:
            if wc not in index.calendars:
                raise KeyError(wc)
    plain, _, _, _ = _insert(index, lines, earliest, overtake_below=0, weight=weight)
    completion, per_line, delayed, waits = _insert(
        index, lines, earliest, overtake_below=weight, weight=weight, frozen_until=frozen_until
    )
    if completion >= plain:
        completion, delayed = plain, {}
        _, per_line, _, waits = _insert(index, lines, earliest, overtake_below=0, weight=weight)
    return Quote(completion, plain, per_line, delayed, waits)
