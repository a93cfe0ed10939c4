"""The dashboard, import and changes benches are registered and importable (they run with `make bench`,
not here)."""

import importlib

import pytest

from tests.bench.run import BENCHES


@pytest.mark.parametrize("name", ["dashboard", "import", "changes", "promise_materials", "mrp"])
def test_the_bench_is_registered_and_importable(name):
    module_name, _, attr = BENCHES[name].partition(":")

    assert callable(getattr(importlib.import_module(module_name), attr))


def test_the_dashboard_bench_reports_the_p95_of_the_orders100k_case():
    from tests.bench import dashboard

    assert dashboard.percentile([100.0, 200.0, 300.0, 400.0, 500.0], 0.95) == 480.0


def test_the_cpu_watch_keeps_what_a_process_ended_during_the_run_had_used():
    """A database backend past its CONN_MAX_AGE ends mid-run: its CPU up to the last poll still counts."""
    from tests.bench.intake import cpu_spent, cpu_watch

    start = {"db:1": 0.5, "db:2": 4.0}
    readings = iter([{"db:1": 1.0, "db:2": 5.0}, {"db:1": 2.5}, {"db:1": 3.0}])  # backend 2 ends
    answers = iter([False, True])

    seen = cpu_watch(lambda: next(readings), lambda timeout: next(answers), every=0)

    assert cpu_spent(start, seen)["db"] == (3.0 - 0.5) + (5.0 - 4.0)
