"""The fast engine: a calendar-aware, finite-capacity list scheduler with dispatching rules.

Non-delay dispatching: whenever a unit of a work center is free (in its working time) and operations are
waiting for it, it starts the one the rule ranks first. Rules: EDD (earliest due date, the baseline) and
ATC (apparent tardiness cost: weight / processing time, discounted by the job's slack). ATC's look-ahead
parameter K is tuned per instance by trying a few values and keeping the best plan, with p read two ways:
the operation's own processing time, and the job's work left (see ATC_REMAINING_K_VALUES_LARGE).

ATC's index is w/p · exp(-max(0, slack)/(K·p̄)) with slack = due - t - remaining work. In logs, for a job
not yet late it is log(w/p) - (τ - t)/(K·p̄) with τ = due - remaining work fixed once the operation is
ready, so ranking needs no rescoring as time passes: two heaps (not yet critical, by log(w/p) - τ/(K·p̄);
critical, by log(w/p)) and a third by τ that moves operations from the first to the second.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from production.scheduling.problem import Placement, Plan, Problem, make_plan

# Measured on the bench instances (n50-n1000, two seeds each): the best K lies between 4 and 16 on loaded
# plants (K=8-16 has 5-37% less weighted tardiness than K=4), around 1 on light ones; five runs of n1000
# still take well under a second.
ATC_K_VALUES = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
# Above this many operations (loaded plants, where small K never wins), only the large look-aheads, more
# finely: on the bench's plants of 2,000 work orders K = 48 or 64 won (0.4-2 % less weighted tardiness than
# K = 32), at 1,000 K = 20 to 40. The weighted tardiness is not smooth in K (at 1,000 work orders, seed 2:
# 17.70 M at K = 20, 17.37 M at 28, 17.38 M at 32, 17.29 M at 40, 17.57 M at 48), so the grid is fine
# between 8 and 64: ten runs, 0.13 s of CPU at 1,000 work orders and 0.3-0.4 s at 2,000, where the six of
# the coarser grid missed 0.5-0.9 % at 1,000 (seeds 2 and 3).
LARGE_OPERATIONS = 1500
ATC_K_VALUES_LARGE = (8.0, 12.0, 16.0, 20.0, 24.0, 28.0, 32.0, 40.0, 48.0, 64.0)
# ATC also runs with w / (the job's work left) in place of w / (the operation's time): a job near its end
# goes first, which wins on overloaded plants, where most jobs are late anyway and finishing them one by one
# beats advancing many. Measured on generated plants (seeds 1-6 at each size, fast engine with its local
# search after): no change at 100-300 work orders (the usual rule always won); 4 plants in 12 at 400-500
# (-0.7 to -3.8 % weighted tardiness), and 2-3 in 6 at each of 700, 800 and 1,000 (-4.1 to -6.8 %), none
# worse. Its K values: the usual grid up to LARGE_OPERATIONS; above it a coarser one (the winners were
# spread over 8-28), and above ATC_REMAINING_FINE_OPERATIONS two values, so that the fast engine stays well
# under a second at 2,000 work orders (0.35-0.5 s before, 0.5-0.65 s with it; one plant in four there -5.6 %).
ATC_REMAINING_K_VALUES_LARGE = (8.0, 16.0, 24.0, 32.0)
ATC_REMAINING_FINE_OPERATIONS = 3000
ATC_REMAINING_K_VALUES_HUGE = (24.0, 48.0)
# On an overloaded plant (the best plan's weighted tardiness over ATC_OVERLOADED operations' mean time per
# unit of weight) ATC also runs with p = the operation's time + a share of the work after it. Shares 0.1 and
# 0.25 on every plant (36 generated plants of 200-700 work orders, seeds 1-6, fast engine with its local
# search after): -1.7 % on average, up to -8.8 %, but 3 plants worse (+0.3 to +4.8 %: a better ATC plan is
# not always a better start for the local search), all three lighter (this index 0.9-3.8; the gains came
# from 4.7 up). With the threshold, on 54 plants of 200-2,000 work orders against the work-left reading
# alone: 24 better, none worse, -1.45 % on average (-3.0 % at 400, -4.0 % at 500, up to -8.8 %); 200 and
# 2,000 unchanged. Up to ATC_REMAINING_FINE_OPERATIONS operations; the winners' K were 8-32.
ATC_OVERLOADED = 4.5
# The readings past the usual one are skipped once ATC has run this long (a last resort on a slow or busy
# machine, as improve.FAST_SECONDS; the plan's details say so: atc_capped): the fast plan stays under a
# second. On a quiet machine ATC's whole grid takes 0.1 s at 400 work orders, 0.3-0.35 s at 700-1,000 and
# 0.45-0.6 s at 2,000 (its usual reading alone 0.35-0.5 s there).
ATC_EXTRA_SECONDS = 0.6
ATC_BLEND_SHARES = (0.1, 0.25)
ATC_BLEND_K_VALUES = (8.0, 16.0, 32.0)


class Flat:
    """The problem flattened into arrays indexed by operation number."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.wc_keys = list(problem.work_centers)
        wc_index = {key: i for i, key in enumerate(self.wc_keys)}
        self.cals = [problem.work_centers[key].calendar for key in self.wc_keys]
        self.units = [problem.work_centers[key].units for key in self.wc_keys]
        stretch = [problem.work_centers[key].stretch for key in self.wc_keys]
        self.op_key: list[Any] = []
        self.op_wc: list[int] = []
        self.op_dur: list[int] = []
        self.op_job: list[int] = []
        self.op_next: list[int] = []  # next op of the same job, -1 at the end
        self.op_rem: list[float] = []  # wall-clock estimate of the job's work from this op on
        self.first: list[int] = []  # first op to dispatch per job (-1: all frozen)
        self.frozen: list[tuple[int, int, Placement]] = []  # (op, wc, placement)
        self.job_ready: list[int] = []  # earliest start of the first dispatched op
        for j, job in enumerate(problem.jobs):
            ready = max(0, job.release)
            first = -1
            prev = -1
            indices = []
            for op in job.ops:
                i = len(self.op_key)
                self.op_key.append(op.key)
                self.op_wc.append(wc_index[op.work_center])
                self.op_dur.append(op.duration)
                self.op_job.append(j)
                self.op_next.append(-1)
                self.op_rem.append(0.0)
                indices.append(i)
                if op.frozen:
                    unit = min(max(op.frozen_unit or 0, 0), self.units[self.op_wc[i]] - 1)
                    placement = Placement(unit, op.frozen_start or 0, op.frozen_end or 0, frozen=True)
                    self.frozen.append((i, self.op_wc[i], placement))
                    ready = max(ready, placement.end)
                    continue
                if prev >= 0:
                    self.op_next[prev] = i
                elif first < 0:
                    first = i
                prev = i
            rem = 0.0
            for i in reversed(indices):
                rem += self.op_dur[i] * stretch[self.op_wc[i]]
                self.op_rem[i] = rem
            self.first.append(first)
            self.job_ready.append(ready)
        self.n = len(self.op_key)
        durations = list(self.op_dur) or [1]
        self.pbar = sum(durations) / len(durations)


def _run(flat: Flat, make_rule: Callable[[int], Any]) -> dict[Any, Placement]:
    """Non-delay list scheduling driven by the units' free times (one time-ordered event heap).

    An idle unit is parked; it wakes when an operation becomes ready for its work center. Each unit has a
    token so that an outdated wake-up event is ignored (a unit is never booked twice).
    """
    placements: dict[Any, Placement] = {}
    unit_free = [[0] * u for u in flat.units]
    for op, wc, placement in flat.frozen:
        placements[flat.op_key[op]] = placement
        unit_free[wc][placement.unit] = max(unit_free[wc][placement.unit], placement.end)
    waiting: list[list[tuple[int, int]]] = [[] for _ in flat.units]  # (earliest start, op)
    rules = [make_rule(wc) for wc in range(len(flat.units))]
    parked: list[dict[int, int]] = [{} for _ in flat.units]  # unit → idle since
    tokens = [[0] * u for u in flat.units]
    events: list[tuple[int, int, int, int]] = []
    for wc, frees in enumerate(unit_free):
        for unit, free in enumerate(frees):
            events.append((free, wc, unit, 0))
    heapq.heapify(events)
    for j, first in enumerate(flat.first):
        if first >= 0:
            heapq.heappush(waiting[flat.op_wc[first]], (flat.job_ready[j], first))
    left = flat.n - len(flat.frozen)
    cals = flat.cals
    while left and events:
        t0, wc, unit, token = heapq.heappop(events)
        if token != tokens[wc][unit]:
            continue
        parked[wc].pop(unit, None)
        t = cals[wc].next_working(t0)
        if t > t0:
            heapq.heappush(events, (t, wc, unit, token))  # resume in time order after the non-working gap
            continue
        rule = rules[wc]
        queue = waiting[wc]
        while queue and queue[0][0] <= t:
            rule.add(heapq.heappop(queue)[1])
        if not rule:
            parked[wc][unit] = t
            if queue:
                heapq.heappush(events, (queue[0][0], wc, unit, token))
            continue
        op = rule.pop(t)
        end = cals[wc].add_working(t, flat.op_dur[op])
        placements[flat.op_key[op]] = Placement(unit, t, end)
        left -= 1
        tokens[wc][unit] += 1
        heapq.heappush(events, (end, wc, unit, tokens[wc][unit]))
        nxt = flat.op_next[op]
        if nxt >= 0:
            nwc = flat.op_wc[nxt]
            heapq.heappush(waiting[nwc], (end, nxt))
            for parked_unit, since in parked[nwc].items():
                tokens[nwc][parked_unit] += 1
                heapq.heappush(events, (max(end, since), nwc, parked_unit, tokens[nwc][parked_unit]))
            parked[nwc].clear()
    if left:
        missing = [flat.op_key[i] for i in range(flat.n) if flat.op_key[i] not in placements][:5]
        raise RuntimeError(f"list scheduler left operations unplaced: {missing}")
    return placements


class _StaticRule:
    """Candidates ranked by a fixed key (smallest first)."""

    def __init__(self, key: Callable[[int], Any]) -> None:
        self.key = key
        self.heap: list[tuple[Any, int]] = []

    def add(self, op: int) -> None:
        heapq.heappush(self.heap, (self.key(op), op))

    def __bool__(self) -> bool:
        return bool(self.heap)

    def pop(self, t: int) -> int:
        return heapq.heappop(self.heap)[1]


class _AtcRule:
    """ATC's ranking at one work center. `logwp`: log(w/p) by operation, p read as atc chose (its processing
    time, the job's work left from it, or a blend); `tau`: the job's due time less its work left. Both are
    worked out once per reading, not per K or per work center."""

    def __init__(self, flat: Flat, k: float, logwp: Sequence[float], tau: Sequence[float]) -> None:
        self.scale = 1.0 / (k * flat.pbar)
        self.logwp = logwp
        self.tau = tau
        self.calm: list[tuple[float, int]] = []  # not yet critical: -(log(w/p) - τ·scale)
        self.by_tau: list[tuple[float, int]] = []
        self.critical: list[tuple[float, int]] = []  # -(log(w/p))
        self.state: dict[int, int] = {}  # op → 1 calm, 2 critical
        self.count = 0

    def add(self, op: int) -> None:
        tau = self.tau[op]
        self.state[op] = 1
        heapq.heappush(self.calm, (tau * self.scale - self.logwp[op], op))
        heapq.heappush(self.by_tau, (tau, op))
        self.count += 1

    def __bool__(self) -> bool:
        return self.count > 0

    def pop(self, t: int) -> int:
        state = self.state
        while self.by_tau and self.by_tau[0][0] <= t:
            _, op = heapq.heappop(self.by_tau)
            if state.get(op) == 1:
                state[op] = 2
                heapq.heappush(self.critical, (-self.logwp[op], op))
        while self.calm and state.get(self.calm[0][1]) != 1:
            heapq.heappop(self.calm)
        while self.critical and state.get(self.critical[0][1]) != 2:
            heapq.heappop(self.critical)
        best_calm = -self.calm[0][0] + t * self.scale if self.calm else -math.inf
        best_critical = -self.critical[0][0] if self.critical else -math.inf
        op = self.calm[0][1] if best_calm > best_critical else self.critical[0][1]
        del state[op]
        self.count -= 1
        return op


def _plan(
    problem: Problem, placements: dict[Any, Placement], *, method: str, engine: str, started: float
) -> Plan:
    return make_plan(problem, placements, method=method, engine=engine, seconds=time.perf_counter() - started)


def edd(problem: Problem) -> Plan:
    """Earliest due date first: the baseline."""
    started = time.perf_counter()
    flat = Flat(problem)
    jobs = problem.jobs
    placements = _run(flat, lambda wc: _StaticRule(lambda op: (jobs[flat.op_job[op]].due, op)))
    return _plan(problem, placements, method="fast", engine="edd", started=started)


def atc(problem: Problem, *, k_values: Sequence[float] | None = None) -> Plan:
    """ATC dispatching, keeping the best plan over a few look-ahead values K and readings of p (chosen per
    plan): the operation's time, the job's work left and, on an overloaded plant, blends of the two. Given
    `k_values`, only those, with the operation's processing time."""
    started = time.perf_counter()
    flat = Flat(problem)
    jobs = problem.jobs
    tau = [jobs[flat.op_job[i]].due - flat.op_rem[i] for i in range(flat.n)]

    def log_ratios(work: Sequence[float]) -> list[float]:
        """log(w/p) by operation for one reading of p: worked out once, not per K or per work center."""
        return [math.log(jobs[flat.op_job[i]].weight / max(work[i], 1e-9)) for i in range(flat.n)]

    by_operation = log_ratios(flat.op_dur)
    usual = k_values
    extra: list[tuple[float, str, list[float]]] = []  # the other readings: (K, name, log(w/p))
    if usual is None:
        usual = ATC_K_VALUES_LARGE if flat.n > LARGE_OPERATIONS else ATC_K_VALUES
        by_work_left = log_ratios(flat.op_rem)
        if flat.n <= LARGE_OPERATIONS:
            remaining: Sequence[float] = ATC_K_VALUES
        elif flat.n <= ATC_REMAINING_FINE_OPERATIONS:
            remaining = ATC_REMAINING_K_VALUES_LARGE
        else:
            remaining = ATC_REMAINING_K_VALUES_HUGE
        extra = [(k, ",work-left", by_work_left) for k in remaining]
    best: Plan | None = None
    tried: dict[str, int] = {}
    capped = False

    def try_rule(k: float, reading: str, logwp: list[float]) -> None:
        nonlocal best

        def rule(wc: int) -> _AtcRule:
            return _AtcRule(flat, k, logwp, tau)

        name = f"k={k}{reading}"
        candidate = _plan(problem, _run(flat, rule), method="fast", engine=f"atc({name})", started=started)
        tried[name] = candidate.weighted_tardiness
        if best is None or candidate.key() < best.key():
            best = candidate

    def in_time() -> bool:
        """The readings past the usual one run only while ATC is under ATC_EXTRA_SECONDS."""
        nonlocal capped
        capped = capped or time.perf_counter() - started > ATC_EXTRA_SECONDS
        return not capped

    for k in usual:
        try_rule(k, "", by_operation)
    for k, reading, logwp in extra:
        if in_time():
            try_rule(k, reading, logwp)
    assert best is not None
    if k_values is None and flat.n <= ATC_REMAINING_FINE_OPERATIONS and _overloaded(flat, best):
        after = [flat.op_rem[flat.op_next[i]] if flat.op_next[i] >= 0 else 0.0 for i in range(flat.n)]
        blend_k = ATC_BLEND_K_VALUES if flat.n <= LARGE_OPERATIONS else ATC_REMAINING_K_VALUES_LARGE
        for share in ATC_BLEND_SHARES:
            blend = log_ratios([flat.op_dur[i] + share * after[i] for i in range(flat.n)])
            for k in blend_k:
                if in_time():
                    try_rule(k, f",work-left:{share}", blend)
    best.seconds = time.perf_counter() - started
    best.details["atc_k_tried"] = tried
    best.details["atc_capped"] = capped
    return best


def _overloaded(flat: Flat, plan: Plan) -> bool:
    """Whether the plan's weighted tardiness per unit of weight is over ATC_OVERLOADED operations' time."""
    weight = sum(job.weight for job in flat.problem.jobs)
    return weight > 0 and plan.weighted_tardiness >= ATC_OVERLOADED * weight * flat.pbar


def decode(problem: Problem, order: dict[Any, float], *, engine: str, started: float) -> Plan:
    """Serial decoding: operations in the given order (e.g. a CP-SAT plan's start times), each at the
    earliest time its predecessor, release and a unit of its work center allow (calendar-exact)."""
    flat = Flat(problem)
    keys = [order.get(flat.op_key[i], 0.0) for i in range(flat.n)]
    placements = serial(flat, keys)
    return _plan(problem, placements, method="optimised", engine=engine, started=started)


def serial(flat: Flat, keys: list[float]) -> dict[Any, Placement]:
    """Serial schedule generation: the (not frozen) operations by ascending key (operation number breaks
    ties), each at the earliest time its predecessor, its release and a unit of its work center allow.
    Precedence wins over the keys: a successor waits for its predecessor."""
    placements: dict[Any, Placement] = {}
    unit_free = [[0] * u for u in flat.units]
    # Frozen operations hold their slots; other work may go before them where it fits (a gap).
    slots: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for op, wc, placement in flat.frozen:
        placements[flat.op_key[op]] = placement
        slots.setdefault((wc, placement.unit), []).append((placement.start, placement.end))
    for held in slots.values():
        held.sort()
    held_centers = {wc for wc, _ in slots}
    ready_at = [0] * flat.n
    for j, first in enumerate(flat.first):
        if first >= 0:
            ready_at[first] = flat.job_ready[j]
    queue = [(keys[first], first) for first in flat.first if first >= 0]
    heapq.heapify(queue)
    op_wc, cals, op_dur, op_next, op_key = flat.op_wc, flat.cals, flat.op_dur, flat.op_next, flat.op_key
    while queue:
        _, op = heapq.heappop(queue)
        wc = op_wc[op]
        cal = cals[wc]
        frees = unit_free[wc]
        best_unit, best_start = 0, -1
        ready = ready_at[op]
        if wc in held_centers:
            best_unit, best_start = earliest_past_frozen(cal, frees, ready, wc, slots, op_dur[op])
        else:
            # next_working is monotone: the earliest start is the earliest unit's, and the first unit free
            # by then is the one the full scan (first unit with the least start) would take.
            best_start = cal.next_working(max(min(frees), ready))
            for unit, free in enumerate(frees):
                if free <= best_start:
                    best_unit = unit
                    break
        end = cal.add_working(best_start, op_dur[op])
        placements[op_key[op]] = Placement(best_unit, best_start, end)
        frees[best_unit] = end
        nxt = op_next[op]
        if nxt >= 0:
            ready_at[nxt] = end
            # A successor is ordered no earlier than its predecessor (stable precedence fix-up).
            heapq.heappush(queue, (max(keys[nxt], keys[op]), nxt))
    return placements


def earliest_past_frozen(
    cal: Any,
    frees: list[int],
    ready: int,
    wc: int,
    slots: dict[tuple[int, int], Any],
    duration: int,
) -> tuple[int, int]:
    """(unit, start) of the earliest start on a work center holding frozen work: each unit's first working
    minute from when it is free and the operation ready, past that unit's frozen slots; the first unit on
    ties. Both decoders (serial here, sequence.py's) place on such a work center through this one rule."""
    best_unit, best_start = 0, -1
    for unit, free in enumerate(frees):
        start = cal.next_working(free if free > ready else ready)
        if (wc, unit) in slots:
            start = past_frozen(cal, slots[(wc, unit)], start, duration)
        if best_start < 0 or start < best_start:
            best_unit, best_start = unit, start
    return best_unit, best_start


def past_frozen(cal: Any, held: list[tuple[int, int]], start: int, duration: int) -> int:
    """The earliest start from `start` whose working minutes overlap none of the frozen slots `held`."""
    for slot_start, slot_end in held:
        if slot_end <= start:
            continue
        if cal.add_working(start, duration) <= slot_start:
            return start
        start = cal.next_working(max(start, slot_end))
    return start
