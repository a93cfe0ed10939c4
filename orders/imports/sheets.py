"""The import sheet: its columns, the template to fill in, and reading an uploaded file into rows.

Malformed files get one clear error (FileRejected) and nothing is saved: not a spreadsheet, a zip bomb,
more rows than IMPORT_MAX_ROWS, text that is not in the chosen encoding, missing or unknown columns.
Formulas are reported per cell (a spreadsheet's formulas are not data we can trust: their cached values
may be stale), and so is text a spreadsheet would run as one (=, +, -, @ first, unless a plain number such
as -5: config.tables.formula_like): refused, not neutralised, because imported values go on to the CRM,
the MES and everyone's exports, and "- urgent" silently becoming "'- urgent" would be a wrong value.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypedDict

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.kernel.errors import ValidationFailed
from config.tables import XLSX_CONTENT_TYPE, csv_lines, formula_like, safe_cell
from orders.catalog import spec_fields
from orders.catalog.models import Customer, Product, ProductFamily
from orders.imports.models import ImportJob

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
    "promised_time": gettext_lazy("Promised time (HH:MM, plant time; empty: by the end of the day)"),
    "start_not_before": gettext_lazy(
        "Production not before (YYYY-MM-DD HH:MM, plant time: material ready, drawing approved)"
    ),
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
    "promised_time",
    "start_not_before",
    "priority",
    "priority_reason",
    "remarks",
)
SPEC_PREFIX = "spec."
ENCODINGS = (("utf-8", gettext_lazy("UTF-8 (Excel: CSV UTF-8)")), ("gb18030", gettext_lazy("GB18030 / GBK")))
# An .xlsx is a zip: refuse one that would unpack to far more than it weighs (a zip bomb).
MAX_UNPACKED_RATIO = 100


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
        # The first allowed value, the schema's own example, or the minimum: a row that passes the checks
        # (a powder-coated enclosure needs its RAL colour, which the schema's `examples` gives).
        for attribute in spec_fields(product.family.spec_schema or {}):
            value = (attribute["enum"] or attribute["examples"] or [None])[0]
            if value is None and attribute["type"] in ("number", "integer"):
                value = attribute["minimum"] if attribute["minimum"] is not None else 1
            if value is not None:
                example[f"{SPEC_PREFIX}{attribute['name']}"] = value
    return [example.get(header, "") for header in headers]


def _append(sheet: Any, values: list[Any]) -> None:
    """A row of the template workbook; openpyxl would store text starting with = as a formula."""
    sheet.append([safe_cell(value) for value in values])


def template_file(fmt: str) -> tuple[bytes, str]:
    """The import template as (content, content type): the columns, an example row and, in .xlsx, a sheet
    of the spec attributes each product family takes with their allowed values."""
    headers = template_headers()
    example = _example_row(headers)
    if fmt == "csv":
        # Through the exports' writer: names from the catalogue that look like formulas go out defused.
        return "".join(csv_lines(headers, [example])).encode("utf-8"), "text/csv; charset=utf-8"
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.worksheets[0]  # a new workbook's one (active) sheet
    sheet.title = "Orders"
    _append(sheet, headers)
    _append(sheet, example)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    columns = workbook.create_sheet("Columns")
    _append(columns, [_("Column"), _("Meaning")])
    for key, meaning in COLUMNS.items():
        _append(columns, [key, str(meaning)])
    specs = workbook.create_sheet("Spec values")
    _append(
        specs,
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
        ],
    )
    for column, family, attribute in spec_columns():
        _append(
            specs,
            [
                column,
                f"{family.code} · {family.name}",
                attribute["label"],
                attribute["type"],
                # The codes go in the cells; the labels say what each code means.
                ", ".join(
                    f"{value} ({label})" if str(value) != label else str(value)
                    for value, label in attribute["choices"] or []
                ),
                attribute["unit"],
                attribute["minimum"],
                attribute["maximum"],
                _("yes") if attribute["required"] else " ".join(attribute["required_when"]),
            ],
        )
    products = workbook.create_sheet("Products")
    _append(products, [_("SKU"), _("Name"), _("Product family"), _("Unit")])
    for product in Product.objects.filter(is_active=True).select_related("family").order_by("sku"):
        _append(products, [product.sku, product.name, product.family.code, product.unit])
    content = io.BytesIO()
    workbook.save(content)
    return content.getvalue(), XLSX_CONTENT_TYPE


# --- reading a file ------------------------------------------------------------------------------------
class FileRejected(ValidationFailed):
    default_code = "bad_file"


def reject_file(message: str) -> FileRejected:
    """The one error of a file that cannot be imported at all, shown on its upload field."""
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


HeaderCheck = Callable[[list[str]], None]


def _normalise_header(value: Any) -> str:
    return str(value or "").strip().lower().replace(" ", "_")


def _check_headers(
    headers: list[str],
    *,
    columns: Iterable[str] = COLUMNS,
    required: Iterable[str] = REQUIRED,
    prefix: str | None = SPEC_PREFIX,
) -> None:
    known = set(columns)
    unknown = [h for h in headers if h and h not in known and not (prefix and h.startswith(prefix))]
    missing = [h for h in required if h not in headers]
    duplicated = sorted({h for h in headers if h and headers.count(h) > 1})
    problems = []
    if missing:
        problems.append(_("missing columns: %(columns)s") % {"columns": ", ".join(missing)})
    if unknown:
        problems.append(_("unknown columns: %(columns)s") % {"columns": ", ".join(unknown)})
    if duplicated:
        problems.append(_("repeated columns: %(columns)s") % {"columns": ", ".join(duplicated)})
    if problems:
        raise reject_file(
            _(
                "The columns do not match the template (%(problems)s). "
                "Download the template and use its header row."
            )
            % {"problems": "; ".join(problems)}
        )


def _formula_error(row: int, column: str) -> RowError:
    return {
        "row": row,
        "column": column,
        "message": _(
            "Text may not start with =, +, - or @ unless it is a number (a spreadsheet would run it as a "
            "formula): enter the value without that sign."
        ),
    }


def _row_limit() -> int:
    return settings.IMPORT_MAX_ROWS


def _read_csv(content: bytes, encoding: str, check: HeaderCheck = _check_headers) -> Sheet:
    if b"\x00" in content:  # no text holds one (and no database text column takes one)
        raise reject_file(_("This is not a CSV text file. Upload an .xlsx or a .csv file."))
    try:
        text = content.decode("utf-8-sig" if encoding == "utf-8" else encoding)
    except UnicodeDecodeError as exc:
        raise reject_file(
            _(
                'The file is not valid %(encoding)s text (byte %(position)s). Save it as "CSV UTF-8", or '
                "choose the GB18030 encoding for a CSV saved by a Chinese Excel."
            )
            % {"encoding": encoding.upper(), "position": exc.start}
        ) from exc
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        # The sniffer gives up on some files (long or quoted cells): the header row, which holds only column
        # names, tells the delimiter (Excel writes "," or, in many locales, ";"; tab-separated files "\t").
        dialect = csv.excel
        header_line = text.split("\n", 1)[0]
        delimiter = max(",;\t", key=header_line.count)
    reader = csv.reader(io.StringIO(text), dialect, delimiter=delimiter)
    try:
        header_row = next(reader, None)
        if header_row is None:
            raise reject_file(_("The file is empty."))
        headers = [_normalise_header(h) for h in header_row]
        check(headers)
        sheet = Sheet(headers=headers, rows=[])
        for number, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            if len(sheet.rows) >= _row_limit():
                raise reject_file(_("The file has more than %(max)s rows: split it.") % {"max": _row_limit()})
            row = {}
            for header, value in zip(headers, values, strict=False):
                value = value.strip()
                if formula_like(value):
                    sheet.errors.append(_formula_error(number, header))
                row[header] = value
            sheet.rows.append((number, row))
    except csv.Error as exc:
        raise reject_file(_("The CSV file cannot be read: %(error)s") % {"error": exc}) from exc
    return sheet


def _read_xlsx(content: bytes, check: HeaderCheck = _check_headers) -> Sheet:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise reject_file(_("This is not an Excel (.xlsx) file. Upload an .xlsx or a .csv file.")) from exc
    if unpacked > max(len(content), 1) * MAX_UNPACKED_RATIO or unpacked > settings.IMPORT_MAX_BYTES * 20:
        raise reject_file(_("The spreadsheet unpacks to far more data than it weighs: refused."))
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise reject_file(
            _("This Excel file cannot be read (is it an .xlsx saved by Excel or LibreOffice?).")
        ) from exc
    try:
        worksheet = workbook.worksheets[0]
        rows = worksheet.iter_rows()
        header_cells = next(rows, None)
        if header_cells is None:
            raise reject_file(_("The file is empty."))
        headers = [_normalise_header(cell.value) for cell in header_cells]
        while headers and not headers[-1]:
            headers.pop()
        check(headers)
        sheet = Sheet(headers=headers, rows=[])
        for number, cells in enumerate(rows, start=2):
            row: dict[str, Any] = {}
            for header, cell in zip(headers, cells, strict=False):
                value = cell.value.strip() if isinstance(cell.value, str) else cell.value
                if cell.data_type == "f":
                    sheet.errors.append(
                        {
                            "row": number,
                            "column": header,
                            "message": _("Formulas are not allowed: enter the value."),
                        }
                    )
                    value = None
                elif isinstance(value, str) and formula_like(value):
                    sheet.errors.append(_formula_error(number, header))
                    value = None
                row[header] = value
            if not any(v not in (None, "") for v in row.values()):
                continue
            if len(sheet.rows) >= _row_limit():
                raise reject_file(_("The file has more than %(max)s rows: split it.") % {"max": _row_limit()})
            sheet.rows.append((number, row))
    finally:
        workbook.close()
    return sheet


def read_sheet(job: ImportJob) -> Sheet:
    content = bytes(job.content)
    if job.file_format == "xlsx":
        return _read_xlsx(content)
    return _read_csv(content, job.encoding)


def read_table(
    content: bytes,
    *,
    filename: str,
    columns: Iterable[str],
    required: Iterable[str],
    encoding: str = "utf-8",
) -> Sheet:
    """Another sheet than orders' (BOMs, stock, purchase orders) read with the same rules: .xlsx or .csv by
    the file name, the size and row limits, formulas refused per cell, the header row checked against
    `columns` (FileRejected for a file that cannot be imported at all)."""
    if len(content) > settings.IMPORT_MAX_BYTES:
        raise reject_file(
            _("The file is larger than %(size)s MB: split it.")
            % {"size": settings.IMPORT_MAX_BYTES // 1048576}
        )
    names, needed = list(columns), list(required)

    def check(headers: list[str]) -> None:
        _check_headers(headers, columns=names, required=needed, prefix=None)

    if filename.lower().endswith(".xlsx"):
        return _read_xlsx(content, check)
    if filename.lower().endswith(".csv"):
        return _read_csv(content, encoding, check)
    raise reject_file(_("Upload an .xlsx or a .csv file."))
