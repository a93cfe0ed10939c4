"""Import bench: a spreadsheet of 10,000 order rows validated (preview) and imported all-or-nothing.

Usage:
    python -m tests.bench.run --bench import [--quick]

Creates a database of its own for the run (`<name of BENCH_IMPORT_DATABASE_URL>_<pid>_<time>`, default
name orderbridge_bench_import; dropped at the end, and no other), migrates it, then in a `manage.py shell`
process makes a sales user, customers and products through the services, writes an .xlsx of N rows (one
single-line order per row, spec values included; BENCH_IMPORT_ROWS, 10000, --quick 500), and runs the same
service calls as the Celery tasks: import_job_create, import_job_validate, import_job_commit, import_job_run.

Metrics (case rowsN): wall-clock validate_seconds, import_seconds, total_seconds (the target is under 30 s
on a quiet machine; the load average goes with them), CPU of this process plus its PostgreSQL backend
(/proc, local server only) validate_cpu_seconds, import_cpu_seconds, total_cpu_seconds, db_cpu_seconds,
and orders_created. BENCH_IMPORT_PROFILE=<file> writes a cProfile of both phases there.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterator

from tests.bench.dashboard import backend_cpu
from tests.bench.intake import SPEC_SCHEMA, recreate_database, shell_in_database

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

    profile_to = os.environ.get("BENCH_IMPORT_PROFILE", "")
    profiler = None
    if profile_to:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    backend = _backend_pid()

    def db_cpu() -> float:
        return backend_cpu(backend) or 0.0

    started, cpu_started, db_started = time.perf_counter(), time.process_time(), db_cpu()
    job = imports.import_job_create(actor=sales, filename="bench.xlsx", content=buffer.getvalue())
    job = imports.import_job_validate(job_id=job.pk)
    validated, cpu_validated, db_validated = time.perf_counter(), time.process_time(), db_cpu()
    assert job.status == "valid", job.errors[:5]
    imports.import_job_commit(actor=sales, job=job)
    job = imports.import_job_run(job_id=job.pk)
    done, cpu_done, db_done = time.perf_counter(), time.process_time(), db_cpu()
    assert job.status == "done", job.errors[:5]
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile_to)
    print(
        json.dumps(
            {
                "validate_seconds": round(validated - started, 2),
                "import_seconds": round(done - validated, 2),
                "total_seconds": round(done - started, 2),
                "validate_cpu_seconds": round(cpu_validated - cpu_started + db_validated - db_started, 2),
                "import_cpu_seconds": round(cpu_done - cpu_validated + db_done - db_validated, 2),
                "total_cpu_seconds": round(cpu_done - cpu_started + db_done - db_started, 2),
                "db_cpu_seconds": round(db_done - db_started, 2),
                "orders_created": SalesOrder.objects.count(),
                "bytes": len(buffer.getvalue()),
            }
        )
    )


def _backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def run(*, quick: bool = False) -> Iterator[dict]:
    rows = int(os.environ.get("BENCH_IMPORT_ROWS", "500" if quick else "10000"))
    url = recreate_database(os.environ.get("BENCH_IMPORT_DATABASE_URL", DEFAULT_DATABASE_URL))
    result = shell_in_database(url, f"from tests.bench.imports import measure; measure({rows})")
    case = f"rows{rows}"
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    for metric in ("validate_seconds", "import_seconds", "total_seconds"):
        yield {"case": case, "metric": metric, "value": result[metric], "unit": "s", "load": load}
    for metric in ("validate_cpu_seconds", "import_cpu_seconds", "total_cpu_seconds", "db_cpu_seconds"):
        yield {"case": case, "metric": metric, "value": result[metric], "unit": "s"}
    yield {"case": case, "metric": "orders_created", "value": result["orders_created"], "unit": "orders"}
