"""The optimiser's window search: large-neighbourhood search with small exact CP-SAT models, in lanes.

cpsat.optimise hands it the best plan so far once the whole model's search has had its share (or at once on
large plants); see WindowSearch. Also the stop rule both share (stalled) and the due time on the model's axis
(axis_due).
"""

from __future__ import annotations

import math
import random
import time
from bisect import bisect_left
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from ortools.sat.python import cp_model

from production.scheduling.calendar import Calendar
from production.scheduling.dispatch import decode
from production.scheduling.improve import improve
from production.scheduling.problem import ON_TIME, STOP_DEADLINE, STOP_OPTIMAL, STOP_STALLED, Plan, Problem

# On the on-time objective, a late work order costs this much more than a weighted minute of tardiness.
LATE_JOB_COST = 1_000_000
# A search phase has stalled when it has found nothing better for STALL_SECONDS and for STALL_SHARE of the
# time run so far: it stops by twice the time of its last gain, so at most about half the run finds nothing.
# The window search must also have tried that many neighbourhoods in a row: a third as many as there are
# free operations (a neighbourhood frees 25 of them on average: each one freed about eight times over), at
# most STALL_CALLS. Time alone cannot tell plant sizes apart, and it buys less search on a busy machine:
# on generated plants (60 s) gains came after up to 85 fruitless neighbourhoods at 200 work orders (17 s;
# a third of the free operations: 167) and up to 42 at 50 (112-132 free operations). The 120 calls alone
# (the rule before) took 30-60 s of a 60-s limit on a 20-50-work-order plant that had stopped gaining,
# each call taking up to its WINDOW_SECONDS.
STALL_SECONDS = 5.0
STALL_SHARE = 0.5
STALL_CALLS = 120
# After this many neighbourhoods in a row found nothing the window search restarts (another neighbourhood
# kind, another size, another stream of random choices): at 200 work orders the gains after 60 fruitless
# neighbourhoods came after a restart.
RESTART_CALLS = 60

# Time limit of one window's model: many quick windows beat a few long ones.
WINDOW_SECONDS = 0.5
# The window search's neighbourhood kinds, taken in turn.
NEIGHBOURHOODS = ("window", "window", "work_center", "random")
# Operation-decodings of the local search after each improvement (a third of the fast engine's).
POLISH_BUDGET = 100_000


def axis_due(axis: Calendar, due: int) -> int:
    """A due time on the axis (working minutes); one already past counts the working minutes since."""
    return axis.position(due) if due > 0 else -axis.working_between(due, 0)


def stalled(now: float, *, last: float, started: float) -> bool:
    """Nothing better since `last` for STALL_SECONDS and for STALL_SHARE of the run since `started`."""
    return now - last >= max(STALL_SECONDS, STALL_SHARE * (now - started))


class PlanView:
    """A plan as the window search reads it: its operations' starts on the axis, in start order."""

    def __init__(self, plan: Plan, keys: list[Any], pos: Callable[[int], int]) -> None:
        self.plan = plan
        self.start = {key: pos(plan.placements[key].start) for key in keys}
        self.ordered = sorted(keys, key=lambda key: (self.start[key], str(key)))
        self.index = {key: i for i, key in enumerate(self.ordered)}


class WindowSearch:
    """Large-neighbourhood search with small CP-SAT models: free the operations of one time window of
    the best plan, keep everything else where it is, re-sequence the window optimally, and keep the
    result when the re-timed plan is better.

    Why: on a few hundred operations and more, the global model's own search (2 workers) barely moves
    from the seed within a minute; many small exact sub-problems improve steadily. Windows centre on the
    last operation of a late, heavy work order most of the time, elsewhere at random; their size adapts
    (larger while sub-problems solve to optimality, smaller when they time out). One lane per worker, each
    a thread solving one neighbourhood at a time on one core (CP-SAT leaves Python's lock while it solves);
    a second core in the same model helped a sub-problem of this size little (1,000-work-order plant, 60 s:
    293 neighbourhoods with two cores each, 296 with one).
    """

    def __init__(
        self,
        problem: Problem,
        axis: Calendar,
        stretch: dict[Any, float],
        workers: int,
        started: float,
        *,
        cost: Callable[[Plan], int],
        bound: int,
    ) -> None:
        self.problem = problem
        self.cost = cost  # a plan's objective on the model's scale
        self.bound = bound  # the whole model's lower bound on it: a plan that reaches it is optimal
        self.axis = axis
        self.workers = workers
        self.started = started
        self.size: dict[Any, int] = {}
        self.job_of: dict[Any, Any] = {}
        self.pred: dict[Any, Any] = {}
        self.succ: dict[Any, Any] = {}
        self.last: dict[Any, Any] = {}  # job key → its last operation key
        self.jobs = {job.key: job for job in problem.jobs}
        self.units = {key: spec.units for key, spec in problem.work_centers.items()}
        self.wc: dict[Any, Any] = {}
        self.release: dict[Any, int] = {}
        self.blocked: dict[Any, list[int]] = {}  # work center → ends of frozen blocks (one per unit)
        for job in problem.jobs:
            release = self.pos(job.release)
            previous = None
            for op in job.ops:
                if op.frozen:
                    self.blocked.setdefault(op.work_center, []).append(self.pos(op.frozen_end or 0))
                    release = max(release, self.pos(op.frozen_end or 0))
                    continue
                self.size[op.key] = max(1, math.ceil(op.duration * stretch[op.work_center]))
                self.job_of[op.key] = job.key
                self.wc[op.key] = op.work_center
                self.release[op.key] = release
                if previous is not None:
                    self.pred[op.key] = previous
                    self.succ[previous] = op.key
                previous = op.key
            if previous is not None:
                self.last[job.key] = previous
        self.due = {job.key: axis_due(axis, job.due) for job in problem.jobs}
        self.window = 30
        self.rng = random.Random(11)  # noqa: S311 (reproducible search, not security)
        self.calls = 0
        self.submitted = 0  # neighbourhoods handed to a lane (calls counts those answered)
        self.improvements = 0
        self.restarts = 0
        self.stop_reason = STOP_DEADLINE
        self.kinds: dict[str, int] = {}  # neighbourhood kind → improvements it found
        self.polished = 0  # improvements the local search added after one
        self.on_time = problem.objective == ON_TIME

    def pos(self, t: int) -> int:
        return self.axis.position(max(0, t))

    def run(self, best: Plan, *, deadline: float) -> Plan:
        """The best plan found by `deadline`; self.stop_reason says why it stopped (STOP_DEADLINE, or
        earlier: STOP_STALLED, STOP_OPTIMAL)."""
        keys = list(self.size)
        if len(keys) < 2:
            self.stop_reason = STOP_OPTIMAL  # nothing to re-sequence
            return best
        lanes = max(1, self.workers)
        with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="cp-sat-window") as pool:
            return self._search(best, keys, lanes, pool, deadline)

    def _search(
        self, best: Plan, keys: list[Any], lanes: int, pool: ThreadPoolExecutor, deadline: float
    ) -> Plan:
        """Asynchronous lanes: each solves one neighbourhood at a time and takes the next one as soon as it
        is done (neighbourhoods solve in 0.01 s to WINDOW_SECONDS: lanes that waited for each other would
        idle); a lane's result is laid over the best plan of the moment and kept if the re-timed plan is
        better. Lanes at work cover disjoint stretches of time."""
        last_gain = time.perf_counter()
        fruitless = 0  # neighbourhoods in a row without a gain
        next_restart = RESTART_CALLS
        stall_calls = min(STALL_CALLS, len(keys) // 3)
        pending: dict[Future[tuple[dict[Any, int] | None, bool]], tuple[str, list[Any], tuple[int, int]]] = {}
        view = PlanView(best, keys, self.pos)
        stopping = False
        while True:
            now = time.perf_counter()
            if (
                not stopping
                and fruitless >= stall_calls
                and stalled(now, last=last_gain, started=self.started)
            ):
                self.stop_reason = STOP_STALLED  # it stopped improving: give the cores back
                stopping = True
            if fruitless >= next_restart:
                next_restart += RESTART_CALLS
                self.restarts += 1  # restart: another size, another stream of neighbourhoods
                self.window = 30 + 10 * (self.restarts % 4)
                self.rng.seed(11 + self.restarts)
            while not stopping and len(pending) < lanes and now < deadline - 0.05:
                pick = self._pick(view, [span for _, _, span in pending.values()])
                if pick is None:
                    break
                kind, chosen, span = pick
                limit = min(WINDOW_SECONDS, max(0.05, deadline - now))
                future = pool.submit(self._solve, chosen, view.start, limit, view.plan, 7 + self.submitted)
                self.submitted += 1
                pending[future] = (kind, chosen, span)
            if not pending:
                break
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                kind, chosen, _span = pending.pop(future)
                new_start, optimal = future.result()
                self.calls += 1
                fruitless += 1
                # Grow the neighbourhood while it is solved to optimality, shrink it when it is not.
                self.window = (
                    min(250, int(self.window * 1.1) + 1) if optimal else max(12, int(self.window * 0.8))
                )
                gained = False
                if stopping and self.stop_reason == STOP_OPTIMAL:
                    continue  # nothing better exists: what the other lane brings back is not looked at
                if new_start is not None:
                    order = {key: float(new_start.get(key, view.start[key])) for key in keys}
                    candidate = decode(self.problem, order, engine=f"cp-sat({kind})", started=self.started)
                    if candidate.key() < view.plan.key():
                        self.improvements += 1
                        self.kinds[kind] = self.kinds.get(kind, 0) + 1
                        fruitless, next_restart, gained = 0, RESTART_CALLS, True
                        last_gain = time.perf_counter()
                        view = PlanView(self._polish(candidate, deadline), keys, self.pos)
                if stopping:
                    continue
                if gained and self.cost(view.plan) <= self.bound:
                    self.stop_reason = STOP_OPTIMAL  # the whole model's bound reached: nothing better exists
                    stopping = True
                elif not gained and optimal and len(chosen) == len(keys):
                    # Every free operation was free and the best re-sequencing is no gain: any other
                    # neighbourhood of this plan is a part of that one and cannot do better.
                    self.stop_reason = STOP_OPTIMAL
                    stopping = True
        return view.plan

    def _pick(
        self, view: PlanView, busy: list[tuple[int, int]]
    ) -> tuple[str, list[Any], tuple[int, int]] | None:
        """The next neighbourhood (of the kind next in turn), over a stretch of time no busy lane covers."""
        kind = NEIGHBOURHOODS[self.submitted % len(NEIGHBOURHOODS)]
        for _attempt in range(4 if busy else 1):
            chosen = self._neighbourhood(
                kind, view.ordered, self._centre(view.plan, view.ordered, view.index)
            )
            lo = min(view.start[key] for key in chosen)
            hi = max(view.start[key] + self.size[key] for key in chosen)
            if all(hi <= other_lo or lo >= other_hi for other_lo, other_hi in busy):
                return kind, chosen, (lo, hi)
        return None

    def _polish(self, plan: Plan, deadline: float) -> Plan:
        """The fast engine's local search from a plan the window search improved: a new plan opens moves
        (critical paths changed) that no time window holds; cheap (POLISH_BUDGET decodings), never worse."""
        if time.perf_counter() > deadline - 1.0:
            return plan
        polished = improve(
            self.problem, plan, started=time.perf_counter(), budget_seconds=1.0, budget=POLISH_BUDGET
        )
        if polished.key() < plan.key():
            self.polished += 1
            return polished
        return plan

    def _interval(self, end: int) -> tuple[int, int]:
        """(i, offset): the axis' working interval an end at position `end` falls in (the last one past the
        axis) and what turns a position in it into a wall-clock instant (position + offset), as
        Calendar.at_position does."""
        cum = self.axis.cum
        i = min(len(cum) - 1, max(0, bisect_left(cum, max(1, end)) - 1))
        return i, self.axis.starts[i] - cum[i]

    def _wall_end(
        self, model: cp_model.CpModel, end: cp_model.LinearExpr, lowest: int, highest: int
    ) -> cp_model.LinearExpr:
        """An end on the axis (between `lowest` and `highest`) as a wall-clock instant, what a plan's
        tardiness counts: the position plus its interval's offset, one step per interval boundary it may
        cross."""
        first, offset = self._interval(lowest)
        top, _ = self._interval(highest)
        crossed: list[cp_model.IntVar] = []
        steps: list[int] = []
        for k in range(first + 1, top + 1):
            beyond = model.new_bool_var("")
            boundary = self.axis.cum[k]
            model.add(end >= boundary + 1).only_enforce_if(beyond)
            model.add(end <= boundary).only_enforce_if(beyond.Not())
            crossed.append(beyond)
            steps.append(self._interval(boundary + 1)[1] - self._interval(boundary)[1])
        return end + offset + cp_model.LinearExpr.weighted_sum(crossed, steps)

    def _neighbourhood(self, kind: str, ordered: list[Any], centre: int) -> list[Any]:
        """The operations to free: a time window around `centre`; the operations of the centre's work
        center over a longer stretch (re-sequence one machine); or a random half of a double window
        (relax-and-fix: the rest of the window stays put)."""
        half = self.window // 2
        if kind == "work_center":
            wc = self.wc[ordered[centre]]
            same = [key for key in ordered if self.wc[key] == wc]
            at = same.index(ordered[centre])
            return same[max(0, at - half) : at + half + 1]
        if kind == "random":
            wide = ordered[max(0, centre - 2 * half) : centre + 2 * half + 1]
            chosen = [key for key in wide if self.rng.random() < 0.5]
            return chosen if len(chosen) >= 2 else wide
        return ordered[max(0, centre - half) : centre + half + 1]

    def _centre(self, best: Plan, ordered: list[Any], index: dict[Any, int]) -> int:
        late = [
            (job.weight * (best.job_end[job.key] - job.due), job.key)
            for job in self.problem.jobs
            if best.job_end[job.key] > job.due and job.key in self.last
        ]
        if late and self.rng.random() < 0.75:
            total = sum(weight for weight, _ in late)
            pick = self.rng.uniform(0, total)
            for weight, job_key in late:
                pick -= weight
                if pick <= 0:
                    return index[self.last[job_key]]
        return self.rng.randrange(len(ordered))

    def _solve(
        self, chosen: list[Any], start: dict[Any, int], limit: float, best: Plan, random_seed: int
    ) -> tuple[dict[Any, int] | None, bool]:
        """The neighbourhood `chosen` re-sequenced (new starts on the axis), and whether that is optimal.
        Runs in a lane's thread: reads the search's state, changes none of it."""
        free = set(chosen)
        lo = min(start[key] for key in chosen)
        hi = max(start[key] + self.size[key] for key in chosen)
        model = cp_model.CpModel()
        var: dict[Any, cp_model.IntVar] = {}
        intervals: dict[Any, list[cp_model.IntervalVar]] = {}
        for key in chosen:
            var[key] = model.new_int_var(lo, hi - self.size[key], f"s{key}")
            model.add_hint(var[key], start[key])
            intervals.setdefault(self.wc[key], []).append(
                model.new_fixed_size_interval_var(var[key], self.size[key], f"i{key}")
            )
            model.add(var[key] >= self.release[key])
            pred = self.pred.get(key)
            if pred is not None:
                if pred in free:
                    model.add(var[key] >= var[pred] + self.size[pred])
                else:
                    model.add(var[key] >= start[pred] + self.size[pred])
            succ = self.succ.get(key)
            if succ is not None and succ not in free:
                model.add(var[key] + self.size[key] <= start[succ])
        # Operations outside the window that overlap its span stay put and take their capacity.
        for key, begin in start.items():
            if key in free or self.wc[key] not in intervals:
                continue
            end = begin + self.size[key]
            if begin < hi and end > lo:
                intervals[self.wc[key]].append(
                    model.new_fixed_size_interval_var(begin, self.size[key], f"f{key}")
                )
        for wc, items in intervals.items():
            for unit_end in self.blocked.get(wc, []):
                if unit_end > lo:
                    items.append(model.new_fixed_size_interval_var(0, unit_end, f"b{wc}{unit_end}"))
            if self.units[wc] == 1:
                model.add_no_overlap(items)
            else:
                model.add_cumulative(items, [1] * len(items), self.units[wc])
        terms: list[cp_model.LinearExprT] = []
        for key in chosen:
            job_key = self.job_of[key]
            if self.last[job_key] != key:
                continue
            job = self.jobs[job_key]
            due = self.due[job_key]
            finish = var[key] + self.size[key]
            hint_end = start[key] + self.size[key]
            wall_hi = hi + self._interval(hi)[1]
            if wall_hi > job.due:
                late = model.new_int_var(0, wall_hi - job.due, f"t{key}")
                model.add(late >= self._wall_end(model, finish, lo + self.size[key], hi) - job.due)
                model.add_hint(late, max(0, hint_end + self._interval(hint_end)[1] - job.due))
                terms.append(job.weight * late)
            kept = best.job_end[job_key] <= job.due
            if job.firm and kept:
                model.add(finish <= due)
            if self.on_time:
                is_late = model.new_bool_var(f"l{key}")
                model.add(finish <= due).only_enforce_if(is_late.Not())
                model.add_hint(is_late, hint_end > due)
                terms.append(LATE_JOB_COST * is_late)
        # Weighted tardiness only: the decoder shifts every operation as early as the new order allows.
        model.minimize(sum(terms))
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = limit
        solver.parameters.num_workers = 1  # one core per lane (the lanes run side by side)
        solver.parameters.random_seed = random_seed
        status = solver.solve(model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None, False
        return {key: solver.value(v) for key, v in var.items()}, status == cp_model.OPTIMAL
