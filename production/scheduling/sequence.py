"""A plan as one processing order of its (not frozen) operations, decoded serially, re-decoding only what a
move changed: the improvement pass's evaluator (improve.py).

Decoding places each operation in turn at the earliest time its predecessor, its release and a unit of its
work center allow (calendar-exact, finite capacity, frozen operations keep their slots), exactly as
dispatch.serial does for the same order. When every work center keeps the same calendar (the usual plant),
times are working-minute positions on that calendar (frozen slots too), so an operation ends at its start
plus its duration with no calendar look-up.

The units' state is saved every CHECKPOINT positions. A re-decoding of an order that differs from a decoded
one only at positions [since, until) starts at the last checkpoint before `since` and stops as soon as, at
a checkpoint past `until`, the units and every operation still waiting on a predecessor are as they were:
the rest of the plan is the old one. A move near the end of the plan, where the late work is, costs a
fraction of a decoding.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from production.scheduling.calendar import Calendar
from production.scheduling.dispatch import Flat, earliest_past_frozen
from production.scheduling.problem import ON_TIME, Placement, Plan, Problem

# Units' state is saved every this many positions of the order (a re-decoding starts at the last one).
CHECKPOINT = 8


class Decoded:
    """One processing order and its serial decoding (arrays by operation number; on the axis, times are
    working-minute positions: Decoder.placements turns them into a plan's minutes)."""

    __slots__ = ("end", "job_end", "key", "late", "order", "pos", "saved", "score", "start", "unit", "uprev")

    def __init__(
        self,
        order: list[int],
        start: list[int],
        end: list[int],
        unit: list[int],
        uprev: list[int],
        saved: list[tuple[tuple[int, ...], ...]],
        job_end: list[int],
        score: tuple[int, int, int],
        key: tuple[int, ...],
    ) -> None:
        self.order = order
        self.pos: list[int] | None = None
        # The late jobs and their cumulative weights as improve._pick_late draws from them, worked out once
        # per plan: a rejected move leaves the plan as it was, and most moves are rejected.
        self.late: tuple[list[int], list[float]] | None = None
        self.start = start
        self.end = end
        self.unit = unit
        self.uprev = uprev  # the operation before on the same unit (-1: none, or a frozen one)
        self.saved = saved  # units' free times and last operations before position i * CHECKPOINT
        self.job_end = job_end
        self.score = score  # broken promises, late jobs, weighted tardiness
        self.key = key

    def positions(self, n: int) -> list[int]:
        if self.pos is None:
            pos = [-1] * n
            for index, op in enumerate(self.order):
                pos[op] = index
            self.pos = pos
        return self.pos


class Decoder:
    """Serial decoding of processing orders of `problem`'s free operations, as dispatch.serial places them,
    re-decoding only what a move changed (see decode)."""

    def __init__(self, problem: Problem, flat: Flat) -> None:
        self.problem = problem
        self.flat = flat
        n = flat.n
        self.pred = [-1] * n
        for i in range(n):
            if flat.op_next[i] >= 0:
                self.pred[flat.op_next[i]] = i
        self.ready_first = [0] * n  # the job's ready time, for its first free operation
        for j, first in enumerate(flat.first):
            if first >= 0:
                self.ready_first[first] = flat.job_ready[j]
        self.frozen_ops = {op for op, _, _ in flat.frozen}
        self.slots: dict[tuple[int, int], list[tuple[int, int]]] = {}
        self.base_free = [[0] * u for u in flat.units]
        for _, wc, placement in flat.frozen:
            self.slots.setdefault((wc, placement.unit), []).append((placement.start, placement.end))
        for held in self.slots.values():
            held.sort()
        self.held_centers = {wc for wc, _ in self.slots}
        # A job's end: its last free operation's, or (all frozen) its last frozen operation's.
        self.job_last: list[int] = []
        self.job_fixed_end: list[int] = []
        jobs = problem.jobs
        by_job: list[list[int]] = [[] for _ in jobs]
        for i in range(n):
            by_job[flat.op_job[i]].append(i)
        self.job_ops = by_job
        frozen_end = {op: placement.end for op, _, placement in flat.frozen}
        for ops in by_job:
            free = [i for i in ops if i not in self.frozen_ops]
            self.job_last.append(free[-1] if free else -1)
            self.job_fixed_end.append(max((frozen_end[i] for i in ops if i in frozen_end), default=0))
        self.due = [job.due for job in jobs]
        self.weight = [job.weight for job in jobs]
        self.firm = [job.firm for job in jobs]
        self.on_time = problem.objective == ON_TIME
        self.spent = 0  # operation-decodings
        self.last_of = [-1] * n
        for j, last in enumerate(self.job_last):
            if last >= 0:
                self.last_of[last] = j
        self.fixed_start, self.fixed_end, self.fixed_unit = [0] * n, [0] * n, [0] * n
        for op, _, placement in flat.frozen:
            self.fixed_start[op], self.fixed_end[op] = placement.start, placement.end
            self.fixed_unit[op] = placement.unit
        # One calendar for all (the usual plant): decode on its working minutes, frozen slots too.
        cals = flat.cals
        same = all(cal.starts == cals[0].starts and cal.ends == cals[0].ends for cal in cals[1:])
        self.axis: Calendar | None = cals[0] if cals and same else None
        self.scale = 1.0
        # Off the axis each placement looks the calendar up (about twice the time): it counts double in
        # `spent`, so a budget of decodings takes about the same time either way.
        self.op_cost = 1 if self.axis is not None else 2
        self.held_positions: dict[tuple[int, int], list[tuple[int, int]]] = {}
        if self.axis is not None:
            axis = self.axis
            self.axis_end = axis.at_position
            self.ready_first = [axis.position(max(0, t)) for t in self.ready_first]
            self.held_positions = {
                held: [(axis.position(start), axis.position(end)) for start, end in spans]
                for held, spans in self.slots.items()
            }
            span = axis.ends[-1] - axis.starts[0]
            self.scale = axis.total / span if span > 0 else 1.0

    def waited(self, op: int, ready: int, start: int) -> bool:
        """Whether operation `op`, ready at `ready`, started later than it could have (a unit held it)."""
        if self.axis is not None:
            return start > ready
        return self.flat.cals[self.flat.op_wc[op]].next_working(ready) < start

    def initial_order(self, plan: Plan) -> list[int]:
        flat = self.flat
        free = [i for i in range(flat.n) if i not in self.frozen_ops]
        # A successor starts after its predecessor ends (durations ≥ 1): start order respects precedence.
        return sorted(free, key=lambda i: (plan.placements[flat.op_key[i]].start, i))

    def decode(
        self, order: list[int], *, since: int = 0, until: int = 0, base: Decoded | None = None
    ) -> Decoded:
        """`order` decoded. With `base`, a decoding of an order that differs from this one only at positions
        `since` to `until` - 1: from the last checkpoint at or before `since`, and only until the units and
        the pending operations are as they were in `base` at a checkpoint past `until` (then the rest of the
        plan is `base`'s)."""
        n = self.flat.n
        if base is None or since <= 0:
            first = 0
            start, end, unit = self.fixed_start[:], self.fixed_end[:], self.fixed_unit[:]
            uprev = [-1] * n
            unit_free = [list(frees) for frees in self.base_free]
            unit_last = [[-1] * len(frees) for frees in self.base_free]
            saved: list[tuple[tuple[int, ...], ...]] = []
            job_end = self.job_fixed_end[:]
            base = None
        else:
            c = min(since // CHECKPOINT, len(base.saved) - 1)
            first = c * CHECKPOINT
            start, end, unit, uprev = base.start[:], base.end[:], base.unit[:], base.uprev[:]
            state = base.saved[c]
            centers = len(self.base_free)
            unit_free = [list(frees) for frees in state[:centers]]
            unit_last = [list(lasts) for lasts in state[centers:]]
            saved = base.saved[:c]
            job_end = base.job_end[:]
        touched: list[int] = []
        stop = self._run(
            order, first, until, base, start, end, unit, uprev, unit_free, unit_last, saved, job_end, touched
        )
        self.spent += (stop - first) * self.op_cost
        score = self._score(job_end, base, touched)
        broken, late, twt = score
        makespan = max(job_end, default=0)
        key = (broken, late, twt, makespan) if self.on_time else (broken, twt, makespan)
        return Decoded(order, start, end, unit, uprev, saved, job_end, score, key)

    def _run(
        self,
        order: list[int],
        first: int,
        until: int,
        base: Decoded | None,
        start: list[int],
        end: list[int],
        unit: list[int],
        uprev: list[int],
        unit_free: list[list[int]],
        unit_last: list[list[int]],
        saved: list[tuple[tuple[int, ...], ...]],
        job_end: list[int],
        touched: list[int],
    ) -> int:
        """Place order[first:] (see decode); returns the position where it stopped."""
        flat = self.flat
        op_wc, cals, op_dur, op_next = flat.op_wc, flat.cals, flat.op_dur, flat.op_next
        pred, ready_first, last_of = self.pred, self.ready_first, self.last_of
        held_centers, slots, held_positions = self.held_centers, self.slots, self.held_positions
        on_axis = self.axis is not None
        at_position = self.axis.at_position if self.axis is not None else None
        base_end = base.end if base is not None else end
        base_saved = base.saved if base is not None else saved
        track = base is not None
        pending: set[int] = set()  # re-placed operations whose new end their successor has not yet seen
        size = len(order)
        for chunk in range(first, size, CHECKPOINT):
            state = tuple(tuple(frees) for frees in unit_free) + tuple(tuple(lasts) for lasts in unit_last)
            if track and chunk >= until and not pending and state == base_saved[chunk // CHECKPOINT]:
                saved.extend(base_saved[chunk // CHECKPOINT :])
                return chunk  # the rest is as in base
            saved.append(state)
            for op in order[chunk : chunk + CHECKPOINT]:
                wc = op_wc[op]
                frees = unit_free[wc]
                p = pred[op]
                if p >= 0:
                    ready = end[p]
                    if pending:
                        pending.discard(p)
                else:
                    ready = ready_first[op]
                if on_axis:
                    # One calendar: positions in working minutes, an end is start + duration.
                    if wc in held_centers:
                        u, at = 0, -1
                        for k, free in enumerate(frees):
                            t = free if free > ready else ready
                            if (wc, k) in held_positions:
                                t = _past_held(held_positions[(wc, k)], t, op_dur[op])
                            if at < 0 or t < at:
                                u, at = k, t
                    else:
                        lowest = min(frees)
                        at = lowest if lowest > ready else ready
                        u = frees.index(lowest) if lowest >= ready else _first_free(frees, at)
                    finish = at + op_dur[op]
                else:
                    cal = cals[wc]
                    if wc in held_centers:
                        u, at = earliest_past_frozen(cal, frees, ready, wc, slots, op_dur[op])
                    else:
                        lowest = min(frees)
                        at = cal.next_working(lowest if lowest > ready else ready)
                        u = _first_free(frees, at)
                    finish = cal.add_working(at, op_dur[op])
                if track and finish != base_end[op] and op_next[op] >= 0:
                    pending.add(op)
                start[op], end[op], unit[op] = at, finish, u
                frees[u] = finish
                lasts = unit_last[wc]
                uprev[op] = lasts[u]
                lasts[u] = op
                j = last_of[op]
                if j >= 0:
                    job_end[j] = at_position(finish) if at_position is not None else finish
                    touched.append(j)
        return size

    def _score(self, job_end: list[int], base: Decoded | None, touched: list[int]) -> tuple[int, int, int]:
        """(broken promises, late jobs, weighted tardiness): from `base`'s, for the jobs whose end was
        re-placed (`touched`), or over all jobs."""
        due, weight, firm = self.due, self.weight, self.firm
        if base is None:
            twt = late = broken = 0
            for j, end in enumerate(job_end):
                if end > due[j]:
                    twt += weight[j] * (end - due[j])
                    late += 1
                    broken += firm[j]
            return (broken, late, twt)
        broken, late, twt = base.score
        old_end = base.job_end
        for j in touched:
            before, after = old_end[j], job_end[j]
            if before == after:
                continue
            if before > due[j]:
                twt -= weight[j] * (before - due[j])
                late -= 1
                broken -= firm[j]
            if after > due[j]:
                twt += weight[j] * (after - due[j])
                late += 1
                broken += firm[j]
        return (broken, late, twt)

    def placements(self, decoded: Decoded) -> dict[Any, Placement]:
        flat = self.flat
        placements: dict[Any, Placement] = {}
        for op, _, placement in flat.frozen:
            placements[flat.op_key[op]] = placement
        axis = self.axis
        for op in decoded.order:
            begin, finish = decoded.start[op], decoded.end[op]
            if axis is not None:
                begin, finish = axis_start(axis, begin), axis.at_position(finish)
            placements[flat.op_key[op]] = Placement(decoded.unit[op], begin, finish)
        return placements

    def minutes(self, wall: float) -> float:
        """A wall-clock span as the decoder's time unit (working minutes on the axis, on average)."""
        return wall * self.scale


def _past_held(held: list[tuple[int, int]], at: int, duration: int) -> int:
    """dispatch.past_frozen on working-minute positions: the earliest start from `at` whose `duration`
    overlaps none of the frozen slots `held`."""
    for slot_start, slot_end in held:
        if slot_end <= at:
            continue
        if at + duration <= slot_start:
            return at
        at = max(at, slot_end)
    return at


def _first_free(frees: list[int], at: int) -> int:
    """The first unit free by `at` (the full scan's choice: the first unit with the earliest start)."""
    for u, free in enumerate(frees):
        if free <= at:
            return u
    return 0


def axis_start(axis: Calendar, position: int) -> int:
    """The first working minute at working-minute `position` (an operation's start; its end is
    at_position's instant, which may be the end of the interval before)."""
    i = bisect_right(axis.cum, position) - 1
    if i < 0:
        return axis.starts[0]
    return axis.starts[i] + position - axis.cum[i]
