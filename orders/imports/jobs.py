"""Import jobs: upload, check, confirm, run; the progress a running step shows.

The flow, each step a service here and a thin Celery task in orders/tasks.py (queued by its name):
 1. import_job_create: the sales person uploads a file; it is checked (size, kind) and stored in the
    ImportJob row, and its validation is queued after commit;
 2. import_job_validate (task): every row is read and checked (orders.imports.sheets, .planning), and each
    error is named by row and column (the row numbers are the spreadsheet's, the header being row 1). Rows
    sharing an external reference are the lines of one order. Orders whose reference was imported before
    are counted and skipped;
 3. import_job_commit: the uploader confirms the preview; the import is queued after commit;
 4. import_job_run (task): every order is created through orders.sales.order_create_many (the rules,
    rows, history and events of order_create, written in bulk) in ONE transaction: any failure leaves
    nothing saved. The external reference is unique, so re-importing the
    same file creates no duplicate (even two imports at once: the second fails on the constraint).

Progress of a running step lives in the shared cache, since the transaction of an import is not visible
to the page polling it until it commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from celery import signature
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config import shared_cache
from config.kernel import Message, define, refused, require, stamp
from config.kernel.errors import ApplicationError, Conflict, ValidationFailed
from orders import sales
from orders.imports.models import ImportJob, ImportJobStatus
from orders.imports.planning import PlannedOrder, new_order, plan_orders
from orders.imports.policies import ADD_IMPORT
from orders.imports.sheets import ENCODINGS, FileRejected, RowError, Sheet, read_sheet, reject_file
from orders.sales.models import SalesOrder

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.db.models import QuerySet

log = logging.getLogger(__name__)

PREVIEW_ORDERS = 20
MAX_ERRORS = 1000
# Orders written per bulk statement; the progress bar moves after each chunk.
CHUNK_ORDERS = 500
# The Celery tasks (orders/tasks.py) that run the two long steps, by their registered names.
VALIDATE_TASK = "orders.import_validate"
RUN_TASK = "orders.import_run"

# The job's history reason for a finished import, read in each reader's language.
IMPORTED_COUNT = define("imports.imported_count", gettext_lazy("Imported %(count)s orders"))


def _progress_key(job_id: int) -> str:
    return f"orders:import:{job_id}:progress"


def progress(job: ImportJob) -> dict[str, Any]:
    """{"done", "total", "phase"}: phase "checking" while an import reads and checks the file again (its
    orders are written after that, in chunks that move `done`)."""
    return shared_cache.get(_progress_key(job.pk)) or {"done": 0, "total": job.rows or 0, "phase": ""}


def _set_progress(job_id: int, done: int, total: int, *, phase: str = "") -> None:
    shared_cache.set(_progress_key(job_id), {"done": done, "total": total, "phase": phase}, 3600)


# The rows the check read, kept for the import of the same file: reading a 10,000-row .xlsx costs seconds,
# and the file cannot change (the key holds its digest). Only the values are kept: the run checks them
# again against the master data of its own time. A lost or unreachable cache just means reading again.
SHEET_KEPT_SECONDS = 86400


def _sheet_key(job: ImportJob) -> str:
    digest = hashlib.sha256(bytes(job.content)).hexdigest()[:32]
    return f"orders:import:{job.pk}:sheet:{digest}"


def _keep_sheet(job: ImportJob, sheet: Sheet) -> None:
    try:
        cache.set(_sheet_key(job), sheet, SHEET_KEPT_SECONDS)
    except Exception:  # the cache is down: the run reads the file again
        log.warning("import job %s: could not keep the rows read", job.pk, exc_info=True)


def _sheet_of(job: ImportJob) -> Sheet:
    """The rows of the job's file: as the check read them if the cache still has them, else read again."""
    try:
        kept = cache.get(_sheet_key(job))
    except Exception:
        log.warning("import job %s: could not fetch the rows read", job.pk, exc_info=True)
        kept = None
    return kept if isinstance(kept, Sheet) else read_sheet(job)


# --- the services --------------------------------------------------------------------------------------
def _enqueue(task_name: str, job_id: int) -> None:
    """Queue a task after commit, by its registered name (orders/tasks.py imports this module)."""

    def send() -> None:
        try:
            signature(task_name).delay(job_id)
        except Exception:  # the broker is down: the job page offers to try again
            log.warning("could not enqueue %s for import job %s", task_name, job_id, exc_info=True)

    transaction.on_commit(send)


@transaction.atomic
def import_job_create(*, actor: User, filename: str, content: bytes, encoding: str = "utf-8") -> ImportJob:
    """Store an uploaded file and queue its validation. Refuses what is obviously not an order file."""
    require(actor, ADD_IMPORT, action="import_job_create", target=filename)
    name = (filename or "").strip()
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ("xlsx", "csv"):
        raise reject_file(_("Upload an .xlsx or a .csv file."))
    if not content:
        raise reject_file(_("The file is empty."))
    if len(content) > settings.IMPORT_MAX_BYTES:
        raise reject_file(
            _("The file is larger than %(size)s MB: split it.")
            % {"size": settings.IMPORT_MAX_BYTES // 1048576}
        )
    if extension == "xlsx" and not content.startswith(b"PK\x03\x04"):
        raise reject_file(_("This is not an Excel (.xlsx) file. Upload an .xlsx or a .csv file."))
    if encoding not in dict(ENCODINGS):
        raise ValidationFailed(
            _("Choose a valid encoding."), fields={"encoding": [_("Choose a valid encoding.")]}
        )
    job = ImportJob(
        created_by=actor, filename=name[:255], file_format=extension, encoding=encoding, content=content
    )
    stamp(job, actor=actor, reason=gettext_lazy("File uploaded"))
    job.save()
    _enqueue(VALIDATE_TASK, job.pk)
    return job


# A file still waiting for its check after this long was probably not queued (the broker was down).
STALLED_AFTER = dt.timedelta(minutes=1)


def import_job_stalled(job: ImportJob) -> bool:
    return job.status == ImportJobStatus.UPLOADED and timezone.now() - job.created_at > STALLED_AFTER


@transaction.atomic
def import_job_retry(*, actor: User, job: ImportJob | int) -> ImportJob:
    """Queue the check of an uploaded file again, when its first queueing was lost. Harmless if it was not:
    the check leaves a job past validation alone."""
    pk = job.pk if isinstance(job, ImportJob) else job
    job = ImportJob.objects.select_for_update().get(pk=pk)
    if not (actor and actor.pk == job.created_by_id):
        raise refused(actor, "import_job_retry", str(job.pk), "not the uploader")
    if not import_job_stalled(job):
        raise Conflict(_("This file's check is under way or done."), code="import_not_stalled")
    _enqueue(VALIDATE_TASK, job.pk)
    return job


def _lock(job_id: int) -> ImportJob | None:
    return ImportJob.objects.select_for_update().filter(pk=job_id).first()


def import_job_validate(*, job_id: int) -> ImportJob | None:
    """Read and check every row; the job becomes valid (with its preview) or invalid (with its errors).

    Idempotent: a job already past validation is left alone. Two deliveries of the task at once both read
    the file (a run that died must be redone, so "validating" is not a claim); the first to finish records
    the result, the other finds the job past validation and leaves it alone.
    """
    with transaction.atomic():
        job = _lock(job_id)
        if job is None or job.status not in (ImportJobStatus.UPLOADED, ImportJobStatus.VALIDATING):
            return job
        job.start_validation()
        job.save(update_fields=["status"])
    _set_progress(job_id, 0, 0)
    try:
        sheet = read_sheet(job)
        _keep_sheet(job, sheet)
        _set_progress(job_id, 0, len(sheet.rows))
        planned, errors = plan_orders(sheet)
    except FileRejected as exc:
        planned, errors, sheet = [], [{"row": 0, "column": "", "message": exc.message}], Sheet([], [])
    except Exception:  # a damaged file can fail deep inside the reader: a clear error, never a stuck job
        log.exception("import job %s: the file could not be read", job_id)
        message = _("The file could not be read. Save it again from Excel as .xlsx or CSV UTF-8.")
        planned, errors, sheet = [], [{"row": 0, "column": "", "message": message}], Sheet([], [])
    with transaction.atomic():
        job = _lock(job_id)
        if job is None or job.status != ImportJobStatus.VALIDATING:
            return job
        job.rows = len(sheet.rows)
        job.errors = errors[:MAX_ERRORS]
        job.orders_new = sum(1 for order in planned if not order.exists)
        job.orders_existing = sum(1 for order in planned if order.exists)
        job.orders_good = len(orders_without_errors(planned, errors))
        job.preview = [_preview(order) for order in planned if not order.exists][:PREVIEW_ORDERS]
        if errors:
            job.mark_invalid()
        elif job.orders_new == 0 and not job.orders_existing:
            job.errors = [{"row": 0, "column": "", "message": _("The file has no order rows.")}]
            job.mark_invalid()
        else:
            job.mark_valid()
        stamp(job, actor=job.created_by, reason=gettext_lazy("File validated"))
        job.save()
    _set_progress(job_id, job.rows, job.rows)
    return job


def _preview(order: PlannedOrder) -> dict[str, Any]:
    return {
        "external_ref": order.external_ref,
        "customer": order.customer.name if order.customer else "",
        "customer_po": order.header.get("customer_po") or "",
        "requested_date": order.header["requested_date"].isoformat()
        if order.header.get("requested_date")
        else "",
        "lines": len(order.lines),
        "rows": order.rows,
    }


def orders_without_errors(planned: list[PlannedOrder], errors: list[RowError]) -> list[PlannedOrder]:
    """The new orders none of whose rows has an error (an order is its rows together: one bad row, and
    the whole order is left out rather than created without that line)."""
    bad_rows = {error["row"] for error in errors}
    return [order for order in planned if not order.exists and not bad_rows.intersection(order.rows)]


@transaction.atomic
def import_job_commit(*, actor: User, job: ImportJob | int, skip_error_rows: bool = False) -> ImportJob:
    """The uploader confirms a valid preview: the import is queued after commit.

    `skip_error_rows`: a file with errors is imported all the same, without the orders that have an error
    (the uploader chose so, seeing them listed); the job keeps those errors for the rows left out.
    """
    pk = job.pk if isinstance(job, ImportJob) else job
    job = ImportJob.objects.select_for_update().get(pk=pk)
    partial = skip_error_rows and job.status == ImportJobStatus.INVALID
    if job.status != ImportJobStatus.VALID and not partial:
        raise Conflict(
            _("This file is %(status)s: it cannot be imported now.") % {"status": job.get_status_display()},
            code="import_not_valid",
        )
    start = job.start_partial_import if partial else job.start_import
    if not start._django_fsm.has_transition_perm(job, job.status, actor):
        raise refused(actor, "import_job_commit", str(job.pk), "not the uploader")
    if partial and not job.has_good_orders():
        raise Conflict(
            _("No order of this file is free of errors: nothing to import."), code="import_not_valid"
        )
    start()
    job.skip_error_rows = partial
    stamp(
        job,
        actor=actor,
        reason=gettext_lazy("Import started without the rows with errors")
        if partial
        else gettext_lazy("Import started"),
    )
    job.save()
    _set_progress(job.pk, 0, job.orders_good if partial else job.orders_new, phase="checking")
    _enqueue(RUN_TASK, job.pk)
    return job


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Create every new order of the file in one transaction (all or nothing). Idempotent per job.

    The file is read and checked again: master data may have changed since the preview.

    Celery delivers at least once (acks_late; a message can come twice): the run claims the job with its
    row lock and holds it, in one transaction with the orders it creates, until the job is done or failed.
    A second delivery waits for that lock, then finds the job no longer importing and does nothing. If the
    first worker died, its transaction rolled back (no order, job still importing) and released the lock:
    the redelivered task does the import. Waiting, not SKIP LOCKED: a skipped run would be lost for good if
    the row was locked for another reason.
    """
    with transaction.atomic():
        job = _lock(job_id)
        if job is None or job.status != ImportJobStatus.IMPORTING:
            return job
        actor = job.created_by
        created: list[str] = []
        errors: list[RowError] = []
        skipped: list[RowError] = []
        try:
            # A savepoint: a failure rolls back every order of the file, and the job keeps its claim to
            # record the failure in this same transaction.
            with transaction.atomic():
                if job.skip_error_rows:
                    # The rules too: an order they refuse is left out like one with a bad value.
                    planned, errors = plan_orders(_sheet_of(job), check_rules=True)
                    todo = orders_without_errors(planned, errors)
                    skipped, errors = errors, []
                else:
                    planned, errors = plan_orders(_sheet_of(job), check_rules=False)
                    if errors:
                        raise ValidationFailed(
                            _("The file has errors since its preview: nothing was imported.")
                        )
                    todo = [order for order in planned if not order.exists]
                    skipped = []
                _set_progress(job_id, 0, len(todo))
                # All or nothing. Progress goes to the shared cache, not to this database connection, so
                # the page polling it sees it while the transaction is still open.
                created = [
                    order.number
                    for order in _create_all(
                        todo,
                        actor=actor,
                        filename=job.filename,
                        progress=lambda done, total: _set_progress(job_id, done, total),
                    )
                ]
        except Exception as exc:
            # Whatever went wrong, the savepoint rolled back: nothing of the file was saved.
            if isinstance(exc, ApplicationError):
                message = exc.message
            elif isinstance(exc, IntegrityError):
                message = _("Another import created some of these orders.")
            else:
                log.exception("import job %s failed", job_id)
                message = _("The import failed: nothing was saved. Try again or ask an administrator.")
            job.errors = [*errors, {"row": getattr(exc, "row", 0), "column": "", "message": message}][
                :MAX_ERRORS
            ]
            job.mark_invalid()
            job.finished_at = timezone.now()
            stamp(job, actor=actor, reason=gettext_lazy("Import failed: nothing was saved"))
            job.save()
            return job
        job.created_order_numbers = created
        job.errors = skipped[:MAX_ERRORS]
        job.mark_done()
        job.finished_at = timezone.now()
        stamp(job, actor=actor, reason=Message(IMPORTED_COUNT, {"count": len(created)}))
        job.save()
    _set_progress(job_id, len(created), len(created))
    try:
        cache.delete(_sheet_key(job))
    except Exception:  # it expires anyway
        log.warning("import job %s: could not forget the rows read", job_id, exc_info=True)
    return job


class RowFailed(ValidationFailed):
    row = 0


def _create_all(
    todo: list[PlannedOrder],
    *,
    actor: User | None,
    filename: str,
    progress: Callable[[int, int], None] | None,
) -> list[SalesOrder]:
    """Every order through orders.sales.order_create_many (one transaction); a refused order names
    its row."""
    try:
        return sales.order_create_many(
            actor=actor,
            orders=[new_order(order, filename=filename) for order in todo],
            chunk_size=CHUNK_ORDERS,
            progress=progress,
        )
    except ApplicationError as exc:
        index = getattr(exc, "index", None)
        if index is None:
            raise
        order = todo[index]
        failure = RowFailed(
            _("Row %(row)s (%(ref)s): %(message)s %(fields)s")
            % {
                "row": order.rows[0],
                "ref": order.external_ref,
                "message": exc.message,
                "fields": "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items()),
            }
        )
        failure.row = order.rows[0]
        raise failure from exc


def jobs_of(user: User) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(created_by=user).defer("content").order_by("-created_at")[:10]
