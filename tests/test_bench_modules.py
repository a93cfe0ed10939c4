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
