"""The fast engine's improvement pass: after ATC, a bounded local search on the plan's processing order.

The plan is one processing order of the (not frozen) operations, decoded serially by sequence.Decoder (as
dispatch.serial places them: calendars, finite capacity, precedence, release, frozen slots); a move
re-decodes only from where it changed the order to where the plan is as before, so most moves cost a
fraction of a decoding.

Moves, each kept when the decoded plan is no worse (Plan.key; ties are kept so the search drifts along
plateaus):
- keep a promise: the late firm jobs (quoted promises) go to the front of the order, in due order, before
  anything else (Plan.key counts broken promises first, so no later move breaks one again);
- critical (70 %): a late job, chosen in proportion to its weighted tardiness (on the on-time objective,
  the nearly on time), is followed back along its critical path. Where an operation waited for its unit
  (not for its predecessor or release), it jumps ahead of one of the operations that held the unit, mostly
  the one just before; the path goes on through that operation's own job, so another job's work that
  holds up the late one is moved too. This is the move of job-shop tardiness local search: only the
  critical path can make a job finish earlier;
- advance a late job: its operations earlier in the order by a share of its lateness;
- yield: a job with slack (on the on-time objective, also one late anyway) later in the order;
- swap two neighbouring operations of a critical (most loaded) work center (light plants, where ATC may be
  far off, mostly gain from yield and swap).
The critical move also goes the other way (HOLD_BACK): the operation that held the unit goes after the one
that waited. With it, critical moves at 85 % (they cost the fewest decodings and find most of the gain) and
a budget of 450,000 (300,000 before): 1.8 % less weighted tardiness over 36 plants of 100-400 work orders
(seeds 1-6), none worse by over 0.1 %; 200 work orders, seed 1: 172,552 -> 170,240 (-1.3 %).

Measured against a 120-s CP-SAT run (scheduler bench plants, seeds 1-3): ATC alone is 1.00-1.18 of it at
200 work orders; with the pass 1.00-1.04 (and 1.00-1.06 of the best known on 20 more plants of 100-400).
Large plans (over LARGE_OPERATIONS operations, about 800 work orders) keep ATC's plan: it is within 3 % of
the long search there and a decoding costs tens of milliseconds; only late firm promises are repaired.

Deterministic: the pass spends a fixed budget of operation-decodings (MOVE_BUDGET; each move also costs
MOVE_COST) with a seeded generator, and stops after STALL_MOVES moves without a better plan, so the same
input gives the same plan. The fast plan must come in under a second whatever the machine's load, so a
wall-clock safety cap (FAST_SECONDS, counted from the start of the whole fast solve, ATC included) ends the
pass early as a last resort: the whole fast solve takes about 0.5-0.6 s of CPU at 200-300 work orders and
0.5-0.7 s at 400-700 (ATC's grid included, FULL_BUDGET_OPERATIONS; the least of three runs on session 16's
machine, whose slow minutes read up to 0.9 s), so the cap bites only on a slower or busy machine; then the
plan may differ between runs, and its details say so (improve_capped).
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Sequence

from production.scheduling.dispatch import Flat
from production.scheduling.problem import ON_TIME, Plan, Problem, make_plan
from production.scheduling.sequence import Decoded, Decoder

# Operation-decodings the pass may spend (a re-decoded suffix of k operations costs k, about a microsecond):
# measured on generated plants of 100-400 work orders, 300,000 leaves 1-5 % to a long search where 200,000
# left up to 6 % and 150,000 up to 10 %. Raised to 450,000 with the critical moves' larger share (session 15:
# 0.35-0.45 s of CPU at 200-400 work orders with ATC, 0.25-0.32 s before): with the old moves 300,000 had
# found its plan on most loaded plants (200 work orders, seed 1: 600,000 found the same); the new moves keep
# finding gains.
MOVE_BUDGET = 450_000
# Above this many operations (about 500 work orders) the budget stays at 300,000: a decoding there costs more
# (0.55-0.65 s of CPU at 700 work orders with 450,000, against the then 0.8-s cap) for 0.3 % less tardiness.
FULL_BUDGET_OPERATIONS = 1200
MOVE_BUDGET_ABOVE = 300_000
MAX_MOVES = 5000
# What choosing and building a move costs, in operation-decodings (so small plans do not spin for long).
MOVE_COST = 20
# After this many moves in a row without a better plan, the search starts again from ATC's plan (with the
# promises kept) on another random path, keeping the best plan found; after MAX_RESTARTS, the pass ends.
# Light plants stall early, and there one path may miss what another finds (measured: 1 path in 4 ends
# 20 % above the best on one 200-work-order plant); loaded plants spend their budget on one path.
STALL_MOVES = 800
MAX_RESTARTS = 3
# Firm promises repaired per plan (each costs a decoding): a few new orders arrive between two plans.
MAX_REPAIRS = 12
# Large plans: ATC alone is within a few percent of a long search there (bench `scheduler`), and a decoding
# costs 20-50 ms: no moves, only the firm promises' repairs. (Measured again with dispatch's finer K grid: at
# 1,000 work orders the pass saved 0.3-0.8 % for 0.4-0.55 s more CPU on every replan: not kept.)
LARGE_OPERATIONS = 2000
# 0.8 s until ATC's grid grew (dispatch.ATC_BLEND_SHARES): at 400 work orders the cap then bit on a quiet
# machine (the plan differed between two runs); the fast plan stays under a second.
FAST_SECONDS = 0.9
# Shares of the moves (cumulative): critical, advance, yield; the rest swaps on a critical work center.
# Critical moves cost the fewest decodings (about 50 at 200 work orders, where a yield costs 300 and a swap
# 130) and find most of the gain (measured on 200-400 work orders: 70-90 % of it): most of the budget goes
# to them.
CRITICAL_SHARE, ADVANCE_SHARE, YIELD_SHARE = 0.85, 0.87, 0.93
# Shares of its lateness by which an advance moves a late job (far steps: a job late at a light plant's tail
# may need all its operations much earlier at once).
ADVANCE_STEPS = (0.25, 0.5, 1.0, 1.5, 3.0)
# How many of the operations that held a unit a critical operation may jump at once.
JUMP_DEPTH = 5
# How far back a late job's critical path is followed (operations).
PATH_STEPS = 40
# Share of critical moves that take the smallest step (the latest operation past the one just before it).
NEAREST = 0.6
# Share of critical moves that put the operation that held the unit after the waiting one (its successors
# with it) rather than the waiting one before it (the module's doc says what it gained; 0.5 was worse).
HOLD_BACK = 0.3


Move = tuple[list[int], int, int]  # the new order, and the positions [since, until) where it differs


def _move_earlier(decoder: Decoder, cur: Decoded, ops: Sequence[int], target: int) -> Move:
    """`ops` (one job's, in routing order) placed together before position `target`, with any of their
    predecessors that came later: precedence kept."""
    pos = cur.positions(decoder.flat.n)
    moving: list[int] = []
    seen: set[int] = set()
    for op in ops:
        chain = []
        p = decoder.pred[op]
        while p >= 0 and pos[p] >= target and p not in seen:
            chain.append(p)
            p = decoder.pred[p]
        for q in reversed(chain):
            seen.add(q)
            moving.append(q)
        if op not in seen and pos[op] >= target:
            seen.add(op)
            moving.append(op)
    if not moving:
        return cur.order, len(cur.order), len(cur.order)
    moving.sort(key=lambda op: pos[op])  # routing order is the order they had
    order = cur.order
    rest = [op for op in order[target:] if op not in seen]
    return order[:target] + moving + rest, target, pos[moving[-1]] + 1


def _move_later(decoder: Decoder, cur: Decoded, ops: Sequence[int], target: int) -> Move:
    """`ops` (one job's) placed together after position `target`, with any of their successors that came
    before it: precedence kept."""
    flat = decoder.flat
    pos = cur.positions(flat.n)
    moving: set[int] = set()
    for op in ops:
        x = op
        while x >= 0 and pos[x] <= target:
            moving.add(x)
            x = flat.op_next[x]
    if not moving:
        return cur.order, len(cur.order), len(cur.order)
    first = min(pos[op] for op in moving)
    order = cur.order
    ahead = [op for op in order[first : target + 1] if op not in moving]
    tail = sorted(moving, key=lambda op: pos[op])
    return order[:first] + ahead + tail + order[target + 1 :], first, target + 1


def improve(
    problem: Problem,
    plan: Plan,
    *,
    started: float,
    budget_seconds: float = FAST_SECONDS,
    budget: int | None = None,
) -> Plan:
    """The plan improved by the bounded local search; `started` is when the fast solve began (perf_counter),
    `budget_seconds` the wall-clock cap on the whole solve (a last resort, see the module's doc) and `budget`
    the operation-decodings it may spend (by default MOVE_BUDGET, MOVE_BUDGET_ABOVE on larger plans)."""
    operations = sum(len(job.ops) for job in problem.jobs)
    if operations > LARGE_OPERATIONS and not any(
        job.firm and plan.job_end[job.key] > job.due for job in problem.jobs
    ):
        return plan  # large, and no promise to repair: ATC's plan as it is
    flat = Flat(problem)
    if flat.n - len(flat.frozen) < 2:
        return plan
    large = flat.n > LARGE_OPERATIONS
    if budget is None:
        budget = MOVE_BUDGET if flat.n <= FULL_BUDGET_OPERATIONS else MOVE_BUDGET_ABOVE
    deadline = started + budget_seconds
    rng = random.Random(len(problem.jobs) * 7919 + flat.n)  # noqa: S311 (reproducible, not security)
    decoder = Decoder(problem, flat)
    jobs = problem.jobs
    on_time = problem.objective == ON_TIME
    cur = decoder.decode(decoder.initial_order(plan))
    stalled = 0  # moves since the last better plan

    best = cur

    def attempt(order: list[int], since: int, until: int) -> None:
        """Decode `order` (as `cur`'s but at positions [since, until)) and go on from it when it is no worse
        (ties too, so the search can drift along a plateau)."""
        nonlocal cur, best, stalled
        if order is cur.order:
            return
        candidate = decoder.decode(order, since=since, until=until, base=cur)
        if candidate.key <= cur.key:
            cur = candidate
            if cur.key < best.key:
                best, stalled = cur, 0

    # Promises first: each late firm job to the front, in due order.
    firm_late = sorted(
        (j for j, job in enumerate(jobs) if job.firm and cur.job_end[j] > job.due),
        key=lambda j: jobs[j].due,
    )[:MAX_REPAIRS]
    for rank in range(len(firm_late)):
        if time.perf_counter() >= deadline and rank:
            break  # the first promise is always repaired; the others when time allows
        frozen = decoder.frozen_ops
        front = [op for j in firm_late[: rank + 1] for op in decoder.job_ops[j] if op not in frozen]
        chosen = set(front)
        attempt(front + [op for op in cur.order if op not in chosen], 0, len(cur.order))
    critical = _critical_centers(flat)
    if large:
        budget = 0
    used = 0
    capped = False
    restarts = 0
    start = cur
    while decoder.spent < budget and used < MAX_MOVES:
        if time.perf_counter() >= deadline:
            capped = True
            break
        if stalled >= STALL_MOVES:
            # A local optimum: search again from the start (the generator has moved on: another path).
            if restarts >= MAX_RESTARTS:
                break
            restarts += 1
            stalled = 0
            cur = start
        used += 1
        stalled += 1
        decoder.spent += MOVE_COST
        kind = rng.random()
        if kind < CRITICAL_SHARE:
            late = _pick_late(decoder, cur, rng, on_time=on_time)
            if late is None:
                break
            move = _critical_move(decoder, cur, late, rng)
            if move is None:
                move = _advance(decoder, cur, late, rng)
        elif kind < ADVANCE_SHARE:
            late = _pick_late(decoder, cur, rng, on_time=on_time)
            if late is None:
                break
            move = _advance(decoder, cur, late, rng)
        elif kind < YIELD_SHARE and on_time and rng.random() < 0.5:
            # On-time rate: one work order (not a promise) gives way to the end, so others make it.
            j = rng.randrange(len(jobs))
            if jobs[j].firm:
                continue
            ops = [op for op in decoder.job_ops[j] if op not in decoder.frozen_ops]
            if not ops:
                continue
            move = _move_later(decoder, cur, ops[:1], len(cur.order) - 1)
        elif kind < YIELD_SHARE:
            giving = _pick_yield(decoder, cur, rng, on_time=on_time)
            if giving is None:
                continue
            move = _yield(decoder, cur, giving, rng)
        else:
            move = _swap_on(decoder, cur, critical, rng)
        if move is not None:
            attempt(*move)
    details = {
        **plan.details,
        "improve_moves": used,
        "improve_capped": capped,
        "improve_decoded": decoder.spent,
        "improve_restarts": restarts,
    }
    if best.key < plan.key():
        result = make_plan(problem, decoder.placements(best), method=plan.method, engine=f"{plan.engine}+ls")
    else:
        result = plan
    result.details = details
    result.seconds = time.perf_counter() - started
    return result


def _critical_move(decoder: Decoder, cur: Decoded, j: int, rng: random.Random) -> Move | None:
    """Job j's critical path followed back from its last operation: where an operation waited for its unit
    (not for its predecessor or its release), the moves that put it before one of the operations that held
    that unit, or that operation after it (_jump); the path goes on through the operation that held it
    (another job's: moving that one earlier frees the unit sooner), otherwise through the predecessor."""
    end, start, uprev = cur.end, cur.start, cur.uprev
    pred, ready_first, waited = decoder.pred, decoder.ready_first, decoder.waited
    candidates: list[tuple[int, int]] = []
    nearest = rng.random() < NEAREST  # the first jump found will do
    hold_back = rng.random() < HOLD_BACK  # the holder goes after the waiting operation instead
    op = decoder.job_last[j]
    steps = 0
    while op >= 0 and steps < PATH_STEPS:
        steps += 1
        p = pred[op]
        ready = end[p] if p >= 0 else ready_first[op]
        nxt = p
        if waited(op, ready, start[op]):
            # The operations before it on its unit that still ran after it was ready held it up.
            other = uprev[op]
            if other >= 0:
                nxt = other
            found = 0
            while other >= 0 and found < JUMP_DEPTH and end[other] > ready:
                if nearest:
                    return _jump(decoder, cur, op, other, hold_back=hold_back)
                candidates.append((op, other))
                found += 1
                other = uprev[other]
        op = nxt
    if not candidates:
        return None
    op, other = candidates[rng.randrange(len(candidates))]
    return _jump(decoder, cur, op, other, hold_back=hold_back)


def _jump(decoder: Decoder, cur: Decoded, op: int, other: int, *, hold_back: bool) -> Move:
    """Operation `op` before `other` (which held its unit) in the order, or (`hold_back`) `other` after
    `op`. Both swap the pair; they differ in the operations between the two: moving `op` earlier puts them
    after it, moving `other` later leaves them before it (and its successors that came before `op` go
    with it)."""
    pos = cur.positions(decoder.flat.n)
    if hold_back:
        return _move_later(decoder, cur, [other], pos[op])
    return _move_earlier(decoder, cur, [op], pos[other])


def _advance(decoder: Decoder, cur: Decoded, j: int, rng: random.Random) -> Move | None:
    """Each of job j's operations earlier in the order, to where operations start a share of the job's
    lateness before it (each in its own stretch of the plan, as a shift of the job's start times)."""
    lateness = cur.job_end[j] - decoder.due[j]
    return _shift(decoder, cur, j, -decoder.minutes(lateness * rng.choice(ADVANCE_STEPS) + 1))


def _yield(decoder: Decoder, cur: Decoded, j: int, rng: random.Random) -> Move | None:
    """Each of job j's operations later in the order, by a share of its slack (an hour at least)."""
    room = max(60, decoder.due[j] - cur.job_end[j])
    return _shift(decoder, cur, j, decoder.minutes(room * rng.choice((0.25, 0.5, 1.0)) + 1))


def _shift(decoder: Decoder, cur: Decoded, j: int, shift: float) -> Move | None:
    """Job j's operations moved in the order to where the plan's operations start `shift` (decoder time)
    from their own start; precedence kept (a successor stays after its predecessor)."""
    ops = [op for op in decoder.job_ops[j] if op not in decoder.frozen_ops]
    if not ops:
        return None
    order, start = cur.order, cur.start
    pos = cur.positions(decoder.flat.n)
    top = len(order) - 1
    targets: list[float] = []
    for op in ops:
        goal = start[op] + shift
        at = pos[op]
        if shift < 0:
            while at > 0 and start[order[at - 1]] > goal:
                at -= 1
            target = at - 0.5
        else:
            while at < top and start[order[at + 1]] <= goal:
                at += 1
            target = at + 0.5
        if targets and target <= targets[-1]:
            target = targets[-1] + 1e-3  # after its predecessor
        targets.append(target)
    moved = dict(zip(ops, targets, strict=True))
    since = min(min(pos[op] for op in ops), int(min(targets) + 0.5))
    until = max(max(pos[op] for op in ops), int(max(targets) + 0.5)) + 1
    if all(abs(moved[op] - pos[op]) < 0.75 for op in ops):
        return None
    window = sorted(order[since:until], key=lambda op: (moved.get(op, pos[op]), op in moved))
    return [*order[:since], *window, *order[until:]], since, until


def _swap_on(decoder: Decoder, cur: Decoded, critical: list[int], rng: random.Random) -> Move | None:
    """An operation of a critical work center and the next one of the same center, swapped in the order."""
    if not critical:
        return None
    flat = decoder.flat
    wc = critical[rng.randrange(len(critical))]
    order = cur.order
    at = rng.randrange(len(order))
    while at < len(order) and flat.op_wc[order[at]] != wc:
        at += 1
    nxt = at + 1
    while nxt < len(order) and flat.op_wc[order[nxt]] != wc:
        nxt += 1
    if nxt >= len(order):
        return None
    return _move_earlier(decoder, cur, [order[nxt]], at)


def _critical_centers(flat: Flat) -> list[int]:
    load = [0.0] * len(flat.units)
    for i in range(flat.n):
        load[flat.op_wc[i]] += flat.op_dur[i] / flat.units[flat.op_wc[i]]
    if not load:
        return []
    top = max(load)
    return [wc for wc, value in enumerate(load) if value >= 0.7 * top]


def _pick_late(decoder: Decoder, cur: Decoded, rng: random.Random, *, on_time: bool) -> int | None:
    if cur.late is None:
        late = [
            (j, end - due, weight)
            for j, (end, due, weight) in enumerate(zip(cur.job_end, decoder.due, decoder.weight, strict=True))
            if end > due and decoder.job_last[j] >= 0
        ]
        if on_time:
            # The nearly on time are the ones a small move saves.
            weights = [1.0 / (1.0 + lateness / 60.0) for _, lateness, _ in late]
        else:
            weights = [float(weight * lateness) for _, lateness, weight in late]
        # Cumulative weights, as random.choices works them out from weights: the same draw, once per plan.
        cur.late = ([j for j, _, _ in late], list(itertools.accumulate(weights)))
    jobs, cumulative = cur.late
    if not jobs:
        return None
    return rng.choices(jobs, cum_weights=cumulative)[0]


def _pick_yield(decoder: Decoder, cur: Decoded, rng: random.Random, *, on_time: bool) -> int | None:
    if on_time and rng.random() < 0.5:
        hopeless = [
            j
            for j, (end, due) in enumerate(zip(cur.job_end, decoder.due, strict=True))
            if end - due > 8 * 60 and not decoder.firm[j] and decoder.job_last[j] >= 0
        ]
        if hopeless:
            return hopeless[rng.randrange(len(hopeless))]
    slack = [
        j
        for j, (end, due) in enumerate(zip(cur.job_end, decoder.due, strict=True))
        if end < due and decoder.job_last[j] >= 0
    ]
    if not slack:
        return None
    return slack[rng.randrange(len(slack))]
