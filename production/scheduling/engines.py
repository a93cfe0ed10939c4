"""One interface, two engines.

    plan = solve(problem, method="fast")                      # ATC + a bounded local search, < 1 s
    plan = solve(problem, method="optimised", time_limit=60)  # CP-SAT seeded with the fast plan

Both return a `Plan` whose placements honour finite capacity, parallel units, routing precedence,
calendars, release times and frozen (started) operations. The optimising engine never returns a plan
worse than its seed. Pure Python apart from OR-Tools.
"""

from __future__ import annotations

import time

from production.scheduling.dispatch import atc, edd
from production.scheduling.improve import improve
from production.scheduling.problem import Plan, Problem


def solve(
    problem: Problem,
    *,
    method: str = "fast",
    time_limit: float = 60.0,
    workers: int = 2,
    local_search: bool = True,
) -> Plan:
    """`local_search` False: the fast plan is ATC's alone (no improvement pass; firm promises unrepaired)."""
    problem.validate()
    if method == "edd":
        return edd(problem)
    started = time.perf_counter()
    seed = atc(problem)
    if local_search:
        seed = improve(problem, seed, started=started)
    if method == "fast":
        return seed
    if method == "optimised":
        from production.scheduling.cpsat import optimise  # OR-Tools loads only when asked for

        return optimise(problem, seed=seed, time_limit=time_limit, workers=workers)
    raise ValueError(f"unknown scheduling method {method!r}")
