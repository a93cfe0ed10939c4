"""Orders from spreadsheets (.xlsx, .csv): template, upload, row-by-row preview, all-or-nothing import.

The flow, each step a service here and a thin Celery task in orders/tasks.py:
 1. import_job_create: the sales person uploads a file; it is checked (size, kind) and stored in the
    ImportJob row, and its validation is queued after commit;
 2. import_job_validate (task): every row is read and checked, and each error is named by row and column
    (the row numbers are the spreadsheet's, the header being row 1). Rows sharing an external reference are
    the lines of one order. Orders whose reference was imported before are counted and skipped;
 3. import_job_commit: the uploader confirms the preview; the import is queued after commit;
 4. import_job_run (task): every order is created through orders.sales.order_create_many (the rules,
    rows, history and events of order_create, written in bulk) in ONE transaction: any failure leaves
    nothing saved. The external reference is unique, so re-importing the
    same file creates no duplicate (even two imports at once: the second fails on the constraint).

Progress of a running step lives in the shared cache, since the transaction of an import is not visible
to the page polling it until it commits.

Malformed files get one clear error and nothing is saved: not a spreadsheet, a zip bomb, more rows than
IMPORT_MAX_ROWS, a file over IMPORT_MAX_BYTES, text that is not in the chosen encoding, missing or unknown
columns, formulas (a spreadsheet's formulas are not data we can trust: their cached values may be stale).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, TypedDict

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.kernel import refused, require, stamp
from config.kernel.errors import ApplicationError, Conflict, ValidationFailed
from orders import sales
from orders.catalog import spec_fields
from orders.catalog.models import Customer, Product, ProductFamily
from orders.imports.exports import XLSX_CONTENT_TYPE
from orders.imports.models import ImportJob, ImportJobStatus
from orders.imports.policies import ADD_IMPORT
from orders.sales.models import SalesOrder

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.db.models import QuerySet

log = logging.getLogger(__name__)

# Column key -> what it holds. Spec attributes follow as "spec.<attribute>".
COLUMNS = {
    "external_ref": gettext_lazy(
        "Your reference of the order (required; rows with the same one are its lines)"
    ),
    "customer_code": gettext_lazy("Customer code (required)"),
    "customer_po": gettext_lazy("Customer PO"),
    "crm_id": gettext_lazy("CRM id"),
    "requested_date": gettext_lazy("Requested date (YYYY-MM-DD)"),
    "promised_date": gettext_lazy("Promised date (YYYY-MM-DD)"),
    "priority": gettext_lazy("Priority 1-4 (empty: the customer's tier decides)"),
    "priority_reason": gettext_lazy("Why the priority differs from the tier"),
    "remarks": gettext_lazy("Remarks"),
    "sku": gettext_lazy("Product SKU (required)"),
    "quantity": gettext_lazy("Quantity (required)"),
    "line_due_date": gettext_lazy("Line due date (YYYY-MM-DD)"),
}
REQUIRED = ("external_ref", "customer_code", "sku", "quantity")
ORDER_COLUMNS = (
    "customer_code",
    "customer_po",
    "crm_id",
    "requested_date",
    "promised_date",
    "priority",
    "priority_reason",
    "remarks",
)
SPEC_PREFIX = "spec."
ENCODINGS = (("utf-8", gettext_lazy("UTF-8 (Excel: CSV UTF-8)")), ("gb18030", gettext_lazy("GB18030 / GBK")))
PREVIEW_ORDERS = 20
MAX_ERRORS = 1000
# Orders written per bulk statement; the progress bar moves after each chunk.
CHUNK_ORDERS = 500
# An .xlsx is a zip: refuse one that would unpack to far more than it weighs (a zip bomb).
MAX_UNPACKED_RATIO = 100


def _progress_key(job_id: int) -> str:
    return f"orders:import:{job_id}:progress"


def progress(job: ImportJob) -> dict[str, Any]:
    """{"done", "total", "phase"}: phase "checking" while an import reads and checks the file again (its
    orders are written after that, in chunks that move `done`)."""
    return cache.get(_progress_key(job.pk)) or {"done": 0, "total": job.rows or 0, "phase": ""}


def _set_progress(job_id: int, done: int, total: int, *, phase: str = "") -> None:
    cache.set(_progress_key(job_id), {"done": done, "total": total, "phase": phase}, 3600)


# --- the template --------------------------------------------------------------------------------------
def spec_columns() -> list[tuple[str, ProductFamily, dict]]:
    """(column, family, attribute) for every spec attribute of every family, in family order."""
    columns = []
    for family in ProductFamily.objects.order_by("code"):
        for attribute in spec_fields(family.spec_schema or {}):
            columns.append((f"{SPEC_PREFIX}{attribute['name']}", family, attribute))
    return columns


def template_headers() -> list[str]:
    headers = list(COLUMNS)
    for column, _family, _attribute in spec_columns():
        if column not in headers:
            headers.append(column)
    return headers


def _example_row(headers: list[str]) -> list[Any]:
    product = Product.objects.filter(is_active=True).select_related("family").order_by("sku").first()
    customer = Customer.objects.filter(is_active=True).order_by("code").first()
    example = {
        "external_ref": "PO-4711-1",
        "customer_code": customer.code if customer else "C0001",
        "customer_po": "PO-4711",
        "requested_date": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
        "sku": product.sku if product else "SKU-00001",
        "quantity": 10,
    }
    if product:
        for attribute in spec_fields(product.family.spec_schema or {}):
            value = (attribute["enum"] or [None])[0]
            if value is None and attribute["type"] in ("number", "integer"):
                value = attribute["minimum"] if attribute["minimum"] is not None else 1
            if value is not None:
                example[f"{SPEC_PREFIX}{attribute['name']}"] = value
    return [example.get(header, "") for header in headers]


def template_file(fmt: str) -> tuple[bytes, str]:
    """The import template as (content, content type): the columns, an example row and, in .xlsx, a sheet
    of the spec attributes each product family takes with their allowed values."""
    headers = template_headers()
    example = _example_row(headers)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(headers)
        writer.writerow(example)
        return ("\ufeff" + buffer.getvalue()).encode("utf-8"), "text/csv; charset=utf-8"
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.worksheets[0]  # a new workbook's one (active) sheet
    sheet.title = "Orders"
    sheet.append(headers)
    sheet.append(example)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    columns = workbook.create_sheet("Columns")
    columns.append([_("Column"), _("Meaning")])
    for key, meaning in COLUMNS.items():
        columns.append([key, str(meaning)])
    specs = workbook.create_sheet("Spec values")
    specs.append(
        [
            _("Column"),
            _("Product family"),
            _("Attribute"),
            _("Type"),
            _("Allowed values"),
            _("Unit"),
            _("Minimum"),
            _("Maximum"),
            _("Required"),
        ]
    )
    for column, family, attribute in spec_columns():
        specs.append(
            [
                column,
                f"{family.code} · {family.name}",
                attribute["label"],
                attribute["type"],
                ", ".join(str(v) for v in attribute["enum"] or []),
                attribute["unit"],
                attribute["minimum"],
                attribute["maximum"],
                _("yes") if attribute["required"] else "",
            ]
        )
    products = workbook.create_sheet("Products")
    products.append([_("SKU"), _("Name"), _("Product family"), _("Unit")])
    for product in Product.objects.filter(is_active=True).select_related("family").order_by("sku"):
        products.append([product.sku, product.name, product.family.code, product.unit])
    content = io.BytesIO()
    workbook.save(content)
    return content.getvalue(), XLSX_CONTENT_TYPE


# --- reading a file ------------------------------------------------------------------------------------
class FileRejected(ValidationFailed):
    default_code = "bad_file"


def _reject(message: str) -> FileRejected:
    return FileRejected(message, fields={"file": [message]})


class RowError(TypedDict):
    """One problem of the file, named by its spreadsheet row (0: the whole file) and column."""

    row: int
    column: str
    message: str


@dataclass
class Sheet:
    headers: list[str]
    rows: list[tuple[int, dict[str, Any]]]  # (spreadsheet row number, column -> value)
    errors: list[RowError] = field(default_factory=list)


def _normalise_header(value: Any) -> str:
    return str(value or "").strip().lower().replace(" ", "_")


def _check_headers(headers: list[str]) -> None:
    known = set(COLUMNS)
    unknown = [h for h in headers if h and h not in known and not h.startswith(SPEC_PREFIX)]
    missing = [h for h in REQUIRED if h not in headers]
    duplicated = sorted({h for h in headers if h and headers.count(h) > 1})
    problems = []
    if missing:
        problems.append(_("missing columns: %(columns)s") % {"columns": ", ".join(missing)})
    if unknown:
        problems.append(_("unknown columns: %(columns)s") % {"columns": ", ".join(unknown)})
    if duplicated:
        problems.append(_("repeated columns: %(columns)s") % {"columns": ", ".join(duplicated)})
    if problems:
        raise _reject(
            _(
                "The columns do not match the template (%(problems)s). "
                "Download the template and use its header row."
            )
            % {"problems": "; ".join(problems)}
        )


def _row_limit() -> int:
    return settings.IMPORT_MAX_ROWS


def _read_csv(content: bytes, encoding: str) -> Sheet:
    if b"\x00" in content[:4096]:
        raise _reject(_("This is not a CSV text file. Upload an .xlsx or a .csv file."))
    try:
        text = content.decode("utf-8-sig" if encoding == "utf-8" else encoding)
    except UnicodeDecodeError as exc:
        raise _reject(
            _(
                'The file is not valid %(encoding)s text (byte %(position)s). Save it as "CSV UTF-8", or '
                "choose the GB18030 encoding for a CSV saved by a Chinese Excel."
            )
            % {"encoding": encoding.upper(), "position": exc.start}
        ) from exc
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header_row = next(reader, None)
        if header_row is None:
            raise _reject(_("The file is empty."))
        headers = [_normalise_header(h) for h in header_row]
        _check_headers(headers)
        sheet = Sheet(headers=headers, rows=[])
        for number, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            if len(sheet.rows) >= _row_limit():
                raise _reject(_("The file has more than %(max)s rows: split it.") % {"max": _row_limit()})
            row = {}
            for header, value in zip(headers, values, strict=False):
                value = value.strip()
                if value.startswith("="):
                    sheet.errors.append(
                        {
                            "row": number,
                            "column": header,
                            "message": _("Formulas are not allowed: enter the value."),
                        }
                    )
                row[header] = value
            sheet.rows.append((number, row))
    except csv.Error as exc:
        raise _reject(_("The CSV file cannot be read: %(error)s") % {"error": exc}) from exc
    return sheet


def _read_xlsx(content: bytes) -> Sheet:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise _reject(_("This is not an Excel (.xlsx) file. Upload an .xlsx or a .csv file.")) from exc
    if unpacked > max(len(content), 1) * MAX_UNPACKED_RATIO or unpacked > settings.IMPORT_MAX_BYTES * 20:
        raise _reject(_("The spreadsheet unpacks to far more data than it weighs: refused."))
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise _reject(
            _("This Excel file cannot be read (is it an .xlsx saved by Excel or LibreOffice?).")
        ) from exc
    try:
        worksheet = workbook.worksheets[0]
        rows = worksheet.iter_rows()
        header_cells = next(rows, None)
        if header_cells is None:
            raise _reject(_("The file is empty."))
        headers = [_normalise_header(cell.value) for cell in header_cells]
        while headers and not headers[-1]:
            headers.pop()
        _check_headers(headers)
        sheet = Sheet(headers=headers, rows=[])
        for number, cells in enumerate(rows, start=2):
            row: dict[str, Any] = {}
            for header, cell in zip(headers, cells, strict=False):
                value = cell.value
                if cell.data_type == "f" or (isinstance(value, str) and value.startswith("=")):
                    sheet.errors.append(
                        {
                            "row": number,
                            "column": header,
                            "message": _("Formulas are not allowed: enter the value."),
                        }
                    )
                    value = None
                if isinstance(value, str):
                    value = value.strip()
                row[header] = value
            if not any(v not in (None, "") for v in row.values()):
                continue
            if len(sheet.rows) >= _row_limit():
                raise _reject(_("The file has more than %(max)s rows: split it.") % {"max": _row_limit()})
            sheet.rows.append((number, row))
    finally:
        workbook.close()
    return sheet


def read_sheet(job: ImportJob) -> Sheet:
    content = bytes(job.content)
    if job.file_format == "xlsx":
        return _read_xlsx(content)
    return _read_csv(content, job.encoding)


# --- validating ----------------------------------------------------------------------------------------
@dataclass
class PlannedOrder:
    external_ref: str
    rows: list[int]
    customer: Customer | None
    header: dict[str, Any]
    lines: list[dict]
    exists: bool = False


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(_("Enter a date as YYYY-MM-DD.")) from None


def _number(value: Any) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise ValueError(_("Enter a number.")) from None
    if not number.is_finite():
        raise ValueError(_("Enter a number."))
    return number


def _spec_value(value: Any, kind: str) -> Any:
    if kind in ("number", "integer"):
        number = _number(value)
        if kind == "integer":
            if number != number.to_integral():
                raise ValueError(_("Enter a whole number."))
            return int(number)
        return int(number) if number == number.to_integral() else float(number)
    if kind == "boolean":
        text = _text(value).lower()
        if text in ("1", "true", "yes", "y", "是"):
            return True
        if text in ("0", "false", "no", "n", "否"):
            return False
        raise ValueError(_("Enter yes or no."))
    return _text(value)


# Where a service error key points in the file: (column, index of the line whose row it is, if any).
def _locate(key: str, order: PlannedOrder) -> tuple[int, str]:
    if key.startswith("lines["):
        index = int(key[6 : key.index("]")])
        rest = key[key.index("]") + 2 :]
        row = order.rows[index] if index < len(order.rows) else order.rows[0]
        if rest.startswith("spec_values"):
            attribute = rest[len("spec_values.") :]
            return row, f"{SPEC_PREFIX}{attribute}" if attribute else "spec"
        return row, {"product": "sku", "due_date": "line_due_date"}.get(rest, rest)
    return order.rows[0], {"customer": "customer_code"}.get(key, key)


def plan_orders(sheet: Sheet, *, check_rules: bool = True) -> tuple[list[PlannedOrder], list[RowError]]:
    """Group rows into orders and check every value; errors name their row and column.

    `check_rules` also runs the order rules (orders.sales.order_create_errors) on every new order:
    the
    preview needs them; the import itself leaves them to order_create, which checks them anyway.
    """
    errors = list(sheet.errors)
    customers = {c.code.lower(): c for c in Customer.objects.all()}
    products = {p.sku.lower(): p for p in Product.objects.select_related("family")}
    orders: dict[str, PlannedOrder] = {}
    for number, row in sheet.rows:

        def error(column: str, message: str, number: int = number) -> None:
            errors.append({"row": number, "column": column, "message": str(message)})

        ref = _text(row.get("external_ref"))
        if not ref:
            error("external_ref", _("This field is required."))
            continue
        if len(ref) > 100:
            error("external_ref", _("At most 100 characters."))
            continue
        header: dict[str, Any] = {}
        for column in ORDER_COLUMNS:
            value = row.get(column)
            try:
                if column in ("requested_date", "promised_date"):
                    header[column] = _date(value)
                elif column == "priority":
                    header[column] = int(_number(value)) if value not in (None, "") else None
                else:
                    header[column] = _text(value)
            except ValueError as exc:
                error(column, str(exc))
                header[column] = None
        customer = customers.get(header["customer_code"].lower()) if header.get("customer_code") else None
        if not header.get("customer_code"):
            error("customer_code", _("This field is required."))
        elif customer is None:
            error(
                "customer_code", _("No customer has the code %(code)s.") % {"code": header["customer_code"]}
            )
        sku = _text(row.get("sku"))
        product = products.get(sku.lower()) if sku else None
        if not sku:
            error("sku", _("This field is required."))
        elif product is None:
            error("sku", _("No product has the SKU %(sku)s.") % {"sku": sku})
        quantity = row.get("quantity")
        if quantity in (None, ""):
            error("quantity", _("This field is required."))
        else:
            try:
                quantity = _number(quantity)
            except ValueError as exc:
                error("quantity", str(exc))
        spec: dict[str, Any] = {}
        if product is not None:
            kinds = {a["name"]: a["type"] for a in spec_fields(product.family.spec_schema or {})}
            for column, value in row.items():
                if not column.startswith(SPEC_PREFIX) or value in (None, ""):
                    continue
                name = column[len(SPEC_PREFIX) :]
                if name not in kinds:
                    error(
                        column,
                        _("Products of family %(family)s have no attribute %(name)s.")
                        % {"family": product.family.code, "name": name},
                    )
                    continue
                try:
                    spec[name] = _spec_value(value, kinds[name])
                except ValueError as exc:
                    error(column, str(exc))
        try:
            due = _date(row.get("line_due_date"))
        except ValueError as exc:
            error("line_due_date", str(exc))
            due = None
        line = {"product": product, "quantity": quantity, "spec_values": spec}
        if due:
            line["due_date"] = due
        order = orders.get(ref)
        if order is None:
            orders[ref] = PlannedOrder(ref, [number], customer, header, [line])
            continue
        for column in ORDER_COLUMNS:
            if header.get(column) not in (None, "") and header.get(column) != order.header.get(column):
                error(
                    column,
                    _("Differs from row %(row)s of the same order (%(ref)s).")
                    % {"row": order.rows[0], "ref": ref},
                )
        order.rows.append(number)
        order.lines.append(line)

    existing = set(
        SalesOrder.objects.filter(external_ref__in=list(orders)).values_list("external_ref", flat=True)
    )
    failed_rows = {e["row"] for e in errors}
    to_check = []
    for order in orders.values():
        order.exists = order.external_ref in existing
        if check_rules and not order.exists and not failed_rows.intersection(order.rows):
            to_check.append(order)
    # The order rules of orders.sales, on every new order at once (a few queries, not some per
    # order).
    problems_of = sales.order_create_many_errors(
        orders=[_new_order(order, filename="") for order in to_check]
    )
    for order, problems in zip(to_check, problems_of, strict=True):
        for key, messages in problems.items():
            row_number, column = _locate(key, order)
            for message in messages:
                errors.append({"row": row_number, "column": column, "message": str(message)})
    errors.sort(key=lambda e: (e["row"], e["column"]))
    return list(orders.values()), errors


# --- the services --------------------------------------------------------------------------------------
def _enqueue(task_name: str, job_id: int) -> None:
    def send() -> None:
        from orders import tasks

        try:
            getattr(tasks, task_name).delay(job_id)
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
        raise _reject(_("Upload an .xlsx or a .csv file."))
    if not content:
        raise _reject(_("The file is empty."))
    if len(content) > settings.IMPORT_MAX_BYTES:
        raise _reject(
            _("The file is larger than %(size)s MB: split it.")
            % {"size": settings.IMPORT_MAX_BYTES // 1048576}
        )
    if extension == "xlsx" and not content.startswith(b"PK\x03\x04"):
        raise _reject(_("This is not an Excel (.xlsx) file. Upload an .xlsx or a .csv file."))
    if encoding not in dict(ENCODINGS):
        raise ValidationFailed(
            _("Choose a valid encoding."), fields={"encoding": [_("Choose a valid encoding.")]}
        )
    job = ImportJob(
        created_by=actor, filename=name[:255], file_format=extension, encoding=encoding, content=content
    )
    stamp(job, actor=actor, reason=_("File uploaded"))
    job.save()
    _enqueue("import_validate", job.pk)
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
    _enqueue("import_validate", job.pk)
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
        job.preview = [_preview(order) for order in planned if not order.exists][:PREVIEW_ORDERS]
        if errors:
            job.mark_invalid()
        elif job.orders_new == 0 and not job.orders_existing:
            job.errors = [{"row": 0, "column": "", "message": _("The file has no order rows.")}]
            job.mark_invalid()
        else:
            job.mark_valid()
        stamp(job, actor=job.created_by, reason=_("File validated"))
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


@transaction.atomic
def import_job_commit(*, actor: User, job: ImportJob | int) -> ImportJob:
    """The uploader confirms a valid preview: the import is queued after commit."""
    pk = job.pk if isinstance(job, ImportJob) else job
    job = ImportJob.objects.select_for_update().get(pk=pk)
    if job.status != ImportJobStatus.VALID:
        raise Conflict(
            _("This file is %(status)s: it cannot be imported now.") % {"status": job.get_status_display()},
            code="import_not_valid",
        )
    if not job.start_import._django_fsm.has_transition_perm(job, job.status, actor):
        raise refused(actor, "import_job_commit", str(job.pk), "not the uploader")
    job.start_import()
    stamp(job, actor=actor, reason=_("Import started"))
    job.save()
    _set_progress(job.pk, 0, job.orders_new, phase="checking")
    _enqueue("import_run", job.pk)
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
        try:
            # A savepoint: a failure rolls back every order of the file, and the job keeps its claim to
            # record the failure in this same transaction.
            with transaction.atomic():
                planned, errors = plan_orders(read_sheet(job), check_rules=False)
                if errors:
                    raise ValidationFailed(_("The file has errors since its preview: nothing was imported."))
                todo = [order for order in planned if not order.exists]
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
            stamp(job, actor=actor, reason=_("Import failed: nothing was saved"))
            job.save()
            return job
        job.created_order_numbers = created
        job.mark_done()
        job.finished_at = timezone.now()
        stamp(job, actor=actor, reason=_("Imported %(count)s orders") % {"count": len(created)})
        job.save()
    _set_progress(job_id, len(created), len(created))
    return job


class RowFailed(ValidationFailed):
    row = 0


def _new_order(order: PlannedOrder, *, filename: str) -> sales.NewOrder:
    return sales.NewOrder(
        customer=order.customer,
        lines=order.lines,
        customer_po=order.header["customer_po"] or "",
        crm_id=order.header["crm_id"] or "",
        requested_date=order.header["requested_date"],
        promised_date=order.header["promised_date"],
        priority=order.header["priority"],
        priority_reason=order.header["priority_reason"] or "",
        remarks=order.header["remarks"] or "",
        external_ref=order.external_ref,
        reason=_("Imported from %(file)s, row %(row)s") % {"file": filename, "row": order.rows[0]},
    )


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
            orders=[_new_order(order, filename=filename) for order in todo],
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
