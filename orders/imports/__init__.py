"""Orders from spreadsheets (.xlsx, .csv) and orders out as CSV/XLSX: what other packages may call.

Inside the package, by purpose: `sheets` (the columns, the template, reading an uploaded file into rows),
`planning` (rows grouped into orders and checked, errors named by row and column), `jobs` (upload, check,
confirm, run, and the progress of a running step; the two long steps run as Celery tasks in
orders/tasks.py), `exports` (the orders export; the table writers are config.tables).
Models: `orders.models` (or `orders.imports.models`).
"""

from orders.imports.exports import orders_export
from orders.imports.jobs import (
    import_job_commit,
    import_job_create,
    import_job_retry,
    import_job_run,
    import_job_stalled,
    import_job_validate,
    jobs_of,
    progress,
)
from orders.imports.sheets import ENCODINGS, FileRejected, RowError, Sheet, read_table, template_file

__all__ = [
    "ENCODINGS",
    "FileRejected",
    "RowError",
    "Sheet",
    "import_job_commit",
    "import_job_create",
    "import_job_retry",
    "import_job_run",
    "import_job_stalled",
    "import_job_validate",
    "jobs_of",
    "orders_export",
    "progress",
    "read_table",
    "template_file",
]
