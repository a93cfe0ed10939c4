"""The one Hypothesis profile of the property tests: derandomized (the same examples on every run and
machine, so a failure reproduces and CI never flakes), bounded (a few seconds per test), no example
database (nothing written under the repository).

`deadline`: an example slower than this fails, so an input that makes a parser crawl (the way to a hang) is
found, not waited for; generous, for a loaded CI machine.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, settings

PROFILE = settings(
    derandomize=True,
    database=None,
    max_examples=60,
    deadline=dt.timedelta(seconds=5),
    print_blob=False,
    # Each test's database, client and fixtures are shared by its examples on purpose: every example is
    # a new message or file against the same state, as in production.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


def examples(count: int) -> settings:
    """The profile with `count` examples."""
    return settings(PROFILE, max_examples=count)
