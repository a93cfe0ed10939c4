"""Import bench: a spreadsheet of 10,000 order rows validated (preview) and imported all-or-nothing.

Usage:
    python -m tests.bench.run --bench import [--quick]

Re-creates the database of BENCH_IMPORT_DATABASE_URL (postgres://postgres@127.0.0.1:5432/
orderbridge_bench_import), migrates it, then in a `manage.py shell` process makes a sales user, customers and
products through the services, writes an .xlsx of N rows (one single-line order per row, spec values
included; BENCH_IMPORT_ROWS, 10000, --quick 500), and runs the same service calls as the Celery tasks:
import_job_create, import_job_validate, import_job_commit, import_job_run.

Metrics (case rowsN): validate_seconds, import_seconds, total_seconds (the target is under 60 s), and
orders_created.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.bench.intake import SPEC_SCHEMA, manage, recreate_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/orderbridge_bench_import"


def measure(rows: int) -> None:
    """Run inside `manage.py shell`: build the file, validate and import it, print the timings as JSON."""
    import datetime as dt

    import openpyxl
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from orders import catalog as services
    from orders import imports
    from orders.models import SalesOrder

    users = get_user_model().objects
    admin = users.create_user("bench-import-admin", None, None)
    admin.groups.add(Group.objects.get(name="admin"))
    sales = users.create_user("bench-import-sales", None, None)
    sales.groups.add(Group.objects.get(name="sales"))
    customers = [
        services.customer_create(actor=admin, code=f"IC{n:03d}", name=f"Import customer {n}").code
        for n in range(50)
    ]
    family = services.product_family_create(actor=admin, code="IMP", name="Panels", spec_schema=SPEC_SCHEMA)
    skus = [
        services.product_create(actor=admin, sku=f"IP-{n:03d}", name=f"Panel {n}", family=family).sku
        for n in range(20)
    ]
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Orders")
    sheet.append(
        [
            "external_ref",
            "customer_code",
            "customer_po",
            "requested_date",
            "sku",
            "quantity",
            "spec.material",
            "spec.thickness_mm",
            "spec.finish",
        ]
    )
    requested = timezone.localdate() + dt.timedelta(days=30)
    for n in range(rows):
        sheet.append(
            [
                f"BENCH-{n:06d}",
                customers[n % 50],
                f"PO-{n}",
                requested,
                skus[n % 20],
                1 + n % 50,
                ("steel", "aluminium", "stainless")[n % 3],
                1 + n % 10,
                "powder",
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)

    started = time.perf_counter()
    job = imports.import_job_create(actor=sales, filename="bench.xlsx", content=buffer.getvalue())
    job = imports.import_job_validate(job_id=job.pk)
    validated = time.perf_counter()
    assert job.status == "valid", job.errors[:5]
    imports.import_job_commit(actor=sales, job=job)
    job = imports.import_job_run(job_id=job.pk)
    done = time.perf_counter()
    assert job.status == "done", job.errors[:5]
    print(
        json.dumps(
            {
                "validate_seconds": round(validated - started, 2),
                "import_seconds": round(done - validated, 2),
                "total_seconds": round(done - started, 2),
                "orders_created": SalesOrder.objects.count(),
                "bytes": len(buffer.getvalue()),
            }
        )
    )


def run(*, quick: bool = False) -> Iterator[dict]:
    url = os.environ.get("BENCH_IMPORT_DATABASE_URL", DEFAULT_DATABASE_URL)
    rows = int(os.environ.get("BENCH_IMPORT_ROWS", "500" if quick else "10000"))
    url = recreate_database(url)
    with tempfile.TemporaryDirectory(prefix="orderbridge-bench-") as var_dir:
        env = dict(os.environ)
        env.update(
            ORDERBRIDGE_ENV="development",
            DEBUG="false",
            DATABASE_URL=url,
            ORDERBRIDGE_VAR_DIR=var_dir,
            LOG_LEVEL="WARNING",
        )
        (Path(var_dir) / "static").mkdir()
        manage(env, "migrate", "--noinput", "--verbosity=0")
        code = f"from tests.bench.imports import measure; measure({rows})"
        result = json.loads(manage(env, "shell", "--no-startup", "-c", code).strip().splitlines()[-1])
    case = f"rows{rows}"
    for metric in ("validate_seconds", "import_seconds", "total_seconds"):
        yield {"case": case, "metric": metric, "value": result[metric], "unit": "s"}
    yield {"case": case, "metric": "orders_created", "value": result["orders_created"], "unit": "orders"}
